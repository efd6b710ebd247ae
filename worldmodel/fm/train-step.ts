/**
 * One training update of the forward model, in two halves so that data-parallel workers can
 * average gradients in between:
 *   lossAndGrads: unroll npred steps from the context with the logged actions (z from the
 *     posterior, or the prior with probability zDropout), loss = MSE(images) + MSE(states)
 *     + beta * KL, gradients with respect to every weight;
 *   clipAndApply: global gradient norm, skip the update if the loss or the norm is not finite,
 *     else scale the gradients to norm <= clip and take an Adam step.
 */
import * as tf from '@tensorflow/tfjs';
import { ACTION_DIM, IMAGE_H, IMAGE_W, STATE_DIM } from '../../data/layout.js';
import type { ForwardModel, FmInput } from './model.js';
import type { FmNoise } from './noise.js';
import type { Adam } from './adam.js';
import { fmLoss } from './losses.js';
import { liveView, sumSquares } from './tensor-memory.js';
import { sumSquaresOnHeap } from '../kernels/adam-wasm.js';
import { checkWindowBatch, type WindowBatch } from './windows.js';

export interface BatchTensors {
  input: FmInput;
  actions: tf.Tensor2D[];
  targetImages: tf.Tensor4D[];
  targetStates: tf.Tensor2D[];
}

/** Tensors of a batch (the caller disposes them, e.g. by creating them inside tf.tidy). */
export function batchTensors(b: WindowBatch): BatchTensors {
  checkWindowBatch(b);
  const B = b.batch;
  const C = b.channels;
  const frame = IMAGE_H * IMAGE_W * C;
  const actions: tf.Tensor2D[] = [];
  const targetImages: tf.Tensor4D[] = [];
  const targetStates: tf.Tensor2D[] = [];
  for (let k = 0; k < b.npred; k++) {
    actions.push(tf.tensor2d(b.actions.subarray(k * B * ACTION_DIM, (k + 1) * B * ACTION_DIM), [B, ACTION_DIM]));
    targetImages.push(tf.tensor4d(b.targetImages.subarray(k * B * frame, (k + 1) * B * frame), [B, IMAGE_H, IMAGE_W, C]));
    targetStates.push(tf.tensor2d(b.targetStates.subarray(k * B * STATE_DIM, (k + 1) * B * STATE_DIM), [B, STATE_DIM]));
  }
  return {
    input: {
      images: tf.tensor4d(b.ctxImages, [B, IMAGE_H, IMAGE_W, b.ncond * C]),
      states: tf.tensor2d(b.ctxStates, [B, b.ncond * STATE_DIM]),
    },
    actions,
    targetImages,
    targetStates,
  };
}

/** Loss parts of a step: total, image MSE, state MSE, KL (sum over steps). */
export interface LossParts {
  total: number;
  image: number;
  state: number;
  kl: number;
}

export interface Gradients {
  /** Keyed by weight name; weights without a gradient path this step are absent. */
  grads: Record<string, tf.Tensor>;
  /** [total, image, state, kl] as a tensor (read together with the gradient norm). */
  parts: tf.Tensor1D;
  zDropped: number;
  zDraws: number;
}

/** Forward and backward pass on one batch. Dispose the result with disposeGradients. */
export function lossAndGrads(model: ForwardModel, batch: WindowBatch, noise: FmNoise): Gradients {
  const vars = model.variables();
  const nameOf = new Map(vars.map((v, i) => [v.name, model.specs[i]!.name]));
  let parts: tf.Tensor1D | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const t = batchTensors(batch);
    const r = model.unroll(t.input, { actions: t.actions, noise, targets: model.kind === 'vae' ? t.targetImages : undefined });
    const l = fmLoss(r.images, t.targetImages, r.states, t.targetStates, r.kl, model.cfg.beta);
    parts = tf.keep(tf.stack([l.total, l.image, l.state, l.kl]) as tf.Tensor1D);
    return l.total;
  }, vars);
  value.dispose();
  const named: Record<string, tf.Tensor> = {};
  for (const [k, g] of Object.entries(grads)) named[nameOf.get(k)!] = g;
  return { grads: named, parts: parts!, zDropped: noise.zDropped, zDraws: noise.zDraws };
}

