/**
 * Adam on a weight map, with PyTorch's update rule (so learning rates carry over):
 *   m = b1 m + (1 - b1) g,  v = b2 v + (1 - b2) g^2,
 *   w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps).
 * Its state (m, v per weight, and the step count t) is a weight map too, so checkpoints save it
 * like the model and a resumed run continues exactly. On wasm the update is one SIMD loop over the
 * heap (float32, kernels/adam-wasm.ts); on cpu one JavaScript loop over the values (float64
 * arithmetic); in both the moments are updated in place and the new weights go to new tensors;
 * elsewhere it is tfjs ops.
 */
import * as tf from '@tensorflow/tfjs';
import type { WeightMap } from './params.js';
import { exclusiveView, liveView } from './tensor-memory.js';
import { adamOnHeap } from '../kernels/adam-wasm.js';

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

/** Gives `v` a private copy of `value` (so that in-place updates of `v` never touch `value`). */
export function assignCopy(v: tf.Variable, value: tf.Tensor): void {
  const copy = tf.add(value, 0);
  v.assign(copy);
  copy.dispose();
}

export class Adam {
  /** The learning rate of the next update (a schedule may change it between updates). */
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** Updates applied so far. */
  t = 0;
  private readonly m: Record<string, tf.Variable> = {};
  private readonly v: Record<string, tf.Variable> = {};
  /** Per weight, the array the fast path writes new values to before they become a tensor. */
  private readonly scratch: Record<string, Float32Array> = {};

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

  /**
   * One update with `grads` (tensors or plain arrays, keyed like the weights; a weight without a
   * gradient is left alone) multiplied by `scale` (gradient clipping).
   */
  apply(grads: Record<string, tf.Tensor | Float32Array>, scale = 1): void {
    this.t++;
    for (const [name, w] of Object.entries(this.weights)) {
      const g = grads[name];
      if (g) this.update(name, w, g, scale);
    }
  }

  private update(name: string, w: tf.Variable, g: tf.Tensor | Float32Array, scale: number): void {
    const m = this.m[name]!;
    const v = this.v[name]!;
    const bc1 = 1 - this.beta1 ** this.t;
    const bc2 = 1 - this.beta2 ** this.t;
    // Fastest: one SIMD loop on the wasm heap (m and v in place, the new weights in a new tensor).
    if (exclusiveView(m) && exclusiveView(v) && (g instanceof Float32Array || liveView(g))) {
      const info = (t: tf.Tensor): tf.TensorInfo => ({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });
      const rootBc2 = Math.sqrt(bc2);
      const out = adamOnHeap(tf.backend(), info(w), info(m), info(v), g instanceof Float32Array ? g : info(g), {
        scale, beta1: this.beta1, beta2: this.beta2, step: this.lr / bc1, rootBc2, eps: this.eps,
      });
      if (out) {
        const next = tf.engine().makeTensorFromTensorInfo(out);
        w.assign(next);
        next.dispose();
        return;
      }
    }
    // Fast path: one loop over the values in place (wasm / cpu memory, not shared with other tensors).
    const W = exclusiveView(w);
    const M = W && exclusiveView(m);
    const V = M && exclusiveView(v);
    const G = V && (g instanceof Float32Array ? g : liveView(g));
    if (W && M && V && G) {
      const { beta1: b1, beta2: b2, eps } = this;
      const step = this.lr / bc1;
      const rootBc2 = Math.sqrt(bc2);
      const out = (this.scratch[name] ??= new Float32Array(W.length));
      for (let i = 0; i < W.length; i++) {
        const gi = G[i]! * scale;
        const mi = b1 * M[i]! + (1 - b1) * gi;
        const vi = b2 * V[i]! + (1 - b2) * gi * gi;
        M[i] = mi;
        V[i] = vi;
        out[i] = W[i]! - (step * mi) / (Math.sqrt(vi) / rootBc2 + eps);
      }
      // New weights get new memory (a new dataId): kernels cache data derived from weights by
      // dataId (wasm's packed XNNPACK filters, our phase filters), so weights are never written in place.
      const next = tf.tensor(out, w.shape, 'float32');
      w.assign(next);
      next.dispose();
      return;
    }
    tf.tidy(() => {
      const g0 = g instanceof Float32Array ? tf.tensor(g, w.shape, 'float32') : g;
      const gs = scale === 1 ? g0 : tf.mul(g0, scale);
      m.assign(tf.add(tf.mul(m, this.beta1), tf.mul(gs, 1 - this.beta1)));
      v.assign(tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(gs), 1 - this.beta2)));
      const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), this.eps);
      w.assign(tf.sub(w, tf.mul(tf.div(m, denom), this.lr / bc1)));
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
      assignCopy(this.m[name]!, m);
      assignCopy(this.v[name]!, v);
    }
    this.t = t;
  }

  dispose(): void {
    for (const x of [...Object.values(this.m), ...Object.values(this.v)]) x.dispose();
  }
}
