/**
 * Training and evaluation windows: ncond context frames followed by npred target frames of one
 * episode, turned into the forward model's normalised inputs (plain typed arrays, no tfjs, so
 * that a worker thread can build them ahead of the compute).
 *
 * Units: images / 255; ego states (x, y px; vx, vy px/s) and actions (a px/s^2, b 1/px)
 * standardised with the dataset's training-split statistics. Frame convention of the dataset:
 * images[t] and states[t] are the same instant, actions[t] leads from t to t + 1, so the action
 * of predicted step k (target frame s + ncond + k) is actions[s + ncond - 1 + k].
 */
import { Rng } from '../../common/rng.js';
import { UserError } from '../../common/errors.js';
import type { Episode, EpisodeMeta, NormStats, Split } from '../../data/dataset-types.js';
import { ACTION_DIM, checkLengths, IMAGE_H, IMAGE_W, STATE_DIM, STATE_ROWS } from '../../data/layout.js';

/** Where episodes come from (data/dataset.ts Dataset, or a cache in front of it). */
export interface EpisodeSource {
  episodes(split?: Split): EpisodeMeta[];
  load(meta: EpisodeMeta): Episode;
}

export interface WindowShape {
  batch: number;
  ncond: number;
  npred: number;
  channels: number;
}

/**
 * A batch of uniform random values in the layout of `shape` (images in [0, 1], states and
 * actions in [-1, 1]), for benchmarks and tests whose timing or numerics do not need real windows.
 */
export function randomWindowBatch(shape: WindowShape, seed: number): WindowBatch {
  const rng = new Rng(seed);
  const fill = (n: number, lo: number, hi: number) => Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
  const { batch, ncond, npred, channels } = shape;
  return {
    ...shape,
    ctxImages: fill(batch * IMAGE_H * IMAGE_W * ncond * channels, 0, 1),
    ctxStates: fill(batch * ncond * STATE_DIM, -1, 1),
    actions: fill(npred * batch * ACTION_DIM, -1, 1),
    targetImages: fill(npred * batch * IMAGE_H * IMAGE_W * channels, 0, 1),
    targetStates: fill(npred * batch * STATE_DIM, -1, 1),
    episodeIds: Array(batch).fill('random'),
    starts: Array(batch).fill(0),
  };
}

/** A batch of windows, time-major where a step index comes first. */
export interface WindowBatch extends WindowShape {
  /** [B, H, W, ncond * C], oldest frame first, in [0, 1]. */
  ctxImages: Float32Array;
  /** [B, ncond * 4], standardised. */
  ctxStates: Float32Array;
  /** [npred, B, 2], standardised. */
  actions: Float32Array;
  /** [npred, B, H, W, C], in [0, 1]. */
  targetImages: Float32Array;
  /** [npred, B, 4], standardised. */
  targetStates: Float32Array;
  /** Episode id and first context frame of each window. */
  episodeIds: string[];
  starts: number[];
}

/** The shape of each array of a batch of `shape` (sizes from data/layout.ts). */
export function windowBatchShapes(shape: WindowShape) {
  const { batch: B, ncond, npred, channels: C } = shape;
  return {
    ctxImages: [B, IMAGE_H, IMAGE_W, ncond * C],
    ctxStates: [B, ncond * STATE_DIM],
    actions: [npred, B, ACTION_DIM],
    targetImages: [npred, B, IMAGE_H, IMAGE_W, C],
    targetStates: [npred, B, STATE_DIM],
    episodeIds: [B],
    starts: [B],
  };
}

/**
 * Throws when an array of `b` does not have the length its declared shape (batch, ncond, npred,
 * channels) needs, naming the array; returns `b`. Called where batches are built (assembleBatch,
 * sliceBatch, batches from another thread) and where they enter the compute (batchTensors).
 */
export function checkWindowBatch(b: WindowBatch, what = 'window batch'): WindowBatch {
  checkLengths(what, b as unknown as Record<string, ArrayLike<unknown>>, windowBatchShapes(b));
  return b;
}

export interface WindowRef {
  meta: EpisodeMeta;
  start: number;
}

/** Episodes long enough for a window of `frames` frames, with their number of windows. */
export function windowCounts(metas: EpisodeMeta[], frames: number): Array<{ meta: EpisodeMeta; windows: number }> {
  return metas.map((meta) => ({ meta, windows: meta.length - frames + 1 })).filter((e) => e.windows > 0);
}

/**
 * Picks `batch` windows uniformly over all windows of the episodes (an episode is chosen with
 * probability proportional to its number of windows).
 */