export function disposeGradients(g: Gradients): void {
  for (const t of Object.values(g.grads)) t.dispose();
  g.parts.dispose();
}

export interface UpdateResult extends LossParts {
  gradNorm: number;
  /** True when the update was skipped (loss or gradient not finite). */
  skipped: boolean;
}

/**
 * Sum of squares of the gradients that a loop over their memory can reach (wasm heap, cpu arrays),
 * and the rest (on other backends, e.g. webgpu: their memory is on the device).
 */
function squaresOnHost(grads: Record<string, tf.Tensor>): { sq: number; rest: tf.Tensor[] } {
  let sq = 0;
  const rest: tf.Tensor[] = [];
  for (const g of Object.values(grads)) {
    const onHeap = g.isDisposed ? null : sumSquaresOnHeap(tf.backend(), { dataId: g.dataId, shape: g.shape, dtype: g.dtype });
    if (onHeap !== null) {
      sq += onHeap;
      continue;
    }
    const view = liveView(g);
    if (view) sq += sumSquares(view);
    else rest.push(g);
  }
  return { sq, rest };
}

/**
 * Sum of same-shaped tensors, added at most 7 at a time: one AddN binds every input as a storage
 * buffer, and WebGPU allows 8 per shader stage by default.
 */
export function sumAll(ts: tf.Tensor[]): tf.Tensor {
  let level = ts;
  while (level.length > 1) {
    const next: tf.Tensor[] = [];
    for (let i = 0; i < level.length; i += 7) {
      const group = level.slice(i, i + 7);
      next.push(group.length === 1 ? group[0]! : tf.addN(group));
    }
    level = next;
  }
  return level[0]!;
}

/**
 * Reads `parts` (a 1-D tensor of loss parts) and the global gradient norm with one read from the
 * backend: where the gradients are not in host memory their sum of squares is appended to the
 * parts on the device. Asynchronous, because the webgpu backend cannot read synchronously in Node.
 */
export async function readPartsAndNorm(parts: tf.Tensor1D, grads: Record<string, tf.Tensor>): Promise<{ parts: Float32Array; gradNorm: number }> {
  const { sq, rest } = squaresOnHost(grads);
  const n = parts.shape[0];
  if (rest.length === 0) return { parts: (await parts.data()) as Float32Array, gradNorm: Math.sqrt(sq) };
  const both = tf.tidy(() => tf.concat([parts, tf.reshape(sumAll(rest.map((g) => tf.sum(tf.square(g)))), [1])]));
  const v = (await both.data()) as Float32Array;
  both.dispose();
  return { parts: v.subarray(0, n), gradNorm: Math.sqrt(sq + v[n]!) };
}

/** Reads the loss parts and the gradient norm, then clips and applies unless either is not finite. */
export async function clipAndApply(adam: Adam, grads: Record<string, tf.Tensor>, parts: tf.Tensor1D, clip: number): Promise<UpdateResult> {
  const { parts: v, gradNorm: norm } = await readPartsAndNorm(parts, grads);
  const [total, image, state, kl] = [v[0]!, v[1]!, v[2]!, v[3]!];
  const skipped = !(Number.isFinite(total) && Number.isFinite(norm));
  if (!skipped) adam.apply(grads, norm > clip ? clip / (norm + 1e-6) : 1);
  return { total, image, state, kl, gradNorm: norm, skipped };
}

export interface StepStats extends UpdateResult {
  zDropped: number;
  zDraws: number;
}

/** A full update on one thread. */
export async function trainStep(model: ForwardModel, adam: Adam, batch: WindowBatch, noise: FmNoise): Promise<StepStats> {
  const g = lossAndGrads(model, batch, noise);
  try {
    return { ...(await clipAndApply(adam, g.grads, g.parts, model.cfg.gradClip)), zDropped: g.zDropped, zDraws: g.zDraws };
  } finally {
    disposeGradients(g);
  }
}
