/**
 * Trains one kind of energy-based model on state images and packs it for store.ts. The dense
 * kinds (kmeans, pca, sparse, lista, psd) learn on random size x size patches (values in
 * [0, 1], (row, col, channel) order); conv-sparse learns on crops of full-width rows.
 * Every result carries the mean energy min_z E on held-out samples (patches or crops drawn with
 * another seed) and how localised the learned atoms are (localisation.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../common/errors.js';
import { Rng } from '../../common/rng.js';
import { type ImageSet, samplePatches, sampleRowCrops } from './images.js';
import { type Mat, mat, row } from './linalg.js';
import { fitPca } from './pca.js';
import { fitKmeans } from './kmeans.js';
import { fitSparseCoding, SparseCodingEnergy } from './sparse-coding.js';
import { fista } from './lasso.js';
import { ListaEnergy, trainLista } from './lista.js';
import { PsdEnergy, trainPsd } from './psd.js';
import { trainConvSparse, convSparseEncode, convSparseEnergy, disposeConvSparse } from './conv-sparse.js';
import { meanEnergy, type LatentEnergy } from './energy.js';
import { meanLocalisation } from './localisation.js';
import type { EbmKind, EbmModelToSave, ArrayData } from './store.js';

export interface EbmTrainOptions {
  kind: EbmKind;
  /** Atoms, clusters, components or filters (K). */
  atoms: number;
  /** Patch side for the dense kinds. */
  patch: number;
  lambda: number;
  /** Optimisation steps (K-means: maximum Lloyd iterations). */
  steps: number;
  batch: number;
  /** Patches drawn for the dense kinds. */
  samples: number;
  /** LISTA: unrolled layers; conv-sparse: encoder recurrence steps. */
  layers: number;
  /** PSD: weight of the prediction term. */
  alpha: number;
  /** conv-sparse: rows per training crop (even). */
  cropRows: number;
  learningRate: number;
  seed: number;
  onProgress?: (done: number, total: number, energy: number) => void;
}

/** Per-kind defaults (the CLI's flags override them). */
export function defaultTrainOptions(kind: EbmKind): Omit<EbmTrainOptions, 'kind' | 'onProgress'> {
  const base = { atoms: 64, patch: 8, lambda: 0.1, steps: 100, batch: 64, samples: 5000, layers: 3, alpha: 1, cropRows: 32, learningRate: 1e-3, seed: 1 };
  switch (kind) {
    case 'kmeans':
      return { ...base, steps: 50 };
    case 'pca':
      return { ...base, atoms: 32 };
    case 'lista':
      return { ...base, steps: 300 };
    case 'psd':
      // 4x4 patches: the encoder is then a conv kernel for the world model's first layer.
      return { ...base, patch: 4, lambda: 0.05, steps: 300 };
    case 'conv-sparse':
      return { ...base, lambda: 0.05, batch: 8, steps: 200, learningRate: 3e-3 };
    default:
      return base;
  }
}

export interface EbmTrainSummary {
  kind: EbmKind;
  images: number;
  samples: number;
  heldOutEnergy: number;
  firstEnergy: number | null;
  lastEnergy: number | null;
  /** Mean share of each atom's energy in its best half-size window (localisation.ts). */
  atomLocalisation: number;
  encoderLocalisation: number | null;
  seconds: number;
  backend: string;
}

const f32 = (m: Mat): ArrayData => ({ data: Float32Array.from(m.data), shape: [m.rows, m.cols] });
const vec = (v: ArrayLike<number>): ArrayData => ({ data: Float32Array.from(v), shape: [v.length] });

function heldOut<Z>(model: LatentEnergy<Z>, P: Mat): number {
  const ys: Float64Array[] = [];
  for (let i = 0; i < P.rows; i++) ys.push(row(P, i));
  return meanEnergy(model, ys);
}

