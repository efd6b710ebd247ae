/**
 * Convolutional sparse auto-encoder: sparse coding with a convolutional decoder and a
 * LISTA-like recurrent convolutional encoder, on images y [H, W, C] in [0, 1]:
 *
 *   E(y, z) = 1/2 ||y - D^T z||^2 + lambda |z|_1,
 *
 * z: F feature maps [H/2, W/2, F]; D z := conv(., D) is the 4x4, stride-2, padding-1 convolution
 * (kernel [4, 4, C, F]) and D^T z its adjoint (the transposed convolution), so each D_f is one
 * "atom" repeated over the image. Each D_f is kept at unit norm.
 * Encoder (T steps of ISTA with learned operators, Gregor & LeCun 2010, in convolutional form):
 *
 *   z_1 = soft(conv(y, E), theta),   z_{t+1} = soft(z_t + conv(y - convT(z_t, Dt), E), theta),
 *
 * initialised at E = D / L, Dt = D, theta = lambda / L (then it is T ISTA steps). Encoder and
 * decoder are trained together (Adam) to minimise E(y, Enc(y)). E has exactly the shape of the
 * world model's first convolution for one frame (4x4, stride 2, padding 1, C -> F), which is
 * what encoder-init.ts exports. Inputs must have even height and width (padding 1 then equals
 * tfjs 'same' padding for stride 2).
 */
import * as tf from '@tensorflow/tfjs';
import { softThresholdTf } from './soft-threshold-tf.js';
import { Rng } from '../../common/rng.js';
import type { LatentEnergy } from './energy.js';

export const CONV_KERNEL = 4;
export const CONV_STRIDE = 2;

export interface ConvSparseParams {
  /** Decoder filters [4, 4, C, F] (unit norm each). */
  D: tf.Tensor4D;
  /** Encoder filters [4, 4, C, F]. */
  E: tf.Tensor4D;
  /** Decoder used inside the encoder's recurrence [4, 4, C, F]. */
  Dt: tf.Tensor4D;
  theta: tf.Tensor1D;
  lambda: number;
  steps: number;
}

function conv(y: tf.Tensor4D, K: tf.Tensor4D): tf.Tensor4D {
  return tf.conv2d(y, K, CONV_STRIDE, 'same');
}

function convT(z: tf.Tensor4D, K: tf.Tensor4D, outShape: [number, number, number, number]): tf.Tensor4D {
  return tf.conv2dTranspose(z, K, outShape, CONV_STRIDE, 'same');
}

/** The encoder: y [B, H, W, C] -> z [B, H/2, W/2, F]. */
export function convSparseEncode(p: Pick<ConvSparseParams, 'E' | 'Dt' | 'theta' | 'steps'>, y: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const shape = y.shape as [number, number, number, number];
    const Ey = conv(y, p.E);
    let z = softThresholdTf(Ey, p.theta) as tf.Tensor4D;
    for (let t = 1; t < p.steps; t++) z = softThresholdTf(z.add(conv(y.sub(convT(z, p.Dt, shape)), p.E)), p.theta) as tf.Tensor4D;
    return z;
  });
}

/** The decoder: z [B, H/2, W/2, F] -> reconstruction [B, H, W, C]. */
export function convSparseDecode(D: tf.Tensor4D, z: tf.Tensor4D, outShape: [number, number, number, number]): tf.Tensor4D {
  return convT(z, D, outShape);
}

/** Per-image energies [B]: 1/2 ||y - D^T z||^2 + lambda |z|_1. */
export function convSparseEnergy(D: tf.Tensor4D, lambda: number, y: tf.Tensor4D, z: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => {
    const r = y.sub(convSparseDecode(D, z, y.shape as [number, number, number, number]));
    return r.square().sum([1, 2, 3]).mul(0.5).add(z.abs().sum([1, 2, 3]).mul(lambda)) as tf.Tensor1D;
  });
}

