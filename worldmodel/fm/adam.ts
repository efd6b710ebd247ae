/**
 * Adam on a weight map, with PyTorch's update rule (so learning rates carry over):
 *   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,
 *   w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
 * Its state (m, v per weight, and the step count t) is a weight map too, so checkpoints save it
 * like the model and a resumed run continues exactly.
 */
import * as tf from '@tensorflow/tfjs';
import type { WeightMap } from './params.js';

export interface AdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

function zerosVariable(like: tf.Tensor): tf.Variable {
  const z = tf.zerosLike(like);
  const v = tf.variable(z, false);
  z.dispose(); // the variable holds its own reference
  return v;
}

export class Adam {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** Updates applied so far. */
  t = 0;
  private readonly m: Record<string, tf.Variable> = {};
  private readonly v: Record<string, tf.Variable> = {};

  constructor(
    private readonly weights: WeightMap,
    opts: AdamOptions,
  ) {
    this.lr = opts.learningRate;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.epsilon ?? 1e-8;
    for (const [name, w] of Object.entries(weights)) {
      this.m[name] = zerosVariable(w);
      this.v[name] = zerosVariable(w);
    }
  }

  /** One update with `grads` (keyed like the weights) multiplied by `scale` (gradient clipping). */
  apply(grads: Record<string, tf.Tensor>, scale = 1): void {
    this.t++;
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2 = 1 - this.beta2 ** this.t;
    tf.tidy(() => {
      for (const [name, w] of Object.entries(this.weights)) {
        const g0 = grads[name];
        if (!g0) continue;
        const g = scale === 1 ? g0 : tf.mul(g0, scale);
        const m = this.m[name]!;
        const v = this.v[name]!;
        m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1)));
        v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(g), 1 - this.beta2)));
        const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), this.eps);
        w.assign(tf.sub(w, tf.mul(tf.div(m, denom), this.lr / bc1)));
      }
    });
  }

  /** State to save: m.<name>, v.<name> (the step count is saved beside it). */
  stateTensors(): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    for (const name of Object.keys(this.m)) {
      out[`m.${name}`] = this.m[name]!;
      out[`v.${name}`] = this.v[name]!;
    }
    return out;
  }

  /** Restores state saved by stateTensors() and the step count. */
  loadState(state: Record<string, tf.Tensor>, t: number): void {
    for (const name of Object.keys(this.m)) {
      const m = state[`m.${name}`];
      const v = state[`v.${name}`];
      if (!m || !v) throw new Error(`optimizer state lacks the moments of ${name}`);
      this.m[name]!.assign(m);
      this.v[name]!.assign(v);
    }
    this.t = t;
  }

  dispose(): void {
    for (const x of [...Object.values(this.m), ...Object.values(this.v)]) x.dispose();
  }
}
