/**
 * PCA as an architectural energy-based model (docs/method.md section 8): the low-energy set is the
 * k-dimensional principal (affine) subspace of the data,
 *
 *   E(y, z) = ||y - m - W z||^2,   F(y) = min_z E = ||(I - W W^T)(y - m)||^2,
 *
 * with m the data mean and W (d x k) the top-k orthonormal eigenvectors of the covariance. The
 * energy is zero exactly on the subspace and grows with the squared distance from it. The latent
 * proposal for the sampled free energy is N(0, diag(variances)).
 */
import type { LatentEnergy } from './energy.js';
import { type Mat, mat, matVec, matTVec, row, symmetricEigen } from './linalg.js';
import type { Rng } from '../../common/rng.js';

export class PcaEnergy implements LatentEnergy<Float64Array> {
  readonly kind = 'pca';
  constructor(
    /** d x k, orthonormal columns. */
    readonly W: Mat,
    readonly mean: Float64Array,
    /** Variance of the data along each column of W (decreasing). */
    readonly variances: Float64Array,
  ) {}

  energy(y: Float64Array, z: Float64Array): number {
    const r = matVec(this.W, z);
    let e = 0;
    for (let i = 0; i < r.length; i++) e += (y[i]! - this.mean[i]! - r[i]!) ** 2;
    return e;
  }

  infer(y: Float64Array): { z: Float64Array; energy: number } {
    const c = new Float64Array(y.length);
    for (let i = 0; i < y.length; i++) c[i] = y[i]! - this.mean[i]!;
    const z = matTVec(this.W, c);
    return { z, energy: this.energy(y, z) };
  }

  sampleLatent(rng: Rng): Float64Array {
    return Float64Array.from(this.variances, (v) => rng.normal(0, Math.sqrt(Math.max(v, 0))));
  }
}

/** Fits PCA with k components to the rows of Y (N x d) through the covariance's eigenvectors. */
export function fitPca(Y: Mat, k: number): PcaEnergy {
  const { rows: n, cols: d } = Y;
  if (k < 1 || k > d) throw new Error(`fitPca: k must be in [1, ${d}], got ${k}`);
  if (n < 2) throw new Error('fitPca: need at least two samples');
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const y = row(Y, i);
    for (let j = 0; j < d; j++) mean[j] += y[j]! / n;
  }
  const C = mat(d, d);
  const c = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const y = row(Y, i);
    for (let j = 0; j < d; j++) c[j] = y[j]! - mean[j]!;
    for (let a = 0; a < d; a++) {
      const ca = c[a]!;
      if (ca === 0) continue;
      const o = a * d;
      for (let b = a; b < d; b++) C.data[o + b] += ca * c[b]!;
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const v = C.data[a * d + b]! / (n - 1);
      C.data[a * d + b] = v;
      C.data[b * d + a] = v;
    }
  }
  const { values, vectors } = symmetricEigen(C);
  const W = mat(d, k);
  for (let i = 0; i < d; i++) for (let j = 0; j < k; j++) W.data[i * k + j] = vectors.data[i * d + j]!;
  return new PcaEnergy(W, mean, values.slice(0, k));
}