/** Trains and packs one model. Throws UserError for options that cannot work with these images. */
export async function trainEbm(images: ImageSet, opts: EbmTrainOptions): Promise<{ model: EbmModelToSave; summary: EbmTrainSummary }> {
  const t0 = Date.now();
  if (images.count === 0) throw new UserError('no images to train on');
  const C = images.channels;
  const hyper: EbmModelToSave['hyper'] = { atoms: opts.atoms, lambda: opts.lambda, steps: opts.steps, seed: opts.seed };
  let history: number[] = [];
  let model: EbmModelToSave;
  let held: number;
  let samples = 0;
  if (opts.kind === 'conv-sparse') {
    if (opts.cropRows % 2 !== 0 || images.width % 2 !== 0) throw new UserError(`field crop-rows: crops must have even height and width, got ${opts.cropRows}x${images.width}`);
    const crop = (n: number, rng: Rng) => tf.tensor4d(sampleRowCrops(images, opts.cropRows, n, rng), [n, opts.cropRows, images.width, C]);
    const { params, energyHistory, reseeded } = await trainConvSparse({
      filters: opts.atoms, lambda: opts.lambda, encoderSteps: opts.layers, steps: opts.steps, learningRate: opts.learningRate, seed: opts.seed, channels: C,
      batch: (rng) => crop(opts.batch, rng),
      onStep: (s, e) => opts.onProgress?.(s + 1, opts.steps, e),
    });
    history = energyHistory;
    try {
      const testCrops = crop(32, new Rng(opts.seed + 7919));
      const e = tf.tidy(() => convSparseEnergy(params.D, opts.lambda, testCrops, convSparseEncode(params, testCrops)).mean());
      held = (await e.data())[0]!;
      e.dispose();
      testCrops.dispose();
      samples = opts.steps * opts.batch;
      const [D, E, Dt, theta] = (await Promise.all([params.D, params.E, params.Dt, params.theta].map((t) => t.data()))) as [Float32Array, Float32Array, Float32Array, Float32Array];
      const k4 = [4, 4, C, opts.atoms];
      hyper.encoderSteps = opts.layers;
      hyper.cropRows = opts.cropRows;
      hyper.learningRate = opts.learningRate;
      hyper.batch = opts.batch;
      model = {
        kind: 'conv-sparse', hyper,
        arrays: { D: { data: D, shape: k4 }, E: { data: E, shape: k4 }, Dt: { data: Dt, shape: k4 }, theta: vec(theta), encoder_bias: vec(Array.from(theta, (v) => -v)) },
        atoms: { array: 'D', patch: [4, 4, C] },
        encoder: { kernel: 'E', bias: 'encoder_bias', stride: 2, padding: 1 },
        training: { reseededFilters: reseeded },
      };
    } finally {
      disposeConvSparse(params);
    }
  } else {
    const P = samplePatches(images, opts.patch, opts.samples, { seed: opts.seed });
    const test = samplePatches(images, opts.patch, Math.min(500, opts.samples), { seed: opts.seed + 7919 });
    samples = P.rows;
    hyper.patch = opts.patch;
    hyper.samples = P.rows;
    const patch: [number, number, number] = [opts.patch, opts.patch, C];
    const d = P.cols;
    switch (opts.kind) {
      case 'pca': {
        const k = Math.min(opts.atoms, d);
        const pca = fitPca(P, k);
        opts.onProgress?.(1, 1, 0);
        held = heldOut(pca, test);
        hyper.atoms = k;
        model = { kind: 'pca', hyper, arrays: { W: f32(pca.W), mean: vec(pca.mean), variances: vec(pca.variances) }, atoms: { array: 'W', patch }, encoder: null, training: {} };
        break;
      }
      case 'kmeans': {
        if (opts.atoms > P.rows) throw new UserError(`field atoms: ${opts.atoms} clusters need at least as many samples (--samples ${P.rows})`);
        const fit = fitKmeans(P, opts.atoms, { seed: opts.seed, maxIter: opts.steps });
        history = fit.energyHistory;
        opts.onProgress?.(opts.steps, opts.steps, history.at(-1)!);
        held = heldOut(fit.model, test);
        model = { kind: 'kmeans', hyper, arrays: { W: f32(fit.model.W) }, atoms: { array: 'W', patch }, encoder: null, training: { iterations: fit.iterations } };
        break;
      }
      case 'sparse':
      case 'lista': {
        const dictSteps = opts.kind === 'sparse' ? opts.steps : Math.max(20, Math.round(opts.steps / 3));
        const total = opts.kind === 'sparse' ? opts.steps : dictSteps + opts.steps;
        const fit = fitSparseCoding(P, opts.atoms, { lambda: opts.lambda, steps: dictSteps, batch: opts.batch, seed: opts.seed, onStep: (s, e) => opts.onProgress?.(s + 1, total, e) });
        history = fit.energyHistory;
        const W = fit.model.W;
        if (opts.kind === 'sparse') {
          held = heldOut(new SparseCodingEnergy(W, opts.lambda), test);
          model = { kind: 'sparse', hyper, arrays: { W: f32(W) }, atoms: { array: 'W', patch }, encoder: null, training: {} };
          break;
        }
        // LISTA learns to predict FISTA's optimal codes of the learned dictionary.
        const n = Math.min(P.rows, 2000);
        const Z = mat(n, opts.atoms);
        const Yt = mat(n, d, P.data.subarray(0, n * d));
        for (let i = 0; i < n; i++) Z.data.set(fista(W, row(P, i), { lambda: opts.lambda, tol: 1e-5, maxIter: 2000 }).z, i * opts.atoms);
        const lista = await trainLista(W, opts.lambda, Yt, Z, { layers: opts.layers, steps: opts.steps, batch: opts.batch, learningRate: opts.learningRate, seed: opts.seed, onStep: (s, e) => opts.onProgress?.(dictSteps + s + 1, total, e) });
        hyper.layers = opts.layers;
        held = heldOut(new ListaEnergy(W, opts.lambda, lista.params), test);
        model = {
          kind: 'lista', hyper,
          arrays: { W: f32(W), We: f32(lista.params.We), S: f32(lista.params.S), theta: vec(lista.params.theta) },
          atoms: { array: 'W', patch }, encoder: null,
          training: { dictionaryEnergy: history, codeLossFirst: lista.lossHistory[0], codeLossLast: lista.lossHistory.at(-1) },
        };
        history = lista.lossHistory;
        break;
      }
      case 'psd': {
        const fit = await trainPsd(P, { atoms: opts.atoms, lambda: opts.lambda, alpha: opts.alpha, steps: opts.steps, batch: opts.batch, learningRate: opts.learningRate, seed: opts.seed, onStep: (s, e) => opts.onProgress?.(s + 1, opts.steps, e) });
        history = fit.energyHistory;
        const p = fit.params;
        held = heldOut(new PsdEnergy(p), test);
        hyper.alpha = opts.alpha;
        hyper.learningRate = opts.learningRate;
        const isConv = opts.patch === 4;
        model = {
          kind: 'psd', hyper,
          arrays: { W: f32(p.W), We: isConv ? { data: Float32Array.from(p.We.data), shape: [4, 4, C, opts.atoms] } : f32(p.We), b: vec(p.b), g: vec(p.g) },
          atoms: { array: 'W', patch }, encoder: isConv ? { kernel: 'We', bias: 'b', stride: 2, padding: 1 } : null,
          training: {},
        };
        break;
      }
      default:
        throw new UserError(`unknown ebm kind '${opts.kind as string}'`);
    }
  }
  const atomsArr = model.arrays[model.atoms.array]!;
  const K = atomsArr.shape.at(-1)!;
  const atomLocalisation = meanLocalisation(atomsArr.data, model.atoms.patch, K);
  const enc = model.encoder ? model.arrays[model.encoder.kernel]! : null;
  const encoderLocalisation = enc ? meanLocalisation(enc.data, model.atoms.patch, enc.shape.at(-1)!) : null;
  const summary: EbmTrainSummary = {
    kind: opts.kind,
    images: images.count,
    samples,
    heldOutEnergy: held,
    firstEnergy: history[0] ?? null,
    lastEnergy: history.at(-1) ?? null,
    atomLocalisation,
    encoderLocalisation,
    seconds: (Date.now() - t0) / 1000,
    backend: tf.getBackend(),
  };
  model.training = { ...model.training, ...summary, history: downsample(history, 200) };
  return { model, summary };
}

/** At most n evenly spaced values (keeps ebm.json small for long runs). */
function downsample(h: number[], n: number): number[] {
  if (h.length <= n) return h;
  return Array.from({ length: n }, (_, i) => h[Math.round((i * (h.length - 1)) / (n - 1))]!);
}
