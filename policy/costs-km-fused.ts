/**
 * The km costs' masked means (costs-km.ts) and their gradient in one pass over the pixels on the
 * host, as one differentiable op: the same function as kmMasks + maskedMean in tfjs ops, which
 * cost about 60 small kernels forward and twice that backward over [N, 117, 24] tensors (40 % of
 * a km policy update on the wasm backend: policy/README.md). Used where tensors live in host
 * memory (wasm, cpu); GPU backends keep the tfjs ops.
 *
 * Per row, with theta = (u, w, cos, sin) the ego's offset and heading change (egoOffset) and, per
 * pixel, f - u and s - w its coordinates relative to the ego's centre:
 *   x' = cos (f - u) + sin (s - w),   y' = cos (s - w) - sin (f - u)
 *   z_x = relu((x_s - |x'|) / (x_s - L / 2)),  r_y = relu((y_d - |y'|) / (y_d - W / 2))
 *   M_p = z_x^2 min(r_y, 1)^2,  M_l = z_x^2 r_y^2,  cost = A / S with A = sum(M g), S = sum(M) + 1e-6
 *   d cost / d theta = (sum(g dM / d theta) - cost sum(dM / d theta)) / S
 * The derivatives at the kinks follow tfjs's conventions (relu'(0) = 0, |x|'(0) = -1,
 * min(r, 1)' = 1 at r = 1), so both paths agree at exactly centred poses too.
 */
import * as tf from '@tensorflow/tfjs';
import { IMAGE_H, IMAGE_W } from '../data/layout.js';

/** Row / column centres of the frame, m (ahead of / to the right of its centre). */
export interface FrameGrid {
  rowM: Float32Array;
  colM: Float32Array;
}

/** Per-row mask geometry, m: x_s, y_d, L / 2, W / 2. */
export interface MaskGeometry {
  xs: Float32Array;
  yd: Float32Array;
  halfL: Float32Array;
  halfW: Float32Array;
}

/** Costs per row (proximity, lane, off-road: 0 for 3-channel images) and their Jacobian in theta. */
export interface HostCosts {
  /** [N * 3] */
  values: Float32Array;
  /** [N * 3 * 4]: d cost_k / d theta_j at (n * 3 + k) * 4 + j. */
  jacobian: Float32Array;
}