export function sampleWindows(metas: EpisodeMeta[], frames: number, batch: number, rng: Rng, what = 'split'): WindowRef[] {
  const counts = windowCounts(metas, frames);
  if (counts.length === 0) throw new UserError(`field episodes: no ${what} episode has the ${frames} frames a window needs (ncond + npred)`);
  const cum: number[] = [];
  let total = 0;
  for (const c of counts) cum.push((total += c.windows));
  const out: WindowRef[] = [];
  for (let i = 0; i < batch; i++) {
    const r = rng.int(total);
    let lo = 0;
    let hi = cum.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cum[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    const c = counts[lo]!;
    out.push({ meta: c.meta, start: r - (cum[lo]! - c.windows) });
  }
  return out;
}

/** Fills a batch from window references (episodes loaded through `source`). */
export function assembleBatch(source: EpisodeSource, refs: WindowRef[], shape: Omit<WindowShape, 'batch'>, stats: NormStats): WindowBatch {
  const { ncond, npred, channels: C } = shape;
  const B = refs.length;
  const HW = IMAGE_H * IMAGE_W;
  const frameSize = HW * C;
  const ctxImages = new Float32Array(B * HW * ncond * C);
  const ctxStates = new Float32Array(B * ncond * STATE_DIM);
  const actions = new Float32Array(npred * B * ACTION_DIM);
  const targetImages = new Float32Array(npred * B * frameSize);
  const targetStates = new Float32Array(npred * B * STATE_DIM);
  const inv255 = 1 / 255;
  const egoState = (ep: Episode, t: number, out: Float32Array, at: number) => {
    for (let k = 0; k < STATE_DIM; k++) out[at + k] = (ep.states[t * STATE_ROWS * STATE_DIM + k]! - stats.stateMean[k]!) / stats.stateStd[k]!;
  };
  refs.forEach((ref, b) => {
    const ep = source.load(ref.meta);
    const s = ref.start;
    if (s < 0 || s + ncond + npred > ep.meta.length) throw new Error(`window [${s}, ${s + ncond + npred}) outside episode ${ref.meta.id} of ${ep.meta.length} frames`);
    const chans = ep.images.length / (ep.meta.length * HW);
    if (chans !== C) throw new UserError(`episode ${ref.meta.id}: images have ${chans} channels, the model expects ${C}`);
    // Context: pixel-major, then frame, then channel.
    const ctxBase = b * HW * ncond * C;
    for (let f = 0; f < ncond; f++) {
      const src = (s + f) * frameSize;
      for (let p = 0; p < HW; p++) {
        const o = ctxBase + (p * ncond + f) * C;
        const i = src + p * C;
        for (let c = 0; c < C; c++) ctxImages[o + c] = ep.images[i + c]! * inv255;
      }
      egoState(ep, s + f, ctxStates, (b * ncond + f) * STATE_DIM);
    }
    for (let k = 0; k < npred; k++) {
      const t = s + ncond + k;
      const src = t * frameSize;
      const dst = (k * B + b) * frameSize;
      for (let i = 0; i < frameSize; i++) targetImages[dst + i] = ep.images[src + i]! * inv255;
      egoState(ep, t, targetStates, (k * B + b) * STATE_DIM);
      const a = t - 1;
      for (let j = 0; j < ACTION_DIM; j++) actions[(k * B + b) * ACTION_DIM + j] = (ep.actions[a * ACTION_DIM + j]! - stats.actionMean[j]!) / stats.actionStd[j]!;
    }
  });
  return checkWindowBatch({
    batch: B, ncond, npred, channels: C, ctxImages, ctxStates, actions, targetImages, targetStates,
    episodeIds: refs.map((r) => r.meta.id), starts: refs.map((r) => r.start),
  });
}

/** The typed arrays of a batch (for zero-copy transfer between threads). */
export function batchBuffers(b: WindowBatch): ArrayBuffer[] {
  return [b.ctxImages, b.ctxStates, b.actions, b.targetImages, b.targetStates].map((a) => a.buffer as ArrayBuffer);
}

/** Rows [from, to) of a batch (a worker's share in data-parallel training). */
export function sliceBatch(b: WindowBatch, from: number, to: number): WindowBatch {
  checkWindowBatch(b);
  const n = to - from;
  const HW = IMAGE_H * IMAGE_W;
  const perCtx = HW * b.ncond * b.channels;
  const frame = HW * b.channels;
  const timeMajor = (src: Float32Array, per: number) => {
    const out = new Float32Array(b.npred * n * per);
    for (let k = 0; k < b.npred; k++) out.set(src.subarray((k * b.batch + from) * per, (k * b.batch + to) * per), k * n * per);
    return out;
  };
  return checkWindowBatch({
    batch: n, ncond: b.ncond, npred: b.npred, channels: b.channels,
    ctxImages: b.ctxImages.slice(from * perCtx, to * perCtx),
    ctxStates: b.ctxStates.slice(from * b.ncond * STATE_DIM, to * b.ncond * STATE_DIM),
    actions: timeMajor(b.actions, ACTION_DIM),
    targetImages: timeMajor(b.targetImages, frame),
    targetStates: timeMajor(b.targetStates, STATE_DIM),
    episodeIds: b.episodeIds.slice(from, to), starts: b.starts.slice(from, to),
  });
}
