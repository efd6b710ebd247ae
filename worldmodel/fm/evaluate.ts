/**
 * Forward-model evaluation: autoregressive prediction from real context frames with the logged
 * actions (dropout off, z from the prior for the VAE), scored at several horizons against two
 * baselines computed on the same windows:
 *   copy-last: the last context frame / state repeated;
 *   constant velocity (states): position += h * DT_S * velocity of the last context state.
 * Image MSE is per pixel on [0, 1] values; state MSE is per component in standardised units.
 * Diversity: variance between `samples` predictions with different z (0 for a deterministic
 * model), mean over pixels.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../common/rng.js';
import { UserError } from '../../common/errors.js';
import type { Split } from '../../data/dataset-types.js';
import type { NormStats } from '../../data/dataset-types.js';
import { DT_S, IMAGE_H, IMAGE_W, STATE_DIM } from '../../data/layout.js';
import type { ForwardModel } from './model.js';
import { FmNoise, mixSeed, STREAM } from './noise.js';
import { batchTensors } from './train-step.js';
import { assembleBatch, sampleWindows, type EpisodeSource, type WindowBatch } from './windows.js';
import type { FrameRows } from './frames-png.js';

export interface EvalOptions {
  split?: Split;
  horizons?: number[];
  /** Windows scored (sampled with a fixed seed from the split). */
  windows?: number;
  batch?: number;
  seed?: number;
  /** z samples per window for the diversity measure (>= 2). */
  samples?: number;
  /** Keep real and predicted frames of the first `frames` windows (for a picture). */
  frames?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface HorizonMetrics {
  horizon: number;
  image: { model: number; copyLast: number };
  state: { model: number; copyLast: number; constVelocity: number };
  diversity: number;
}

export interface EvalReport {
  split: Split;
  windows: number;
  episodes: number;
  horizons: HorizonMetrics[];
  /** Per horizon, whether the model's MSE is below both baselines (image: copy-last; state: both). */
  beatsBaselines: Array<{ horizon: number; image: boolean; state: boolean }>;
  frames: FrameRows | null;
}

/** Constant-velocity state prediction h steps after the last context state, standardised. */
function constVelocity(b: WindowBatch, row: number, h: number, stats: NormStats, out: Float32Array): void {
  const at = (row * b.ncond + b.ncond - 1) * STATE_DIM;
  const raw = [0, 1, 2, 3].map((k) => b.ctxStates[at + k]! * stats.stateStd[k]! + stats.stateMean[k]!);
  const pred = [raw[0]! + h * DT_S * raw[2]!, raw[1]! + h * DT_S * raw[3]!, raw[2]!, raw[3]!];
  for (let k = 0; k < STATE_DIM; k++) out[k] = (pred[k]! - stats.stateMean[k]!) / stats.stateStd[k]!;
}