/** The costs of `images` ([N, 117, 24, C] row-major, C >= 3) for offsets `theta` ([N * 4]: u, w, cos, sin). */
export function hostKmCosts(images: Float32Array, channels: number, theta: Float32Array, geo: MaskGeometry, grid: FrameGrid): HostCosts {
  const n = theta.length / 4;
  const values = new Float32Array(n * 3);
  const jacobian = new Float32Array(n * 12);
  const offroad = channels >= 4;
  const plane = IMAGE_H * IMAGE_W * channels;
  for (let r = 0; r < n; r++) {
    const [u, w, c, sn] = [theta[4 * r]!, theta[4 * r + 1]!, theta[4 * r + 2]!, theta[4 * r + 3]!];
    const xs = geo.xs[r]!;
    const yd = geo.yd[r]!;
    const invX = 1 / (xs - geo.halfL[r]!);
    const invY = 1 / (yd - geo.halfW[r]!);
    // Sums S, A and their derivatives: [proximity S, proximity A, lane S, lane A, off-road A] x (value, d/du, d/dw, d/dcos, d/dsin).
    const acc = new Float64Array(25);
    const base = r * plane;
    for (let i = 0; i < IMAGE_H; i++) {
      const fr = grid.rowM[i]! - u;
      for (let j = 0; j < IMAGE_W; j++) {
        const sr = grid.colM[j]! - w;
        const xp = c * fr + sn * sr;
        const ax = xp > 0 ? xp : -xp;
        const zx = (xs - ax) * invX;
        if (!(zx > 0)) continue;
        const yp = c * sr - sn * fr;
        const ay = yp > 0 ? yp : -yp;
        const ry = (yd - ay) * invY;
        if (!(ry > 0)) continue;
        const ryc = ry - (ry - 1 > 0 ? ry - 1 : 0);
        const dRyc = ry - 1 > 0 ? 0 : 1;
        const zx2 = zx * zx;
        const mp = zx2 * ryc * ryc;
        const ml = zx2 * ry * ry;
        // d / d x' and d / d y' of the masks.
        const dZx = -(xp > 0 ? 1 : -1) * invX;
        const dRy = -(yp > 0 ? 1 : -1) * invY;
        const mpX = 2 * zx * ryc * ryc * dZx;
        const mpY = zx2 * 2 * ryc * dRyc * dRy;
        const mlX = 2 * zx * ry * ry * dZx;
        const mlY = zx2 * 2 * ry * dRy;
        // d x' / d theta = (-cos, -sin, f - u, s - w); d y' / d theta = (sin, -cos, s - w, -(f - u)).
        const dp = [-c * mpX + sn * mpY, -sn * mpX - c * mpY, fr * mpX + sr * mpY, sr * mpX - fr * mpY];
        const dl = [-c * mlX + sn * mlY, -sn * mlX - c * mlY, fr * mlX + sr * mlY, sr * mlX - fr * mlY];
        const px = base + (i * IMAGE_W + j) * channels;
        const gl = images[px]! * images[px]!;
        const gp = images[px + 1]! * images[px + 1]!;
        const go = offroad ? images[px + 2]! * images[px + 2]! : 0;
        acc[0]! += mp;
        acc[5]! += mp * gp;
        acc[10]! += ml;
        acc[15]! += ml * gl;
        acc[20]! += ml * go;
        for (let k = 0; k < 4; k++) {
          acc[1 + k]! += dp[k]!;
          acc[6 + k]! += dp[k]! * gp;
          acc[11 + k]! += dl[k]!;
          acc[16 + k]! += dl[k]! * gl;
          acc[21 + k]! += dl[k]! * go;
        }
      }
    }
    // cost = A / S and its derivative, for (S, A) at (0, 5), (10, 15), (10, 20).
    ([[0, 5], [10, 15], [10, 20]] as const).forEach(([s, a], kind) => {
      const S = acc[s]! + 1e-6;
      const cost = acc[a]! / S;
      values[r * 3 + kind] = cost;
      for (let k = 0; k < 4; k++) jacobian[(r * 3 + kind) * 4 + k] = (acc[a + 1 + k]! - cost * acc[s + 1 + k]!) / S;
    });
  }
  return { values, jacobian };
}

/**
 * The op: costs [N, 3] (proximity, lane, off-road) of `images` for offsets `theta` [N, 4]
 * (differentiable); the images and `speedM` [N] (m/s, which only sizes the masks) get zero
 * gradients, as the cut-off inputs of the tfjs path do.
 * `geometry` turns the detached speeds into the masks' sizes.
 */
export function fusedKmCosts(images: tf.Tensor4D, theta: tf.Tensor2D, speedM: tf.Tensor1D, geometry: (speedM: Float32Array) => MaskGeometry, grid: FrameGrid): tf.Tensor2D {
  const op = tf.customGrad(((img: tf.Tensor4D, th: tf.Tensor2D, v: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const r = hostKmCosts(img.dataSync() as Float32Array, img.shape[3], th.dataSync() as Float32Array, geometry(v.dataSync() as Float32Array), grid);
    const n = th.shape[0];
    const jac = tf.tensor3d(r.jacobian, [n, 3, 4]);
    save([jac]);
    return {
      value: tf.tensor2d(r.values, [n, 3]),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => [tf.zerosLike(img), tf.sum(tf.mul(tf.reshape(dy, [n, 3, 1]), saved[0]!), 1), tf.zerosLike(v)],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (img: tf.Tensor4D, th: tf.Tensor2D, v: tf.Tensor1D) => tf.Tensor2D;
  return op(images, theta, speedM);
}
