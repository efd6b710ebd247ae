/**
 * A trained policy as a simulator controller (sim/controllers/controller.ts), batched: one
 * forward pass for all controlled cars of a lockstep step (in chunks of `chunk` rows).
 *
 * Input conversion, like the forward model's training windows (worldmodel/fm/windows.ts):
 * the controller batch holds uint8 HWC images [n, T, 117, 24, C], oldest first, and raw ego
 * states [n, T, 4] (px, px/s); the policy takes the last ncond frames as [n, 117, 24, ncond * C]
 * (pixel-major, then frame, then channel) divided by 255, and the states standardised with its
 * statistics. Output: the normalised action clamped to +-3, then un-normalised to a (px/s^2) and
 * b (1/px). A stochastic policy drives with its mean.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../common/errors.js';
import type { Controller, ControllerBatch } from '../sim/controllers/controller.js';
import { IMAGE_H, IMAGE_W, STATE_DIM } from '../data/layout.js';
import type { FmInput } from '../worldmodel/fm/model.js';
import type { LoadedPolicy } from './checkpoint.js';
import type { NormStats } from '../data/dataset-types.js';
import { ACTION_CLAMP } from './config.js';

export { ACTION_CLAMP };

/** The policy's input tensors for rows [from, to) of a controller batch (the caller disposes them). */
export function policyInput(batch: ControllerBatch, p: LoadedPolicy, from = 0, to = batch.n): FmInput {
  return contextInput(batch, p.policy.cfg.ncond, p.policy.cfg.channels, p.stats, `policy ${p.dir}`, from, to);
}

/** v / 255 for every byte value v, as float32 (what the division stores; a lookup is cheaper). */
const UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255);

/** The last `ncond` frames and states of rows [from, to), normalised as a model of `channels` channels with `stats` reads them. */
export function contextInput(batch: ControllerBatch, ncond: number, C: number, stats: NormStats, who: string, from = 0, to = batch.n): FmInput {
  const T = batch.contextFrames;
  if (T < ncond) throw new UserError(`${who} needs ${ncond} context frames, the environment buffers ${T}`);
  if (batch.channels !== C) throw new UserError(`${who} reads ${C}-channel images, the environment renders ${batch.channels} (dump and train with the same image variant)`);
  const n = to - from;
  const HW = IMAGE_H * IMAGE_W;
  const frame = HW * C;
  const images = new Float32Array(n * HW * ncond * C);
  const states = new Float32Array(n * ncond * STATE_DIM);
  const src = batch.images;
  const { stateMean, stateStd } = stats;
  for (let b = 0; b < n; b++) {
    const row = from + b;
    for (let f = 0; f < ncond; f++) {
      const t = T - ncond + f;
      const base = (row * T + t) * frame;
      const out = b * HW * ncond * C + f * C;
      const stride = ncond * C;
      if (C === 3) {
        for (let px = 0, o = out, i = base; px < HW; px++, o += stride, i += 3) {
          images[o] = UNIT[src[i]!]!;
          images[o + 1] = UNIT[src[i + 1]!]!;
          images[o + 2] = UNIT[src[i + 2]!]!;
        }
      } else {
        for (let px = 0, o = out, i = base; px < HW; px++, o += stride, i += C) for (let c = 0; c < C; c++) images[o + c] = UNIT[src[i + c]!]!;
      }
      for (let k = 0; k < STATE_DIM; k++) states[(b * ncond + f) * STATE_DIM + k] = (batch.states[(row * T + t) * STATE_DIM + k]! - stateMean[k]!) / stateStd[k]!;
    }
  }
  return { images: tf.tensor4d(images, [n, IMAGE_H, IMAGE_W, ncond * C]), states: tf.tensor2d(states, [n, ncond * STATE_DIM]) };
}

/** Physical actions [n, 2] from normalised ones: clamp to +-ACTION_CLAMP, then a * std + mean. */
export function unnormaliseActions(normalised: Float32Array, p: { stats: NormStats }): Float32Array {
  const out = new Float32Array(normalised.length);
  const { actionMean, actionStd } = p.stats;
  for (let i = 0; i < normalised.length; i++) {
    const j = i % 2;
    const a = Math.max(-ACTION_CLAMP, Math.min(ACTION_CLAMP, normalised[i]!));
    out[i] = a * actionStd[j]! + actionMean[j]!;
  }
  return out;
}

export function policyController(p: LoadedPolicy, name: string, chunk = 64): Controller {
  return {
    name,
    async act(batch: ControllerBatch): Promise<Float32Array> {
      const out = new Float32Array(batch.n * 2);
      for (let from = 0; from < batch.n; from += chunk) {
        const to = Math.min(batch.n, from + chunk);
        const a = tf.tidy(() => p.policy.act(policyInput(batch, p, from, to)));
        out.set((await a.data()) as Float32Array, from * 2);
        a.dispose();
      }
      return unnormaliseActions(out, p);
    },
  };
}
