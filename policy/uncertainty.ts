/**
 * The uncertainty term of MPUR (docs/method.md section 6). K copies of the forward model with dropout
 * active and the SAME z sequence unroll the context with the policy's actions
 * (worldmodel/fm/uncertainty.ts); per step and sample, the variance across copies of the
 * predicted images (mean over pixels), states (mean over the 4 dims) and costs (mean over the
 * cost kinds) is normalised with a per-step mean and std measured beforehand on expert actions,
 * and
 *   U = sum over {images, states, costs} of mean_{t, b}(gamma^t * relu(normalised - hinge)).
 * Gradients flow through all K copies into the actions; the model's weights stay frozen.
 */
import * as tf from '@tensorflow/tfjs';
import type { NormStats } from '../data/dataset-types.js';
import type { ForwardModel, FmInput } from '../worldmodel/fm/model.js';
import type { FmNoise } from '../worldmodel/fm/noise.js';
import { mcDropoutUncertainty } from '../worldmodel/fm/uncertainty.js';
import { stackedCosts, tileCars, type CarSizes } from './costs.js';

/** [T, B] variances across dropout copies. */
export interface UncertaintyTerms {
  image: tf.Tensor2D;
  state: tf.Tensor2D;
  cost: tf.Tensor2D;
}

/** Per-step mean and std (length npred) of each variance, over samples of expert actions. */
export interface UStats {
  npred: number;
  samples: number;
  imageMean: number[];
  imageStd: number[];
  stateMean: number[];
  stateStd: number[];
  costMean: number[];
  costStd: number[];
}

/** Keeps a zero std from dividing by zero (a model without dropout has no variance at all). */
const STD_EPS = 1e-8;

export function uncertaintyTerms(
  model: ForwardModel,
  input0: FmInput,
  actions: tf.Tensor2D[],
  zs: tf.Tensor2D[] | undefined,
  cars: CarSizes,
  stats: NormStats,
  k: number,
  noise: FmNoise,
): UncertaintyTerms {
  const tiled = tileCars(cars, k);
  const r = mcDropoutUncertainty(model, input0, {
    k,
    actions,
    zs: model.kind === 'vae' ? zs : undefined,
    noise,
    cost: (images, states) => stackedCosts(images, states, tiled, stats),
  });
  return { image: r.imageVar, state: r.stateVar, cost: tf.mean(r.costVar!, 2) as tf.Tensor2D };
}

/**
 * The km methods' uncertainty (docs/method.md section 9 with section 6's U): at every imagined step t,
 * the variance across k dropout copies of the ONE-step prediction from that step's context
 * (held fixed: the imagined or logged frames and the kinematic states) with the policy's action
 * a_t, rather than the variance of k rollouts that drift apart over the unroll. Every step runs
 * in one batch of k * T * B rows, so its cost does not grow with the unroll's length; the
 * gradient reaches a_t through every copy (and earlier actions through the kinematic states).
 * Inputs are step-major [T * B, ...]; with `stride` s only the steps 0, s, 2s, ... carry the term
 * and with `rows` r only the first r rows of each step (the cost falls by s and by B / r). The
 * result is [ceil(T / s), r] per term.
 */
export function stepwiseUncertaintyTerms(
  model: ForwardModel,
  input: FmInput,
  actions: tf.Tensor2D,
  zs: tf.Tensor2D | undefined,
  cars: CarSizes,
  stats: NormStats,
  k: number,
  noise: FmNoise,
  steps: number,
  stride = 1,
  rows: number | null = null,
): UncertaintyTerms {
  const b = input.images.shape[0] / steps;
  const r = rows === null ? b : Math.min(rows, b);
  // Every stride-th step (0, stride, ...) and its first r rows, with their car sizes.
  const picked = Array.from({ length: Math.ceil(steps / stride) }, (_, i) => i * stride);
  const all = stride === 1 && r === b;
  const select = <T extends tf.Tensor>(x: T): T => (all ? x : (tf.concat(picked.map((t) => tf.slice(x, t * b, r)), 0) as T));
  const pick = (a: Float32Array) => (all ? a : Float32Array.from(picked.flatMap((t) => Array.from(a.subarray(t * b, t * b + r)))));
  const tiled = tileCars({ lengthObsPx: pick(cars.lengthObsPx), widthObsPx: pick(cars.widthObsPx) }, k);
  const res = mcDropoutUncertainty(model, { images: select(input.images), states: select(input.states) }, {
    k,
    actions: [select(actions)],
    zs: model.kind === 'vae' && zs ? [select(zs)] : undefined,
    noise,
    cost: (images, states) => stackedCosts(images, states, tiled, stats),
  });
  const perStep = (x: tf.Tensor) => tf.reshape(x, [picked.length, r]) as tf.Tensor2D;
  return { image: perStep(res.imageVar), state: perStep(res.stateVar), cost: perStep(tf.mean(res.costVar!, 2)) };
}

/** Per-step weights gamma^t, [T, 1]. */
export function discounts(steps: number, gamma: number): tf.Tensor2D {
  return tf.tensor2d(Float32Array.from({ length: steps }, (_, t) => gamma ** t), [steps, 1]);
}

/** U from the variances, the per-step statistics, the hinge and the discount. */
export function uncertaintyLoss(terms: UncertaintyTerms, s: UStats, hinge: number, gamma: number): tf.Scalar {
  const T = terms.image.shape[0];
  if (T > s.npred) throw new Error(`uncertainty statistics cover ${s.npred} steps, the rollout has ${T}`);
  const w = discounts(T, gamma);
  const part = (v: tf.Tensor2D, mean: number[], std: number[]) => {
    const m = tf.tensor2d(mean.slice(0, T), [T, 1]);
    const sd = tf.tensor2d(std.slice(0, T).map((x) => x + STD_EPS), [T, 1]);
    return tf.mean(tf.mul(w, tf.relu(tf.sub(tf.div(tf.sub(v, m), sd), hinge))));
  };
  return tf.addN([part(terms.image, s.imageMean, s.imageStd), part(terms.state, s.stateMean, s.stateStd), part(terms.cost, s.costMean, s.costStd)]) as tf.Scalar;
}

/** Accumulates per-step variances of many batches into UStats (mean and unbiased std per step). */
export class UStatsAccumulator {
  private readonly sums: Float64Array[] = [];
  private readonly sqs: Float64Array[] = [];
  private n = 0;

  constructor(readonly npred: number) {
    for (let i = 0; i < 3; i++) {
      this.sums.push(new Float64Array(npred));
      this.sqs.push(new Float64Array(npred));
    }
  }

  /** Adds one batch: image, state and cost variances, each [T, B] row-major. */
  add(image: Float32Array, state: Float32Array, cost: Float32Array, batch: number): void {
    [image, state, cost].forEach((v, i) => {
      for (let t = 0; t < this.npred; t++) {
        for (let b = 0; b < batch; b++) {
          const x = v[t * batch + b]!;
          this.sums[i]![t]! += x;
          this.sqs[i]![t]! += x * x;
        }
      }
    });
    this.n += batch;
  }

  stats(): UStats {
    const n = this.n;
    const mean = (i: number) => Array.from(this.sums[i]!, (s) => s / n);
    const std = (i: number) =>
      Array.from(this.sums[i]!, (s, t) => {
        const m = s / n;
        return n > 1 ? Math.sqrt(Math.max(0, (this.sqs[i]![t]! - n * m * m) / (n - 1))) : 0;
      });
    return { npred: this.npred, samples: n, imageMean: mean(0), imageStd: std(0), stateMean: mean(1), stateStd: std(1), costMean: mean(2), costStd: std(2) };
  }
}
