/**
 * The denoising auto-encoder as a contrastive energy (Vincent et al. 2008; docs/method.md section 8):
 *
 *   E(y, z) = ||y - Dec(z)||^2,   z = Enc(y),   F(y) = ||y - Dec(Enc(y))||^2,
 *   Enc(y) = tanh(W1^T y + b1),   Dec(z) = W2^T z + b2,
 *
 * trained to map corrupted samples y + noise back to the clean y. Corruption is the "chosen
 * point" whose energy the training pushes up: the reconstruction is pulled toward the data, so
 * F is low on the data and grows off it (the reconstruction y~ - y points back to the data).
 */
import * as tf from '@tensorflow/tfjs';
import type { LatentEnergy } from './energy.js';
import { type Mat, mat, matTVec, row } from './linalg.js';
import { Rng } from '../../common/rng.js';

export interface DaeParams {
  W1: Mat;
  b1: Float64Array;
  W2: Mat;
  b2: Float64Array;
}

export class DenoisingEnergy implements LatentEnergy<Float64Array> {
  readonly kind = 'dae';
  constructor(readonly params: DaeParams) {}
  encode(y: ArrayLike<number>): Float64Array {
    const u = matTVec(this.params.W1, y);
    return Float64Array.from(u, (v, j) => Math.tanh(v + this.params.b1[j]!));
  }
  decode(z: ArrayLike<number>): Float64Array {
    const u = matTVec(this.params.W2, z);
    return Float64Array.from(u, (v, i) => v + this.params.b2[i]!);
  }
  energy(y: Float64Array, z: Float64Array): number {
    const r = this.decode(z);
    let e = 0;
    for (let i = 0; i < y.length; i++) e += (y[i]! - r[i]!) ** 2;
    return e;
  }
  infer(y: Float64Array): { z: Float64Array; energy: number } {
    const z = this.encode(y);
    return { z, energy: this.energy(y, z) };
  }
}

export interface DaeTrainOptions {
  hidden: number;
  /** Standard deviation of the Gaussian corruption. */
  noiseStd: number;
  steps: number;
  batch?: number;
  learningRate?: number;
  seed?: number;
}

/** Trains on the rows of Y (N x d); returns the energy model and the per-step denoising loss. */
export function trainDenoisingAutoencoder(Y: Mat, opts: DaeTrainOptions): { model: DenoisingEnergy; lossHistory: number[] } {
  const rng = new Rng(opts.seed ?? 0);
  const d = Y.cols;
  const h = opts.hidden;
  const batch = Math.min(opts.batch ?? 64, Y.rows);
  const init = (r: number, c: number) => Float32Array.from({ length: r * c }, () => rng.normal(0, 1 / Math.sqrt(r)));
  const W1 = tf.tidy(() => tf.variable(tf.tensor2d(init(d, h), [d, h])));
  const b1 = tf.tidy(() => tf.variable(tf.zeros([h])));
  const W2 = tf.tidy(() => tf.variable(tf.tensor2d(init(h, d), [h, d])));
  const b2 = tf.tidy(() => tf.variable(tf.zeros([d])));
  const optimizer = tf.train.adam(opts.learningRate ?? 1e-2);
  const clean = new Float32Array(batch * d);
  const noisy = new Float32Array(batch * d);
  const history: number[] = [];
  try {
    for (let step = 0; step < opts.steps; step++) {
      for (let i = 0; i < batch; i++) {
        const y = row(Y, rng.int(Y.rows));
        for (let j = 0; j < d; j++) {
          clean[i * d + j] = y[j]!;
          noisy[i * d + j] = y[j]! + rng.normal(0, opts.noiseStd);
        }
      }
      const loss = tf.tidy(() => {
        const Yc = tf.tensor2d(clean, [batch, d]);
        const Yn = tf.tensor2d(noisy, [batch, d]);
        return optimizer.minimize(() => tf.tanh(Yn.matMul(W1).add(b1)).matMul(W2).add(b2).sub(Yc).square().sum(1).mean() as tf.Scalar, true)!;
      });
      history.push(loss.dataSync()[0]!);
      loss.dispose();
    }
    const m = (v: tf.Variable) => mat(v.shape[0]!, v.shape[1]!, v.dataSync());
    const params: DaeParams = { W1: m(W1), b1: Float64Array.from(b1.dataSync()), W2: m(W2), b2: Float64Array.from(b2.dataSync()) };
    return { model: new DenoisingEnergy(params), lossHistory: history };
  } finally {
    for (const v of [W1, b1, W2, b2]) v.dispose();
    optimizer.dispose();
  }
}
