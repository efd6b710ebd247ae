/** Random problems shared by the energy-based module tests (seeded, so every run is the same). */
import { Rng } from '../../../common/rng.js';
import { type Mat, mat, normaliseColumns } from '../../../worldmodel/ebm/linalg.js';

export function randomMat(rows: number, cols: number, rng: Rng, std = 1): Mat {
  const A = mat(rows, cols);
  for (let i = 0; i < A.data.length; i++) A.data[i] = rng.normal(0, std);
  return A;
}

export function randomDictionary(d: number, k: number, rng: Rng): Mat {
  const W = randomMat(d, k, rng);
  normaliseColumns(W);
  return W;
}

export function randomVec(n: number, rng: Rng, std = 1): Float64Array {
  return Float64Array.from({ length: n }, () => rng.normal(0, std));
}

/** y = W z + noise with z sparse (`active` non-zeros). */
export function sparseSignal(W: Mat, active: number, rng: Rng, noise = 0.01): { y: Float64Array; z: Float64Array } {
  const z = new Float64Array(W.cols);
  for (let a = 0; a < active; a++) z[rng.int(W.cols)] = rng.normal(0, 1);
  const y = new Float64Array(W.rows);
  for (let i = 0; i < W.rows; i++) {
    let s = 0;
    for (let j = 0; j < W.cols; j++) s += W.data[i * W.cols + j]! * z[j]!;
    y[i] = s + rng.normal(0, noise);
  }
  return { y, z };
}
