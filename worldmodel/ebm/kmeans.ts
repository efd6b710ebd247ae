/**
 * K-means as an architectural energy-based model (docs/method.md section 8): a one-hot latent picks one of
 * K prototypes (the columns of W, d x K),
 *
 *   E(y, z) = ||y - W z||^2 = ||y - w_z||^2,   F(y) = min_z E,
 *
 * so only K points have zero energy. Inference is exhaustive over the K values of z. Lloyd's
 * algorithm alternates that inference (assignment) with setting each prototype to the mean of
 * its points; both steps can only lower the mean energy, which is recorded after each step.
 */
import type { LatentEnergy } from './energy.js';
import { type Mat, mat, row, sqDist } from './linalg.js';
import { Rng } from '../../common/rng.js';

export class KmeansEnergy implements LatentEnergy<number> {
  readonly kind = 'kmeans';
  /** Prototypes as rows (K x d) for fast distance computations; `W` gives them as columns. */
  constructor(readonly centroids: Mat) {}

  get k(): number {
    return this.centroids.rows;
  }

  /** The d x K dictionary whose columns are the prototypes. */
  get W(): Mat {
    const { rows: K, cols: d } = this.centroids;
    const W = mat(d, K);
    for (let c = 0; c < K; c++) for (let i = 0; i < d; i++) W.data[i * K + c] = this.centroids.data[c * d + i]!;
    return W;
  }

  energy(y: Float64Array, z: number): number {
    return sqDist(y, row(this.centroids, z));
  }

  infer(y: Float64Array): { z: number; energy: number } {
    let best = 0;
    let bestE = Infinity;
    for (let c = 0; c < this.k; c++) {
      const e = sqDist(y, row(this.centroids, c));
      if (e < bestE) {
        bestE = e;
        best = c;
      }
    }
    return { z: best, energy: bestE };
  }

  latents(): number[] {
    return Array.from({ length: this.k }, (_, i) => i);
  }
}

export interface KmeansFit {
  model: KmeansEnergy;
  /** Mean energy after initialisation and after every assignment and every update step. */
  energyHistory: number[];
  iterations: number;
}

/** k-means++ seeding: each next centre drawn with probability proportional to D(y)^2. */
function seedPlusPlus(Y: Mat, K: number, rng: Rng): Mat {
  const { rows: n, cols: d } = Y;
  const C = mat(K, d);
  const first = rng.int(n);
  C.data.set(row(Y, first), 0);
  const dist = new Float64Array(n).fill(Infinity);
  for (let c = 1; c < K; c++) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      dist[i] = Math.min(dist[i]!, sqDist(row(Y, i), row(C, c - 1)));
      total += dist[i]!;
    }
    let pick = rng.int(n);
    if (total > 0) {
      let u = rng.next() * total;
      for (let i = 0; i < n; i++) {
        u -= dist[i]!;
        if (u <= 0) {
          pick = i;
          break;
        }
      }
    }
    C.data.set(row(Y, pick), c * d);
  }
  return C;
}

/** Lloyd's algorithm from k-means++ seeds, until no assignment changes or maxIter. */
export function fitKmeans(Y: Mat, K: number, opts: { seed?: number; maxIter?: number } = {}): KmeansFit {
  const { rows: n, cols: d } = Y;
  if (K < 1 || K > n) throw new Error(`fitKmeans: K must be in [1, ${n}], got ${K}`);
  const rng = new Rng(opts.seed ?? 0);
  const model = new KmeansEnergy(seedPlusPlus(Y, K, rng));
  const assign = new Int32Array(n).fill(-1);
  const history: number[] = [];
  const meanEnergy = () => {
    let s = 0;
    for (let i = 0; i < n; i++) s += model.energy(row(Y, i), assign[i]!);
    return s / n;
  };
  let it = 0;
  for (; it < (opts.maxIter ?? 100); it++) {
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const y = row(Y, i);
      const { z, energy } = model.infer(y);
      // Keep the current prototype on ties so that the assignment step never raises the energy.
      if (assign[i]! >= 0 && model.energy(y, assign[i]!) <= energy) continue;
      assign[i] = z;
      changed++;
    }
    history.push(meanEnergy());
    if (changed === 0) break;
    const sums = new Float64Array(K * d);
    const counts = new Int32Array(K);
    for (let i = 0; i < n; i++) {
      const c = assign[i]!;
      counts[c]++;
      const y = row(Y, i);
      for (let j = 0; j < d; j++) sums[c * d + j] += y[j]!;
    }
    // An empty cluster keeps its prototype (moving it could not lower any energy term).
    for (let c = 0; c < K; c++) if (counts[c]! > 0) for (let j = 0; j < d; j++) model.centroids.data[c * d + j] = sums[c * d + j]! / counts[c]!;
    history.push(meanEnergy());
  }
  return { model, energyHistory: history, iterations: it };
}
