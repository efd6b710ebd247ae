/**
 * Predictive sparse decomposition (PSD, Kavukcuoglu, Ranzato & LeCun 2008): sparse coding plus
 * an encoder that learns to predict the codes,
 *
 *   E(y, z) = 1/2 ||y - W z||^2 + lambda |z|_1 + alpha ||z - Enc(y)||^2,
 *   Enc(y)  = g * tanh(We^T y + b)         (We: d x k, b, g: k; W: d x k, unit-norm columns).
 *
 * Training alternates: (1) infer z* = argmin_z E by FISTA started from Enc(y) (batched, tfjs);
 * (2) one Adam step on W for 1/2 ||y - W z*||^2, then columns renormalised; (3) one Adam step on
 * the encoder for alpha ||z* - Enc(y)||^2. After training Enc(y) alone is a fast approximation
 * of the sparse code, and We (d x k, d = size x size x C in (row, col, channel) order) is a
 * linear filter bank: for 4x4 patches it is exactly a conv kernel [4, 4, C, k].
 */
import * as tf from '@tensorflow/tfjs';
import type { LatentEnergy } from './energy.js';
import { type Mat, mat, matTVec, row, spectralNormSq } from './linalg.js';
import { fista, lassoEnergy } from './lasso.js';
import { atomsFromData } from './sparse-coding.js';
import { softThresholdTf } from './soft-threshold-tf.js';
import { Rng } from '../../common/rng.js';

export interface PsdParams {
  /** Decoder, d x k, unit-norm columns. */
  W: Mat;
  /** Encoder filters, d x k. */
  We: Mat;
  b: Float64Array;
  g: Float64Array;
  lambda: number;
  alpha: number;
}

export function psdEncode(p: PsdParams, y: ArrayLike<number>): Float64Array {
  const u = matTVec(p.We, y);
  return Float64Array.from(u, (v, j) => p.g[j]! * Math.tanh(v + p.b[j]!));
}

export class PsdEnergy implements LatentEnergy<Float64Array> {
  readonly kind = 'psd';
  private readonly lipschitz: number;
  constructor(readonly params: PsdParams) {
    this.lipschitz = spectralNormSq(params.W);
  }
  energy(y: Float64Array, z: Float64Array): number {
    const p = this.params;
    return lassoEnergy(p.W, y, z, p.lambda, p.alpha, psdEncode(p, y));
  }
  infer(y: Float64Array): { z: Float64Array; energy: number } {
    const p = this.params;
    const target = psdEncode(p, y);
    const { z } = fista(p.W, y, { lambda: p.lambda, alpha: p.alpha, target, z0: target, lipschitz: this.lipschitz, tol: 1e-5, maxIter: 2000 });
    return { z, energy: lassoEnergy(p.W, y, z, p.lambda, p.alpha, target) };
  }
}

export interface PsdTrainOptions {
  atoms: number;
  lambda: number;
  alpha?: number;
  steps: number;
  batch?: number;
  /** FISTA iterations of the code inference per step. */
  inferIter?: number;
  learningRate?: number;
  seed?: number;
  onStep?: (step: number, energy: number) => void;
}

function encodeTf(We: tf.Tensor2D, b: tf.Tensor1D, g: tf.Tensor1D, Y: tf.Tensor2D): tf.Tensor2D {
  return tf.tanh(Y.matMul(We).add(b)).mul(g);
}

/** Batched FISTA on the PSD energy (rows of Y), started from the encoder's prediction E. */
function inferTf(W: tf.Tensor2D, Y: tf.Tensor2D, E: tf.Tensor2D, lambda: number, alpha: number, L: number, iters: number): tf.Tensor2D {
  return tf.tidy(() => {
    let z = E;
    let v = E;
    let t = 1;
    for (let it = 0; it < iters; it++) {
      const grad = v.matMul(W, false, true).sub(Y).matMul(W).add(v.sub(E).mul(2 * alpha));
      const next = softThresholdTf(v.sub(grad.div(L)), lambda / L) as tf.Tensor2D;
      const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
      v = next.add(next.sub(z).mul((t - 1) / tNext));
      z = next;
      t = tNext;
    }
    return z;
  });
}

async function toMat(t: tf.Tensor): Promise<Mat> {
  const [r, c] = t.shape as [number, number];
  return mat(r, c, await t.data());
}

/** Trains PSD on the rows of Y (N x d). Returns the parameters and the per-step mean energy at z*. */
export async function trainPsd(Y: Mat, opts: PsdTrainOptions): Promise<{ params: PsdParams; energyHistory: number[] }> {
  const rng = new Rng(opts.seed ?? 0);
  const d = Y.cols;
  const k = opts.atoms;
  const alpha = opts.alpha ?? 1;
  const batch = Math.min(opts.batch ?? 64, Y.rows);
  const W0 = atomsFromData(Y, k, rng);
  const L0 = spectralNormSq(W0);
  const f32 = (m: Mat, scale = 1) => Float32Array.from(m.data, (v) => v * scale);
  const W = tf.tidy(() => tf.variable(tf.tensor2d(f32(W0), [d, k])));
  // The encoder starts as the first ISTA step's filters, W / L.
  const We = tf.tidy(() => tf.variable(tf.tensor2d(f32(W0, 1 / L0), [d, k])));
  const b = tf.tidy(() => tf.variable(tf.zeros([k]) as tf.Tensor1D));
  const g = tf.tidy(() => tf.variable(tf.ones([k]) as tf.Tensor1D));
  const lr = opts.learningRate ?? 1e-3;
  const optDec = tf.train.adam(lr);
  const optEnc = tf.train.adam(lr);
  const history: number[] = [];
  const yb = new Float32Array(batch * d);
  try {
    for (let step = 0; step < opts.steps; step++) {
      for (let i = 0; i < batch; i++) yb.set(row(Y, rng.int(Y.rows)), i * d);
      const L = spectralNormSq(await toMat(W), 30) * 1.01 + 2 * alpha;
      const energy = tf.tidy(() => {
        const Yt = tf.tensor2d(yb, [batch, d]);
        const E = encodeTf(We, b, g, Yt);
        const Z = inferTf(W, Yt, E, opts.lambda, alpha, L, opts.inferIter ?? 30);
        const recon = Yt.sub(Z.matMul(W, false, true)).square().sum(1).mul(0.5);
        const e = recon.add(Z.abs().sum(1).mul(opts.lambda)).add(Z.sub(E).square().sum(1).mul(alpha)).mean();
        optDec.minimize(() => Yt.sub(Z.matMul(W, false, true)).square().sum(1).mul(0.5).mean() as tf.Scalar, false, [W]);
        W.assign(W.div(W.square().sum(0, true).sqrt().add(1e-12)));
        optEnc.minimize(() => Z.sub(encodeTf(We, b, g, Yt)).square().sum(1).mul(alpha).mean() as tf.Scalar, false, [We, b, g]);
        return e;
      });
      const v = (await energy.data())[0]!;
      energy.dispose();
      history.push(v);
      opts.onStep?.(step, v);
    }
    const params: PsdParams = {
      W: await toMat(W),
      We: await toMat(We),
      b: Float64Array.from(await b.data()),
      g: Float64Array.from(await g.data()),
      lambda: opts.lambda,
      alpha,
    };
    return { params, energyHistory: history };
  } finally {
    for (const v of [W, We, b, g]) v.dispose();
    optDec.dispose();
    optEnc.dispose();
  }
}
