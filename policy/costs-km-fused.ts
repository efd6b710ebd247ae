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
  const { rowM, colM } = grid;
  const width = colM.length;
  // Column centres are evenly spaced (the frame's pixel grid): column j sits at col0 + j dCol.
  const col0 = colM[0]!;
  const dCol = colM[1]! - colM[0]!;
  for (let r = 0; r < n; r++) {
    const u = theta[4 * r]!;
    const w = theta[4 * r + 1]!;
    const c = theta[4 * r + 2]!;
    const sn = theta[4 * r + 3]!;
    const xs = geo.xs[r]!;
    const yd = geo.yd[r]!;
    const invX = 1 / (xs - geo.halfL[r]!);
    const invY = 1 / (yd - geo.halfW[r]!);
    // The sums S, A and their derivatives in theta (u, w, cos, sin), in locals: proximity S / A,
    // lane S / A, off-road A.
    let sp = 0, sp0 = 0, sp1 = 0, sp2 = 0, sp3 = 0;
    let ap = 0, ap0 = 0, ap1 = 0, ap2 = 0, ap3 = 0;
    let sl = 0, sl0 = 0, sl1 = 0, sl2 = 0, sl3 = 0;
    let al = 0, al0 = 0, al1 = 0, al2 = 0, al3 = 0;
    let ao = 0, ao0 = 0, ao1 = 0, ao2 = 0, ao3 = 0;
    const base = r * plane;
    for (let i = 0; i < IMAGE_H; i++) {
      const fr = rowM[i]! - u;
      const cfr = c * fr;
      const sfr = sn * fr;
      // The columns where |x'| < xs and |y'| < yd can hold, widened by one column on each side
      // (the per-pixel tests below decide; this only skips pixels outside the rotated box).
      let lo = -Infinity;
      let hi = Infinity;
      if (sn !== 0) {
        const a = (-xs - cfr) / sn;
        const b = (xs - cfr) / sn;
        lo = Math.max(lo, Math.min(a, b));
        hi = Math.min(hi, Math.max(a, b));
      }
      if (c !== 0) {
        const a = (sfr - yd) / c;
        const b = (sfr + yd) / c;
        lo = Math.max(lo, Math.min(a, b));
        hi = Math.min(hi, Math.max(a, b));
      }
      if (!(lo <= hi + dCol)) continue;
      const j0 = Math.max(0, Math.floor((lo + w - col0) / dCol) - 1);
      const j1 = Math.min(width - 1, Math.ceil((hi + w - col0) / dCol) + 1);
      for (let j = j0; j <= j1; j++) {
        const sr = colM[j]! - w;
        const xp = cfr + sn * sr;
        const ax = xp > 0 ? xp : -xp;
        const zx = (xs - ax) * invX;
        if (!(zx > 0)) continue;
        const yp = c * sr - sfr;
        const ay = yp > 0 ? yp : -yp;
        const ry = (yd - ay) * invY;
        if (!(ry > 0)) continue;
        const ryc = ry > 1 ? 1 : ry;
        const zx2 = zx * zx;
        const ryc2 = ryc * ryc;
        const ry2 = ry * ry;
        const mp = zx2 * ryc2;
        const ml = zx2 * ry2;
        // d / d x' and d / d y' of the masks (relu'(0) = 0, |x|'(0) = -1, min(r, 1)' = 1 at r = 1).
        const dZx = xp > 0 ? -invX : invX;
        const dRy = yp > 0 ? -invY : invY;
        const mpX = 2 * zx * ryc2 * dZx;
        const mpY = ry > 1 ? 0 : 2 * zx2 * ryc * dRy;
        const mlX = 2 * zx * ry2 * dZx;
        const mlY = 2 * zx2 * ry * dRy;
        // d x' / d theta = (-cos, -sin, f - u, s - w); d y' / d theta = (sin, -cos, s - w, -(f - u)).
        const dp0 = -c * mpX + sn * mpY;
        const dp1 = -sn * mpX - c * mpY;
        const dp2 = fr * mpX + sr * mpY;
        const dp3 = sr * mpX - fr * mpY;
        const dl0 = -c * mlX + sn * mlY;
        const dl1 = -sn * mlX - c * mlY;
        const dl2 = fr * mlX + sr * mlY;
        const dl3 = sr * mlX - fr * mlY;
        const px = base + (i * width + j) * channels;
        const g0 = images[px]!;
        const g1 = images[px + 1]!;
        const gl = g0 * g0;
        const gp = g1 * g1;
        sp += mp; sp0 += dp0; sp1 += dp1; sp2 += dp2; sp3 += dp3;
        ap += mp * gp; ap0 += dp0 * gp; ap1 += dp1 * gp; ap2 += dp2 * gp; ap3 += dp3 * gp;
        sl += ml; sl0 += dl0; sl1 += dl1; sl2 += dl2; sl3 += dl3;
        al += ml * gl; al0 += dl0 * gl; al1 += dl1 * gl; al2 += dl2 * gl; al3 += dl3 * gl;
        if (offroad) {
          const g2 = images[px + 2]!;
          const go = g2 * g2;
          ao += ml * go; ao0 += dl0 * go; ao1 += dl1 * go; ao2 += dl2 * go; ao3 += dl3 * go;
        }
      }
    }
    // cost = A / S and d cost = (dA - cost dS) / S, for proximity, lane and off-road (whose S is the lane mask's).
    const out = (kind: number, s: number, a: number, s0: number, s1: number, s2: number, s3: number, a0: number, a1: number, a2: number, a3: number) => {
      const S = s + 1e-6;
      const cost = a / S;
      const o = (r * 3 + kind) * 4;
      values[r * 3 + kind] = cost;
      jacobian[o] = (a0 - cost * s0) / S;
      jacobian[o + 1] = (a1 - cost * s1) / S;
      jacobian[o + 2] = (a2 - cost * s2) / S;
      jacobian[o + 3] = (a3 - cost * s3) / S;
    };
    out(0, sp, ap, sp0, sp1, sp2, sp3, ap0, ap1, ap2, ap3);
    out(1, sl, al, sl0, sl1, sl2, sl3, al0, al1, al2, al3);
    out(2, sl, ao, sl0, sl1, sl2, sl3, ao0, ao1, ao2, ao3);
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
