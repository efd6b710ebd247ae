/**
 * Sparse coding as an architectural energy-based model (docs/method.md section 8):
 *
 *   E(y, z) = 1/2 ||y - W z||^2 + lambda |z|_1,   columns of W (d x k) kept at unit norm,
 *
 * whose low-energy set is the union of low-dimensional subspaces spanned by few atoms. The unit
 * norm matters: without it the L1 term could be made arbitrarily small by growing W and
 * shrinking z. Inference is FISTA (or ISTA). The dictionary is learned with Mairal et al.'s
 * online method (2009): running sums A = sum z z^T and B = sum y z^T over mini-batches, then one
 * block-coordinate pass over the columns, w_j <- normalise(w_j + (b_j - W a_j) / A_jj); an atom
 * that no code uses is re-seeded from a random sample.
 */
import type { LatentEnergy } from './energy.js';
import { type Mat, mat, row, normaliseColumns, spectralNormSq } from './linalg.js';
import { fista, ista, lassoEnergy } from './lasso.js';
import { Rng } from '../../common/rng.js';

export interface SparseInferenceOptions {
  solver?: 'fista' | 'ista';
  tol?: number;
  maxIter?: number;
}

export class SparseCodingEnergy implements LatentEnergy<Float64Array> {
  readonly kind: string = 'sparse';
  /** ||W||_2^2, the step-size constant of ISTA/FISTA. */
  readonly lipschitz: number;
  constructor(
    readonly W: Mat,
    readonly lambda: number,
    readonly inference: SparseInferenceOptions = {},
  ) {
    this.lipschitz = spectralNormSq(W);
  }

  energy(y: Float64Array, z: Float64Array): number {
    return lassoEnergy(this.W, y, z, this.lambda);
  }

  infer(y: Float64Array): { z: Float64Array; energy: number } {
    const solve = this.inference.solver === 'ista' ? ista : fista;
    const { z } = solve(this.W, y, { lambda: this.lambda, lipschitz: this.lipschitz, tol: this.inference.tol ?? 1e-5, maxIter: this.inference.maxIter ?? 1000 });
    return { z, energy: this.energy(y, z) };
  }
}

export interface SparseFitOptions {
  lambda: number;
  steps: number;
  batch?: number;
  seed?: number;
  /** FISTA iterations per sample during learning (codes need not be exact to learn atoms). */
  inferIter?: number;
  /** Forgetting factor of the running statistics per step (1 = plain sums). */
  forget?: number;
  onStep?: (step: number, energy: number) => void;
}

/** Random unit-norm atoms drawn from the data (different samples), a common starting point. */
export function atomsFromData(Y: Mat, k: number, rng: Rng): Mat {
  const W = mat(Y.cols, k);
  for (let j = 0; j < k; j++) {
    const y = row(Y, rng.int(Y.rows));
    for (let i = 0; i < Y.cols; i++) W.data[i * k + j] = y[i]! + 1e-3 * rng.normal();
  }
  normaliseColumns(W);
  return W;
}

/** Learns a k-atom dictionary on the rows of Y (N x d). Returns the model and the batch energies. */
export function fitSparseCoding(Y: Mat, k: number, opts: SparseFitOptions): { model: SparseCodingEnergy; energyHistory: number[] } {
  const d = Y.cols;
  const rng = new Rng(opts.seed ?? 0);
  const batch = Math.min(opts.batch ?? 64, Y.rows);
  const forget = opts.forget ?? 0.98;
  const W = atomsFromData(Y, k, rng);
  const A = new Float64Array(k * k);
  const B = new Float64Array(d * k);
  const history: number[] = [];
  for (let step = 0; step < opts.steps; step++) {
    const L = spectralNormSq(W, 50);
    for (let i = 0; i < A.length; i++) A[i]! *= forget;
    for (let i = 0; i < B.length; i++) B[i]! *= forget;
    let energy = 0;
    const picked: Float64Array[] = [];
    for (let b = 0; b < batch; b++) {
      const y = row(Y, rng.int(Y.rows));
      picked.push(y);
      const { z } = fista(W, y, { lambda: opts.lambda, lipschitz: L, tol: 1e-4, maxIter: opts.inferIter ?? 100, checkEvery: 10 });
      energy += lassoEnergy(W, y, z, opts.lambda) / batch;
      for (let a = 0; a < k; a++) {
        const za = z[a]!;
        if (za === 0) continue;
        for (let c = 0; c < k; c++) A[a * k + c] += za * z[c]!;
        for (let i = 0; i < d; i++) B[i * k + a] += y[i]! * za;
      }
    }
    history.push(energy);
    opts.onStep?.(step, energy);
    // One block-coordinate pass over the atoms.
    const Wa = new Float64Array(d);
    for (let j = 0; j < k; j++) {
      const ajj = A[j * k + j]!;
      if (ajj < 1e-10) {
        const y = picked[rng.int(picked.length)]!;
        for (let i = 0; i < d; i++) W.data[i * k + j] = y[i]! + 1e-3 * rng.normal();
      } else {
        Wa.fill(0);
        for (let i = 0; i < d; i++) {
          let s = 0;
          for (let c = 0; c < k; c++) s += W.data[i * k + c]! * A[c * k + j]!;
          Wa[i] = s;
        }
        for (let i = 0; i < d; i++) W.data[i * k + j] += (B[i * k + j]! - Wa[i]!) / ajj;
      }
      let n = 0;
      for (let i = 0; i < d; i++) n += W.data[i * k + j]! ** 2;
      n = Math.sqrt(n);
      if (n > 0) for (let i = 0; i < d; i++) W.data[i * k + j] /= n;
    }
  }
  return { model: new SparseCodingEnergy(W, opts.lambda), energyHistory: history };
}