/** ||D^T D||_2 by power iteration on a probe image of the given size (the ISTA step constant). */
export async function convLipschitz(D: tf.Tensor4D, height: number, width: number, iterations = 30, seed = 0): Promise<number> {
  const C = D.shape[2];
  let v = tf.randomNormal([1, height, width, C], 0, 1, 'float32', seed) as tf.Tensor4D;
  let lambda = 0;
  for (let i = 0; i < iterations; i++) {
    const next = tf.tidy(() => convT(conv(v, D), D, [1, height, width, C]));
    const norms = tf.tidy(() => tf.stack([next.norm(), v.norm()]));
    const [n, vn] = (await norms.data()) as Float32Array;
    norms.dispose();
    lambda = n! / vn!;
    v.dispose();
    v = tf.tidy(() => next.div(n!));
    next.dispose();
  }
  v.dispose();
  return lambda;
}

/** Scales each filter (last axis) of K to unit Euclidean norm. */
function unitFilters(K: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => K.div(K.square().sum([0, 1, 2], true).sqrt().add(1e-12)));
}

export interface ConvSparseTrainOptions {
  filters: number;
  lambda: number;
  /** Encoder recurrence steps T. */
  encoderSteps?: number;
  steps: number;
  learningRate?: number;
  seed?: number;
  /** Draws a batch of images [B, H, W, C] (H, W even) for a training step. */
  batch: (rng: Rng) => tf.Tensor4D;
  channels: number;
  onStep?: (step: number, energy: number) => void;
  /** Re-seed unused filters every this many steps (0: never; default 100). */
  reseedEvery?: number;
}

/**
 * Trains the convolutional sparse auto-encoder. The returned tensors belong to the caller
 * (dispose them with disposeConvSparse).
 */
export async function trainConvSparse(opts: ConvSparseTrainOptions): Promise<{ params: ConvSparseParams; energyHistory: number[]; reseeded: number }> {
  const rng = new Rng(opts.seed ?? 0);
  const C = opts.channels;
  const F = opts.filters;
  const T = opts.encoderSteps ?? 3;
  const init = tf.tidy(() => {
    const K = tf.tensor4d(Float32Array.from({ length: 16 * C * F }, () => rng.normal()), [CONV_KERNEL, CONV_KERNEL, C, F]);
    return unitFilters(K);
  });
  const L = (await convLipschitz(init, 16, 16, 30, opts.seed ?? 0)) * 1.05;
  const D = tf.tidy(() => tf.variable(init.clone()));
  const Dt = tf.tidy(() => tf.variable(init.clone()));
  const E = tf.tidy(() => tf.variable(init.div(L)));
  const theta = tf.tidy(() => tf.variable(tf.fill([F], opts.lambda / L)));
  init.dispose();
  const optimizer = tf.train.adam(opts.learningRate ?? 1e-3);
  const history: number[] = [];
  let reseeded = 0;
  const params = { D: D as tf.Variable<tf.Rank.R4>, E: E as tf.Variable<tf.Rank.R4>, Dt: Dt as tf.Variable<tf.Rank.R4>, theta: theta as tf.Variable<tf.Rank.R1>, lambda: opts.lambda, steps: T };
  try {
    for (let step = 0; step < opts.steps; step++) {
      const y = opts.batch(rng);
      const loss = optimizer.minimize(() => {
        const z = convSparseEncode(params, y);
        return convSparseEnergy(params.D, opts.lambda, y, z).mean() as tf.Scalar;
      }, true)!;
      const v = (await loss.data())[0]!;
      loss.dispose();
      tf.tidy(() => {
        D.assign(unitFilters(D as tf.Tensor4D));
        theta.assign(tf.relu(theta));
      });
      const every = opts.reseedEvery ?? 100;
      if (every > 0 && (step + 1) % every === 0 && step + 1 < opts.steps) reseeded += await reseedDeadFilters(params, y, L, opts.lambda, rng);
      y.dispose();
      history.push(v);
      opts.onStep?.(step, v);
    }
  } catch (e) {
    for (const v of [D, Dt, E, theta]) v.dispose();
    optimizer.dispose();
    throw e;
  }
  optimizer.dispose();
  return { params, energyHistory: history, reseeded };
}

/**
 * Filters that no code uses (mean |z| below 1 % of the busiest filter's on this batch) get a
 * fresh start from a random non-empty 4x4 patch of the batch (D, Dt = patch / |patch|, E = D / L,
 * theta = lambda / L): with simple images most of an overcomplete bank would otherwise stay at
 * its random initialisation. Returns how many were re-seeded.
 */
