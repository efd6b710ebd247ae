/**
 * The core abstraction of the energy-based modules (docs/method.md section 8): an energy E(x, y, z) that
 * scores how compatible an observation y is with an optional conditioning input x and a latent z
 * (low = compatible). Every model in this folder implements `LatentEnergy` and gets, for free:
 *
 *   - zero-temperature inference   F_inf(x, y) = min_z E(x, y, z), with the minimising z;
 *   - the free energy               F_beta(x, y) = -1/beta log sum_z exp(-beta E(x, y, z)),
 *     exactly for a discrete latent (enumerated) and by importance sampling for a continuous one
 *     (-1/beta log E_{z~q}[exp(-beta E)] with q the model's latent proposal);
 *   - F_beta tends to F_inf as beta grows.
 *
 * Vectors are plain Float64Array (the plain-TypeScript models); the tfjs models expose the same
 * interface on single examples for inspection and implement their batched training separately.
 */
import { Rng } from '../../common/rng.js';

export interface Inference<Z> {
  /** The minimising latent. */
  z: Z;
  /** E(x, y, z) at that latent: the zero-temperature free energy. */
  energy: number;
}

export interface LatentEnergy<Z> {
  /** Name for reports ('pca', 'kmeans', 'sparse', ...). */
  readonly kind: string;
  /** E(x, y, z); `x` is ignored by unconditional models. */
  energy(y: Float64Array, z: Z, x?: Float64Array): number;
  /** argmin_z E(x, y, z) and its value (exact for discrete latents, a solver's answer otherwise). */
  infer(y: Float64Array, x?: Float64Array): Inference<Z>;
  /** The finite set of latent values, when the latent is discrete (K-means: 0..K-1). */
  latents?(): Z[];
  /** Draws a latent from the model's proposal q(z), when the latent is continuous. */
  sampleLatent?(rng: Rng): Z;
}

/** F(x, y) = min_z E(x, y, z). */
export function minEnergy<Z>(model: LatentEnergy<Z>, y: Float64Array, x?: Float64Array): number {
  return model.infer(y, x).energy;
}

/** -1/beta log sum_i exp(-beta e_i), computed stably (shifted by the minimum). */
export function softMin(energies: ArrayLike<number>, beta: number): number {
  if (energies.length === 0) throw new Error('softMin: no energies');
  let m = Infinity;
  for (let i = 0; i < energies.length; i++) m = Math.min(m, energies[i]!);
  if (!Number.isFinite(beta)) return m;
  if (!(beta > 0)) throw new Error(`softMin: beta must be > 0, got ${beta}`);
  let s = 0;
  for (let i = 0; i < energies.length; i++) s += Math.exp(-beta * (energies[i]! - m));
  return m - Math.log(s) / beta;
}

export interface FreeEnergyOptions {
  /** Inverse temperature; Infinity gives min_z E. */
  beta: number;
  x?: Float64Array;
  /** For continuous latents: number of samples from q(z) and the seed. */
  samples?: number;
  seed?: number;
}

/**
 * The free energy F_beta(x, y). Discrete latent: exact log-sum-exp over all z. Continuous
 * latent: -1/beta log( (1/N) sum_i exp(-beta E(z_i)) ), z_i ~ q, which estimates
 * -1/beta log E_q[exp(-beta E)] (biased upwards for finite N, exact as N grows).
 */
export function freeEnergy<Z>(model: LatentEnergy<Z>, y: Float64Array, opts: FreeEnergyOptions): number {
  if (!Number.isFinite(opts.beta)) return minEnergy(model, y, opts.x);
  if (model.latents) {
    return softMin(model.latents().map((z) => model.energy(y, z, opts.x)), opts.beta);
  }
  if (!model.sampleLatent) throw new Error(`freeEnergy: model '${model.kind}' has neither a discrete latent nor a proposal`);
  const n = opts.samples ?? 1000;
  const rng = new Rng(opts.seed ?? 0);
  const e = new Float64Array(n);
  for (let i = 0; i < n; i++) e[i] = model.energy(y, model.sampleLatent(rng), opts.x);
  // log-mean-exp = log-sum-exp - log N.
  return softMin(e, opts.beta) + Math.log(n) / opts.beta;
}

/** Mean of min_z E over a set of observations (the "loss" of an architectural EBM). */
export function meanEnergy<Z>(model: LatentEnergy<Z>, ys: readonly Float64Array[]): number {
  let s = 0;
  for (const y of ys) s += minEnergy(model, y);
  return ys.length === 0 ? 0 : s / ys.length;
}
