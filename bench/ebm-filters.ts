/**
 * Benchmark: do energy-based models learn localised filters on state images, and how do the
 * sparse solvers compare? `npm run bench -- ebm-filters [--data DATASET] [--conv-steps N]
 * [--max-images N] [--seed N]`. Without --data it draws procedural state-like images (lane lines
 * in red, car blocks in green, an ego block in blue).
 *
 * Figures (last line of output, one JSON object):
 *   localisation  for sparse coding (8x8 patches), PSD (4x4) and the conv sparse AE (4x4 conv):
 *                 the mean share of each filter's energy in its best half-size window
 *                 (worldmodel/ebm/localisation.ts), against random Gaussian filters of the same
 *                 shape measured in the same run (the baseline);
 *   solvers       on the learned 8x8 dictionary and held-out patches: mean ISTA and FISTA
 *                 iterations to KKT <= 1e-4, and the code error of 3 ISTA steps against a
 *                 trained 3-layer LISTA.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../common/rng.js';
import { IMAGE_H, IMAGE_W } from '../data/layout.js';
import { initBackend } from '../worldmodel/backend.js';
import { ensureConvGradients } from '../worldmodel/ebm/conv-backend.js';
import { type ImageSet, loadDatasetImages, samplePatches } from '../worldmodel/ebm/images.js';
import { trainEbm, defaultTrainOptions, type EbmTrainOptions } from '../worldmodel/ebm/train.js';
import { meanLocalisation } from '../worldmodel/ebm/localisation.js';
import { mat, row, sqDist } from '../worldmodel/ebm/linalg.js';
import { fista, ista } from '../worldmodel/ebm/lasso.js';
import { listaEncode, trainLista } from '../worldmodel/ebm/lista.js';
import type { EbmKind } from '../worldmodel/ebm/store.js';

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Procedural 117 x 24 state-like images (used when no dataset is given). */
function proceduralImages(n: number, seed: number): ImageSet {
  const rng = new Rng(seed);
  const H = IMAGE_H;
  const W = IMAGE_W;
  const data = new Uint8Array(n * H * W * 3);
  const set = (i: number, r: number, c: number, ch: number, v: number) => {
    if (r >= 0 && r < H && c >= 0 && c < W) data[((i * H + r) * W + c) * 3 + ch] = v;
  };
  for (let i = 0; i < n; i++) {
    const offset = rng.int(6);
    for (let line = 0; line < 5; line++) for (let r = 0; r < H; r++) set(i, r, offset + line * 6 - 6, 0, 255);
    for (let r = 55; r < 63; r++) for (let c = 10; c < 14; c++) set(i, r, c, 2, 255);
    for (let car = 0; car < 3; car++) {
      const r0 = rng.int(H);
      const c0 = rng.int(W);
      for (let r = r0; r < r0 + 8; r++) for (let c = c0; c < c0 + 4; c++) set(i, r, c, 1, 255);
    }
  }
  return { data, count: n, height: H, width: W, channels: 3 };
}

function randomFilterLocalisation(patch: [number, number, number], K: number, seed: number): number {
  const rng = new Rng(seed);
  const d = patch[0] * patch[1] * patch[2];
  return meanLocalisation(Float64Array.from({ length: d * K }, () => rng.normal()), patch, K);
}

const seed = Number(flag('seed') ?? 1);
const backend = await initBackend();
const data = flag('data');
const images = data ? loadDatasetImages(data, { maxImages: Number(flag('max-images') ?? 2000), seed }) : proceduralImages(1000, seed);
const source = data ?? 'procedural';

const localisation: Record<string, unknown> = {};
async function run(kind: EbmKind, over: Partial<EbmTrainOptions>) {
  const opts = { ...defaultTrainOptions(kind), seed, ...over, kind };
  const t0 = Date.now();
  const { model, summary } = await trainEbm(images, opts);
  const atoms = model.arrays[model.atoms.array]!;
  const K = atoms.shape.at(-1)!;
  localisation[kind] = {
    patch: model.atoms.patch,
    atoms: K,
    steps: opts.steps,
    atomLocalisation: summary.atomLocalisation,
    encoderLocalisation: summary.encoderLocalisation,
    randomFilters: randomFilterLocalisation(model.atoms.patch, K, seed + 17),
    heldOutEnergy: summary.heldOutEnergy,
    msPerStep: (Date.now() - t0) / opts.steps,
    backend: summary.backend,
  };
  return model;
}

// Sparse coding on 8x8 patches, then the solver comparison on its dictionary.
const sparse = await run('sparse', { steps: 40 });
const Wd = sparse.arrays.W!;
const W = mat(Wd.shape[0]!, Wd.shape[1]!, Wd.data);
const lambda = defaultTrainOptions('sparse').lambda;
const test = samplePatches(images, 8, 100, { seed: seed + 99 });
let istaIters = 0;
let fistaIters = 0;
for (let i = 0; i < test.rows; i++) {
  istaIters += ista(W, row(test, i), { lambda, tol: 1e-4, maxIter: 100000 }).iterations / test.rows;
  fistaIters += fista(W, row(test, i), { lambda, tol: 1e-4, maxIter: 100000 }).iterations / test.rows;
}
const train = samplePatches(images, 8, 1000, { seed: seed + 5 });
const Z = mat(train.rows, W.cols);
for (let i = 0; i < train.rows; i++) Z.data.set(fista(W, row(train, i), { lambda, tol: 1e-5 }).z, i * W.cols);
const lista = await trainLista(W, lambda, train, Z, { layers: 3, steps: 300, learningRate: 1e-3, seed });
let istaErr = 0;
let listaErr = 0;
for (let i = 0; i < test.rows; i++) {
  const zStar = fista(W, row(test, i), { lambda, tol: 1e-5 }).z;
  istaErr += sqDist(ista(W, row(test, i), { lambda, tol: 0, maxIter: 3 }).z, zStar) / test.rows;
  listaErr += sqDist(listaEncode(lista.params, row(test, i)), zStar) / test.rows;
}

await run('psd', {});
const convNote = await ensureConvGradients();
// Without fast convolution gradients (stock cpu) a conv step takes seconds: keep the run short.
const convSteps = Number(flag('conv-steps') ?? (convNote ? 20 : 300));
await run('conv-sparse', { steps: convSteps });

const result = {
  bench: 'ebm-filters',
  source,
  images: images.count,
  backend: backend.name,
  convBackendNote: convNote,
  localisation,
  solvers: {
    patch: [8, 8, images.channels],
    atoms: W.cols,
    lambda,
    meanIterationsToKkt1e4: { ista: istaIters, fista: fistaIters },
    codeErrorVsOptimum: { ista3: istaErr, lista3: listaErr },
  },
  tfjs: tf.version.tfjs,
};
process.stdout.write(JSON.stringify(result) + '\n');
