/**
 * LISTA (Gregor & LeCun 2010): an encoder shaped like T unrolled ISTA steps,
 *
 *   z_0 = 0,   z_{t+1} = soft(We y + S z_t, theta),   t = 0 .. T-1,
 *
 * whose parameters (We: k x d, S: k x k, theta: k, shared over the layers) are trained to
 * predict the optimal sparse codes z*(y) of a fixed dictionary W. Initialised at
 * We = W^T / L, S = I - W^T W / L, theta = lambda / L it IS T steps of ISTA; training can only
 * improve on that (on the training distribution) by learning the data's structure.
 * Training runs in tfjs (Adam on the mean squared code error); the trained encoder is plain
 * arrays and runs without tfjs.
 */
import * as tf from '@tensorflow/tfjs';
import type { LatentEnergy } from './energy.js';
import { type Mat, mat, matVec, row, softThreshold, spectralNormSq, transpose } from './linalg.js';
import { lassoEnergy } from './lasso.js';
import { softThresholdTf } from './soft-threshold-tf.js';
import { Rng } from '../../common/rng.js';

export interface ListaParams {
  /** k x d. */
  We: Mat;
  /** k x k. */
  S: Mat;
  theta: Float64Array;
  layers: number;
}

/** The LISTA parameters that reproduce `layers` ISTA iterations for dictionary W and lambda. */
export function listaFromIsta(W: Mat, lambda: number, layers: number): ListaParams {
  const L = spectralNormSq(W);
  const k = W.cols;
  const We = transpose(W);
  for (let i = 0; i < We.data.length; i++) We.data[i]! /= L;
  const S = mat(k, k);
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) {
      let g = 0;
      for (let i = 0; i < W.rows; i++) g += W.data[i * k + a]! * W.data[i * k + b]!;
      S.data[a * k + b] = (a === b ? 1 : 0) - g / L;
    }
  }
  return { We, S, theta: new Float64Array(k).fill(lambda / L), layers };
}

/** Runs the encoder on one input (plain TypeScript). */
export function listaEncode(p: ListaParams, y: ArrayLike<number>): Float64Array {
  const b = matVec(p.We, y);
  let z = new Float64Array(p.We.rows);
  for (let t = 0; t < p.layers; t++) {
    const u = matVec(p.S, z);
    const next = new Float64Array(z.length);
    for (let j = 0; j < z.length; j++) next[j] = softThreshold(b[j]! + u[j]!, p.theta[j]!);
    z = next;
  }
  return z;
}

/** The sparse-coding energy with LISTA as its (approximate, one-pass) inference. */
export class ListaEnergy implements LatentEnergy<Float64Array> {
  readonly kind = 'lista';
  constructor(
    readonly W: Mat,
    readonly lambda: number,
    readonly params: ListaParams,
  ) {}
  energy(y: Float64Array, z: Float64Array): number {
    return lassoEnergy(this.W, y, z, this.lambda);
  }
  infer(y: Float64Array): { z: Float64Array; energy: number } {
    const z = listaEncode(this.params, y);
    return { z, energy: this.energy(y, z) };
  }
}

/** Batched LISTA forward in tfjs; Y is [B, d], the result [B, k]. Row form: z <- soft(Y We^T + z S^T). */
function forwardTf(WeT: tf.Tensor2D, ST: tf.Tensor2D, theta: tf.Tensor1D, Y: tf.Tensor2D, layers: number): tf.Tensor2D {
  const b = Y.matMul(WeT);
  let z = tf.zerosLike(b) as tf.Tensor2D;
  for (let t = 0; t < layers; t++) z = softThresholdTf(b.add(z.matMul(ST)), theta) as tf.Tensor2D;
  return z;
}

async function toMat(t: tf.Tensor2D): Promise<Mat> {
  const [r, c] = t.shape;
  return mat(r, c, await t.data());
}

export interface ListaTrainOptions {
  layers: number;
  steps: number;
  batch?: number;
  learningRate?: number;
  seed?: number;
  onStep?: (step: number, loss: number) => void;
}

/**
 * Trains LISTA on inputs Y (N x d) and their target codes Z (N x k, e.g. FISTA's optima),
 * starting from the ISTA initialisation. Returns the parameters and the per-step mean squared
 * code error (sum over code units, mean over the batch).
 */
export async function trainLista(W: Mat, lambda: number, Y: Mat, Z: Mat, opts: ListaTrainOptions): Promise<{ params: ListaParams; lossHistory: number[] }> {
  const init = listaFromIsta(W, lambda, opts.layers);
  const rng = new Rng(opts.seed ?? 0);
  const batch = Math.min(opts.batch ?? 64, Y.rows);
  const WeT = tf.tidy(() => tf.variable(tf.tensor2d(Float32Array.from(transpose(init.We).data), [W.rows, W.cols], 'float32')));
  const ST = tf.tidy(() => tf.variable(tf.tensor2d(Float32Array.from(transpose(init.S).data), [W.cols, W.cols], 'float32')));
  const theta = tf.tidy(() => tf.variable(tf.tensor1d(Float32Array.from(init.theta), 'float32')));
  const optimizer = tf.train.adam(opts.learningRate ?? 1e-3);
  const history: number[] = [];
  const yb = new Float32Array(batch * Y.cols);
  const zb = new Float32Array(batch * Z.cols);
  try {
    for (let step = 0; step < opts.steps; step++) {
      for (let b = 0; b < batch; b++) {
        const i = rng.int(Y.rows);
        yb.set(row(Y, i), b * Y.cols);
        zb.set(row(Z, i), b * Z.cols);
      }
      const loss = tf.tidy(() => {
        const Yt = tf.tensor2d(yb, [batch, Y.cols]);
        const Zt = tf.tensor2d(zb, [batch, Z.cols]);
        return optimizer.minimize(() => forwardTf(WeT, ST, theta, Yt, opts.layers).sub(Zt).square().sum(1).mean() as tf.Scalar, true)!;
      });
      const v = (await loss.data())[0]!;
      loss.dispose();
      // Thresholds stay non-negative (a negative threshold would not be a shrinkage).
      tf.tidy(() => theta.assign(tf.relu(theta)));
      history.push(v);
      opts.onStep?.(step, v);
    }
    return { params: { We: transpose(await toMat(WeT)), S: transpose(await toMat(ST)), theta: Float64Array.from(await theta.data()), layers: opts.layers }, lossHistory: history };
  } finally {
    WeT.dispose();
    ST.dispose();
    theta.dispose();
    optimizer.dispose();
  }
}
