/**
 * Sparse inference for the sparse-coding energy
 *
 *   E(y, z) = 1/2 ||y - W z||^2 + lambda |z|_1        (W: d x k dictionary, y: d, z: k)
 *
 * (the lasso; docs/method.md section 8 writes ||y - W z||^2 + lambda |z|_1, which is the same problem
 * with lambda doubled). ISTA takes proximal gradient steps of size 1/L, L = ||W||_2^2;
 * FISTA adds Nesterov momentum (Beck & Teboulle 2009) and converges in O(1/k^2) instead of
 * O(1/k). Both stop when the KKT conditions hold to `tol`:
 *   g = W^T (W z - y);  |g_i + lambda sign(z_i)| <= tol where z_i != 0,  |g_i| <= lambda + tol where z_i = 0.
 * A quadratic pull `alpha ||z - c||^2` towards a prediction c (PSD) can be added to the smooth part.
 */
import { type Mat, matVec, matTVec, spectralNormSq, softThreshold } from './linalg.js';

export interface LassoOptions {
  lambda: number;
  /** Stop once the KKT violation is at most tol (default 1e-6). */
  tol?: number;
  maxIter?: number;
  /** Test the KKT conditions every this many iterations (default 1; larger saves gradient evaluations). */
  checkEvery?: number;
  /** Lipschitz constant of the smooth part's gradient (computed from W when absent). */
  lipschitz?: number;
  /** Starting code (default zeros). */
  z0?: ArrayLike<number>;
  /** PSD term alpha ||z - target||^2 added to the energy. */
  alpha?: number;
  target?: ArrayLike<number>;
}

export interface LassoResult {
  z: Float64Array;
  iterations: number;
  converged: boolean;
  /** Final KKT violation. */
  kkt: number;
}

/** Gradient of the smooth part, W^T (W z - y) + 2 alpha (z - target), into `out`. */
function smoothGrad(W: Mat, y: ArrayLike<number>, z: Float64Array, alpha: number, target: ArrayLike<number> | undefined, r: Float64Array, out: Float64Array): void {
  matVec(W, z, r);
  for (let i = 0; i < r.length; i++) r[i] = r[i]! - y[i]!;
  matTVec(W, r, out);
  if (alpha > 0 && target) for (let j = 0; j < out.length; j++) out[j] += 2 * alpha * (z[j]! - target[j]!);
}

/** Largest violation of the optimality conditions of the (PSD-extended) lasso at z. */
export function kktViolation(W: Mat, y: ArrayLike<number>, z: Float64Array, lambda: number, alpha = 0, target?: ArrayLike<number>): number {
  const g = new Float64Array(W.cols);
  smoothGrad(W, y, z, alpha, target, new Float64Array(W.rows), g);
  return kktFromGrad(g, z, lambda);
}

function kktFromGrad(g: Float64Array, z: Float64Array, lambda: number): number {
  let worst = 0;
  for (let j = 0; j < z.length; j++) {
    const v = z[j] !== 0 ? Math.abs(g[j]! + lambda * Math.sign(z[j]!)) : Math.max(0, Math.abs(g[j]!) - lambda);
    if (v > worst) worst = v;
  }
  return worst;
}

/** The sparse-coding energy 1/2 ||y - W z||^2 + lambda |z|_1 (+ alpha ||z - target||^2). */
export function lassoEnergy(W: Mat, y: ArrayLike<number>, z: ArrayLike<number>, lambda: number, alpha = 0, target?: ArrayLike<number>): number {
  const r = matVec(W, z);
  let e = 0;
  for (let i = 0; i < r.length; i++) e += (y[i]! - r[i]!) ** 2;
  e *= 0.5;
  let l1 = 0;
  for (let j = 0; j < z.length; j++) l1 += Math.abs(z[j]!);
  e += lambda * l1;
  if (alpha > 0 && target) for (let j = 0; j < z.length; j++) e += alpha * (z[j]! - target[j]!) ** 2;
  return e;
}

function setup(W: Mat, opts: LassoOptions) {
  const alpha = opts.alpha ?? 0;
  const L = (opts.lipschitz ?? spectralNormSq(W)) + 2 * alpha;
  const z = new Float64Array(W.cols);
  if (opts.z0) z.set(opts.z0);
  return { alpha, L, z, tol: opts.tol ?? 1e-6, maxIter: opts.maxIter ?? 10000, every: Math.max(1, opts.checkEvery ?? 1) };
}

/** ISTA: z <- soft(z - grad/L, lambda/L). */
export function ista(W: Mat, y: ArrayLike<number>, opts: LassoOptions): LassoResult {
  const { alpha, L, z, tol, maxIter, every } = setup(W, opts);
  const g = new Float64Array(W.cols);
  const r = new Float64Array(W.rows);
  let kkt = Infinity;
  let it = 0;
  for (; it < maxIter; it++) {
    smoothGrad(W, y, z, alpha, opts.target, r, g);
    if (it % every === 0) {
      kkt = kktFromGrad(g, z, opts.lambda);
      if (kkt <= tol) return { z, iterations: it, converged: true, kkt };
    }
    for (let j = 0; j < z.length; j++) z[j] = softThreshold(z[j]! - g[j]! / L, opts.lambda / L);
  }
  smoothGrad(W, y, z, alpha, opts.target, r, g);
  kkt = kktFromGrad(g, z, opts.lambda);
  return { z, iterations: it, converged: kkt <= tol, kkt };
}

/** FISTA: ISTA steps taken from an extrapolated point v = z_k + (t_{k-1} - 1)/t_k (z_k - z_{k-1}). */
export function fista(W: Mat, y: ArrayLike<number>, opts: LassoOptions): LassoResult {
  const { alpha, L, z, tol, maxIter, every } = setup(W, opts);
  const v = Float64Array.from(z);
  const prev = new Float64Array(W.cols);
  const g = new Float64Array(W.cols);
  const r = new Float64Array(W.rows);
  let t = 1;
  let kkt = Infinity;
  let it = 0;
  for (; it < maxIter; it++) {
    // The convergence test is on z itself (the iterate returned), not on the extrapolated point.
    if (it % every === 0) {
      smoothGrad(W, y, z, alpha, opts.target, r, g);
      kkt = kktFromGrad(g, z, opts.lambda);
      if (kkt <= tol) return { z, iterations: it, converged: true, kkt };
    }
    smoothGrad(W, y, v, alpha, opts.target, r, g);
    prev.set(z);
    for (let j = 0; j < z.length; j++) z[j] = softThreshold(v[j]! - g[j]! / L, opts.lambda / L);
    const tNext = (1 + Math.sqrt(1 + 4 * t * t)) / 2;
    const beta = (t - 1) / tNext;
    for (let j = 0; j < z.length; j++) v[j] = z[j]! + beta * (z[j]! - prev[j]!);
    t = tNext;
  }
  smoothGrad(W, y, z, alpha, opts.target, r, g);
  kkt = kktFromGrad(g, z, opts.lambda);
  return { z, iterations: it, converged: kkt <= tol, kkt };
}
