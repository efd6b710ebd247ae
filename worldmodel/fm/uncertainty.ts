/**
 * MC-dropout uncertainty of the forward model (docs/method.md section 6): K copies of the model with
 * dropout active (independent masks) unroll the same context with the same actions and the SAME
 * z sequence; the per-step variance across copies of the predicted images (mean over pixels),
 * states (mean over the 4 dims) and, given a cost function, costs measures how far the actions
 * lead from the training data.
 *
 * The copies run as one batch of K * B rows. Everything is tfjs ops with no data reads, so the
 * policy can back-propagate the variances into its actions (freeze the model's weights first
 * with setTrainable(false)). Variances are unbiased (divided by K - 1), like torch.var.
 */
import * as tf from '@tensorflow/tfjs';
import type { ForwardModel, FmInput } from './model.js';
import { FmNoise, STREAM } from './noise.js';

/** Costs of predicted frames: images [N, H, W, C], states [N, 4] -> [N] or [N, nCosts]. */
export type CostFn = (images: tf.Tensor4D, states: tf.Tensor2D) => tf.Tensor;

export interface UncertaintyOptions {
  /** Dropout copies (the paper uses 10); at least 2. */
  k: number;
  /** Actions per step [B, 2], standardised; the same for every copy. */
  actions: tf.Tensor2D[];
  /** z per step [B, nz], shared by every copy; drawn from the prior with `noise` when absent (VAE only). */
  zs?: tf.Tensor2D[];
  /** Dropout masks (and prior z) come from here; its dropout flag should be on for MC dropout. */
  noise: FmNoise;
  cost?: CostFn;
}

export interface UncertaintyResult {
  /** [T, B]: variance across copies, mean over pixels. */
  imageVar: tf.Tensor2D;
  /** [T, B]: variance across copies, mean over state dims. */
  stateVar: tf.Tensor2D;
  /** [T, B, nCosts] (or [T, B] for a one-value cost); null without a cost function. */
  costVar: tf.Tensor | null;
  /** Predictions of all copies per step: [K * B, ...], copy-major (rows c * B .. c * B + B - 1 are copy c). */
  images: tf.Tensor4D[];
  states: tf.Tensor2D[];
  /** The z used per step, [B, nz] (empty for the deterministic model). */
  zs: tf.Tensor2D[];
}

function repeatRows<T extends tf.Tensor>(x: T, k: number): T {
  return tf.concat(Array.from({ length: k }, () => x), 0) as T;
}

/** Unbiased variance over the copies of x [K * B, ...], averaged over the remaining axes: [B]. */
function copyVariance(x: tf.Tensor, k: number, b: number): tf.Tensor1D {
  const flat = tf.reshape(x, [k, b, -1]);
  const mean = tf.mean(flat, 0, true);
  const v = tf.div(tf.sum(tf.square(tf.sub(flat, mean)), 0), k - 1);
  return tf.mean(v, 1) as tf.Tensor1D;
}

/** Like copyVariance but keeping the cost axis: [K * B] -> [B], [K * B, n] -> [B, n]. */
function costVariance(x: tf.Tensor, k: number, b: number): tf.Tensor {
  const shaped = tf.reshape(x, [k, b, ...x.shape.slice(1)]);
  const mean = tf.mean(shaped, 0, true);
  return tf.div(tf.sum(tf.square(tf.sub(shaped, mean)), 0), k - 1);
}

export function mcDropoutUncertainty(model: ForwardModel, input: FmInput, opts: UncertaintyOptions): UncertaintyResult {
  const k = opts.k;
  if (!(Number.isInteger(k) && k >= 2)) throw new Error(`MC dropout needs at least 2 copies, got ${k}`);
  const b = input.images.shape[0];
  const steps = opts.actions.length;
  let zs: tf.Tensor2D[] = [];
  if (model.kind === 'vae') zs = opts.zs ?? Array.from({ length: steps }, () => model.samplePrior(b, opts.noise));
  const big: FmInput = { images: repeatRows(input.images, k), states: repeatRows(input.states, k) };
  const r = model.unroll(big, {
    actions: opts.actions.map((a) => repeatRows(a, k)),
    zs: model.kind === 'vae' ? zs.map((z) => repeatRows(z, k)) : undefined,
    noise: opts.noise,
  });
  const imageVar = tf.stack(r.images.map((im) => copyVariance(im, k, b))) as tf.Tensor2D;
  const stateVar = tf.stack(r.states.map((s) => copyVariance(s, k, b))) as tf.Tensor2D;
  let costVar: tf.Tensor | null = null;
  if (opts.cost) {
    costVar = tf.stack(r.images.map((im, t) => costVariance(opts.cost!(im, r.states[t]!), k, b)));
  }
  return { imageVar, stateVar, costVar, images: r.images, states: r.states, zs };
}

/** A noise source for MC dropout at `step` of a run seeded with `seed` (dropout on). */
export function mcDropoutNoise(seed: number, step = 0): FmNoise {
  return FmNoise.forStep(seed, step, true, STREAM.uncertainty);
}