async function reseedDeadFilters(p: ConvSparseParams & { D: tf.Variable; E: tf.Variable; Dt: tf.Variable; theta: tf.Variable }, y: tf.Tensor4D, L: number, lambda: number, rng: Rng): Promise<number> {
  const activity = tf.tidy(() => convSparseEncode(p, y).abs().mean([0, 1, 2]));
  const a = (await activity.data()) as Float32Array;
  activity.dispose();
  const maxA = Math.max(...a);
  const dead = Array.from(a, (v, f) => (v <= 0.01 * maxA ? f : -1)).filter((f) => f >= 0);
  if (dead.length === 0 || maxA === 0) return 0;
  const [B, H, W, C] = y.shape;
  const F = p.D.shape[3];
  const img = (await y.data()) as Float32Array;
  const fresh = new Float32Array(16 * C * F);
  const mask = new Float32Array(F);
  for (const f of dead) {
    const patch = new Float32Array(16 * C);
    for (let tries = 0; tries < 50; tries++) {
      const b = rng.int(B);
      const r0 = rng.int(H - 3);
      const c0 = rng.int(W - 3);
      let sq = 0;
      for (let r = 0; r < 4; r++) {
        for (let c = 0; c < 4; c++) {
          for (let ch = 0; ch < C; ch++) {
            const v = img[((b * H + r0 + r) * W + c0 + c) * C + ch]! + 0.01 * rng.normal();
            patch[(r * 4 + c) * C + ch] = v;
            sq += v * v;
          }
        }
      }
      if (sq > 0.1) break;
    }
    const n = Math.sqrt(patch.reduce((s, v) => s + v * v, 0)) || 1;
    for (let i = 0; i < 16 * C; i++) fresh[i * F + f] = patch[i]! / n;
    mask[f] = 1;
  }
  tf.tidy(() => {
    const P = tf.tensor4d(fresh, [4, 4, C, F]);
    const m = tf.tensor1d(mask);
    const keep = tf.scalar(1).sub(m);
    p.D.assign(p.D.mul(keep).add(P.mul(m)));
    p.Dt.assign(p.Dt.mul(keep).add(P.mul(m)));
  });
  // Data-like filters overlap more than random ones: the ISTA step must shrink to stay stable.
  const Lnow = Math.max(L, (await convLipschitz(p.D as tf.Tensor4D, 16, 16, 30)) * 1.05);
  tf.tidy(() => {
    const P = tf.tensor4d(fresh, [4, 4, C, F]);
    const m = tf.tensor1d(mask);
    const keep = tf.scalar(1).sub(m);
    p.E.assign(p.E.mul(keep).add(P.mul(m).div(Lnow)));
    p.theta.assign(p.theta.mul(keep).add(m.mul(lambda / Lnow)));
  });
  return dead.length;
}

export function disposeConvSparse(p: ConvSparseParams): void {
  for (const t of [p.D, p.E, p.Dt, p.theta]) t.dispose();
}

/**
 * The convolutional model as a LatentEnergy on single flattened images [H * W * C] of a fixed
 * size (for inspection; training is batched). Inference is the encoder's one pass.
 */
export class ConvSparseEnergy implements LatentEnergy<Float64Array> {
  readonly kind = 'conv-sparse';
  constructor(
    readonly params: ConvSparseParams,
    readonly height: number,
    readonly width: number,
  ) {}
  private image(y: Float64Array): tf.Tensor4D {
    return tf.tensor4d(Float32Array.from(y), [1, this.height, this.width, this.params.D.shape[2]]);
  }
  energy(y: Float64Array, z: Float64Array): number {
    const F = this.params.D.shape[3];
    const e = tf.tidy(() => convSparseEnergy(this.params.D, this.params.lambda, this.image(y), tf.tensor4d(Float32Array.from(z), [1, this.height / 2, this.width / 2, F])));
    const v = e.dataSync()[0]!;
    e.dispose();
    return v;
  }
  infer(y: Float64Array): { z: Float64Array; energy: number } {
    const zt = tf.tidy(() => convSparseEncode(this.params, this.image(y)));
    const z = Float64Array.from(zt.dataSync());
    zt.dispose();
    return { z, energy: this.energy(y, z) };
  }
}