export async function evaluateForwardModel(model: ForwardModel, source: EpisodeSource, stats: NormStats, opts: EvalOptions = {}): Promise<EvalReport> {
  const split = opts.split ?? 'val';
  const cfg = model.cfg;
  const metas = source.episodes(split);
  if (metas.length === 0) throw new UserError(`field split: the dataset has no '${split}' episodes`);
  const longest = Math.max(...metas.map((m) => m.length));
  const wanted = [...new Set(opts.horizons ?? [1, 5, 10, 20])].sort((a, b) => a - b);
  const horizons = wanted.filter((h) => cfg.ncond + h <= longest);
  if (horizons.length === 0) throw new UserError(`field horizons: no '${split}' episode is long enough for ncond ${cfg.ncond} + horizon ${wanted[0]} frames (longest: ${longest})`);
  const maxH = horizons[horizons.length - 1]!;
  const nWindows = opts.windows ?? 64;
  const bsz = opts.batch ?? 16;
  const seed = opts.seed ?? 1;
  const samples = Math.max(2, opts.samples ?? 2);
  const refs = sampleWindows(metas, cfg.ncond + maxH, nWindows, new Rng(mixSeed(seed, STREAM.eval)), split);
  const usedEpisodes = new Set(refs.map((r) => r.meta.id));

  const sums = horizons.map(() => ({ im: 0, imCopy: 0, st: 0, stCopy: 0, stCv: 0, div: 0 }));
  const frameCount = Math.min(opts.frames ?? 0, refs.length);
  const frames: FrameRows | null = frameCount > 0 ? { real: [], predicted: [], channels: cfg.channels } : null;
  const frameSize = IMAGE_H * IMAGE_W * cfg.channels;
  const cv = new Float32Array(STATE_DIM);
  for (let start = 0; start < refs.length; start += bsz) {
    const part = refs.slice(start, start + bsz);
    const batch = assembleBatch(source, part, { ncond: cfg.ncond, npred: maxH, channels: cfg.channels }, stats);
    const B = part.length;
    const batchIndex = start / bsz;
    // Per step t and row b: [image err, image copy err, state err, state copy err, diversity].
    const [errs, kept] = tf.tidy((): tf.Tensor[] => {
      const t = batchTensors(batch);
      const runs = Array.from({ length: samples }, (_, s) =>
        model.unroll(t.input, { actions: t.actions, noise: FmNoise.forStep(seed, batchIndex, false, STREAM.eval, s) }),
      );
      const last = model.lastFrame(t.input);
      const perRow = (x: tf.Tensor) => tf.mean(tf.reshape(x, [B, -1]), 1);
      const rows = horizons.map((h) => {
        const i = h - 1;
        const pred = runs[0]!;
        const stacked = tf.stack(runs.map((r) => r.images[i]!));
        const variance = tf.div(tf.sum(tf.square(tf.sub(stacked, tf.mean(stacked, 0, true))), 0), samples - 1);
        return tf.stack([
          perRow(tf.squaredDifference(pred.images[i]!, t.targetImages[i]!)),
          perRow(tf.squaredDifference(last.image, t.targetImages[i]!)),
          perRow(tf.squaredDifference(pred.states[i]!, t.targetStates[i]!)),
          perRow(tf.squaredDifference(last.state, t.targetStates[i]!)),
          perRow(variance),
        ]);
      });
      const kept = frames && frames.real.length < frameCount ? tf.stack(runs[0]!.images.map((im) => tf.slice(im, [0, 0, 0, 0], [Math.min(B, frameCount - frames.real.length), -1, -1, -1]))) : null;
      return kept ? [tf.stack(rows), kept] : [tf.stack(rows)];
    });
    // Read asynchronously: the webgpu backend cannot read synchronously in Node.
    const e = await errs!.data();
    errs!.dispose();
    horizons.forEach((h, hi) => {
      const base = hi * 5 * B;
      const s = sums[hi]!;
      for (let r = 0; r < B; r++) {
        s.im += e[base + r]!;
        s.imCopy += e[base + B + r]!;
        s.st += e[base + 2 * B + r]!;
        s.stCopy += e[base + 3 * B + r]!;
        s.div += e[base + 4 * B + r]!;
        constVelocity(batch, r, h, stats, cv);
        let d = 0;
        for (let k = 0; k < STATE_DIM; k++) d += (cv[k]! - batch.targetStates[((h - 1) * B + r) * STATE_DIM + k]!) ** 2;
        s.stCv += d / STATE_DIM;
      }
    });
    if (kept && frames) {
      const pred = (await kept.data()) as Float32Array;
      const n = kept.shape[1]!;
      for (let r = 0; r < n; r++) {
        const realRow: Float32Array[] = [];
        const predRow: Float32Array[] = [];
        for (let i = 0; i < maxH; i++) {
          realRow.push(batch.targetImages.slice((i * B + r) * frameSize, (i * B + r + 1) * frameSize));
          predRow.push(pred.slice((i * n + r) * frameSize, (i * n + r + 1) * frameSize));
        }
        frames.real.push(realRow);
        frames.predicted.push(predRow);
      }
      kept.dispose();
    }
    opts.onProgress?.(Math.min(refs.length, start + bsz), refs.length);
  }
  const n = refs.length;
  const metrics: HorizonMetrics[] = horizons.map((h, i) => {
    const s = sums[i]!;
    return {
      horizon: h,
      image: { model: s.im / n, copyLast: s.imCopy / n },
      state: { model: s.st / n, copyLast: s.stCopy / n, constVelocity: s.stCv / n },
      diversity: s.div / n,
    };
  });
  return {
    split, windows: n, episodes: usedEpisodes.size, horizons: metrics,
    beatsBaselines: metrics.map((m) => ({
      horizon: m.horizon,
      image: m.image.model < m.image.copyLast,
      state: m.state.model < Math.min(m.state.copyLast, m.state.constVelocity),
    })),
    frames,
  };
}
