/**
 * Benchmark: does initialising the forward model's first convolutions from an energy-based
 * encoder help? `npm run bench -- encoder-init --data DATASET [--preset tiny] [--model
 * deterministic] [--steps 300] [--lr X] [--seeds 1] [--evals 3] [--kind conv-sparse] [--ebm-steps 1000]
 * [--tile mean] [--val-windows 128] [--max-images 2000] [--work DIR] [--json]`.
 *
 * 1. Trains the EBM (conv-sparse by default, or psd --patch 4) on the dataset's training-split
 *    state images with F = nfeature / 4 filters (the preset's first convolution) and saves it.
 * 2. For each seed, trains the forward model twice for the same steps on the same batches,
 *    dropout masks and z draws (everything is a function of seed and step): the baseline with
 *    the seeded default init, and one with --encoder-init (worldmodel/fm/ebm-init.ts). Training
 *    runs in segments (exact resumes), so the validation loss is measured at evenly spaced steps
 *    including step 0.
 * 3. Validation loss: the training loss (MSE of images on [0, 1] + MSE of standardised states,
 *    + beta * KL for the VAE with z from the posterior) of npred-step unrolls with the logged
 *    actions, dropout off, on the same fixed windows of the val split for every model. The
 *    copy-last-frame baseline on those windows is printed beside it.
 *
 * Last line of output: one JSON object with both final losses (mean over seeds), per-seed
 * curves and the EBM's training figures.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../common/rng.js';
import { openDataset } from '../data/dataset.js';
import { initFmBackend } from '../worldmodel/fm/setup.js';
import { fmConfig, type FmKind } from '../worldmodel/fm/config.js';
import { trainForwardModel } from '../worldmodel/fm/train.js';
import { loadFm } from '../worldmodel/fm/checkpoint.js';
import type { ForwardModel } from '../worldmodel/fm/model.js';
import { EpisodeCache } from '../worldmodel/fm/episode-cache.js';
import { assembleBatch, sampleWindows, type EpisodeSource, type WindowRef } from '../worldmodel/fm/windows.js';
import { batchTensors } from '../worldmodel/fm/train-step.js';
import { fmLoss, meanSquaredError } from '../worldmodel/fm/losses.js';
import { FmNoise, mixSeed, STREAM } from '../worldmodel/fm/noise.js';
import type { TileMode } from '../worldmodel/fm/ebm-init.js';
import { ensureConvGradients } from '../worldmodel/ebm/conv-backend.js';
import { loadDatasetImages } from '../worldmodel/ebm/images.js';
import { trainEbm, defaultTrainOptions } from '../worldmodel/ebm/train.js';
import { saveEbmModel } from '../worldmodel/ebm/store.js';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1]!;
}
const data = flag('data', '');
if (!data) {
  process.stderr.write('usage: npm run bench -- encoder-init --data DATASET [--preset tiny] [--steps 300] [--seeds 1] ...\n');
  process.exit(2);
}
const preset = flag('preset', 'tiny');
const kind = flag('model', 'deterministic') as FmKind;
const steps = Number(flag('steps', '300'));
const lr = process.argv.includes('--lr') ? Number(flag('lr', '')) : undefined;
const seeds = flag('seeds', '1').split(',').map(Number);
const evals = Math.max(1, Number(flag('evals', '3')));
const ebmKind = flag('kind', 'conv-sparse') as 'conv-sparse' | 'psd';
const ebmSteps = Number(flag('ebm-steps', '1000'));
const tile = flag('tile', 'mean') as TileMode;
const valWindows = Number(flag('val-windows', '128'));
const maxImages = Number(flag('max-images', '2000'));
const keep = process.argv.includes('--work');
const work = keep ? flag('work', '') : mkdtempSync(join(tmpdir(), 'ppuu-bench-encinit-'));
const say = (line: string) => process.stderr.write(line + '\n');

const t0 = performance.now();
const backend = await initFmBackend(undefined, { training: true });
const ds = openDataset(data);
const cfg = fmConfig(preset, { channels: ds.channels, learningRate: lr });
const filters = cfg.nfeature / 4;

// 1. The EBM, on the training split's images.
const ebmNote = await ensureConvGradients();
const images = loadDatasetImages(data, { split: 'train', maxImages, seed: 1 });
const ebmOpts = { ...defaultTrainOptions(ebmKind), atoms: filters, steps: ebmSteps, seed: 1, ...(ebmKind === 'psd' ? { patch: 4 } : {}) };
const { model: ebm, summary: ebmSummary } = await trainEbm(images, { kind: ebmKind, ...ebmOpts });
ebm.training.dataset = data;
const ebmDir = join(work, 'ebm');
await saveEbmModel(ebmDir, ebm);
say(`ebm ${ebmKind}: ${filters} filters, ${ebmSteps} steps in ${ebmSummary.seconds.toFixed(1)} s, held-out energy ${ebmSummary.heldOutEnergy.toPrecision(4)}, encoder localisation ${ebmSummary.encoderLocalisation?.toFixed(3)}`);

// 3. Fixed validation windows, the same for every model.
const source: EpisodeSource = new EpisodeCache(ds);
const refs: WindowRef[] = sampleWindows(source.episodes('val'), cfg.ncond + cfg.npred, valWindows, new Rng(mixSeed(12345, STREAM.eval)), 'val');
const EVAL_BATCH = 16;

interface ValLoss {
  total: number;
  image: number;
  state: number;
}

/** Mean validation loss of `model` (or of the copy-last-frame prediction) over the fixed windows. */
function validationLoss(model: ForwardModel, copyLast = false): ValLoss {
  const sum = { total: 0, image: 0, state: 0 };
  for (let start = 0; start < refs.length; start += EVAL_BATCH) {
    const part = refs.slice(start, start + EVAL_BATCH);
    const batch = assembleBatch(source, part, { ncond: cfg.ncond, npred: cfg.npred, channels: cfg.channels }, ds.manifest.stats);
    const parts = tf.tidy(() => {
      const t = batchTensors(batch);
      if (copyLast) {
        const last = model.lastFrame(t.input);
        const image = meanSquaredError(t.targetImages.map(() => last.image), t.targetImages);
        const state = meanSquaredError(t.targetStates.map(() => last.state), t.targetStates);
        return tf.stack([tf.add(image, state), image, state]);
      }
      const noise = FmNoise.forStep(777, start, false, STREAM.eval);
      const r = model.unroll(t.input, { actions: t.actions, noise, targets: model.kind === 'vae' ? t.targetImages : undefined, zDropout: 0 });
      const l = fmLoss(r.images, t.targetImages, r.states, t.targetStates, r.kl, model.cfg.beta);
      return tf.stack([l.total, l.image, l.state]);
    });
    const v = parts.dataSync();
    parts.dispose();
    sum.total += v[0]! * part.length;
    sum.image += v[1]! * part.length;
    sum.state += v[2]! * part.length;
  }
  return { total: sum.total / refs.length, image: sum.image / refs.length, state: sum.state / refs.length };
}

function evalCheckpoint(dir: string, copyLast = false): ValLoss {
  const { model } = loadFm(dir);
  try {
    return validationLoss(model, copyLast);
  } finally {
    model.dispose();
  }
}

// 2. Baseline and EBM-initialised runs, same seeds and steps.
const milestones = Array.from({ length: evals }, (_, i) => Math.round(((i + 1) * steps) / evals));
interface Curve {
  step: number;
  val: ValLoss;
}
async function trainRun(out: string, seed: number, encoderInit: string | undefined): Promise<{ curve: Curve[]; trainLossTail: number | null; secondsPerStep: number }> {
  const base = { dataset: data, out, preset, kind, seed, checkpointEvery: steps + 1, overrides: { learningRate: lr } };
  await trainForwardModel({ ...base, steps: 0, encoderInit, encoderTile: encoderInit ? tile : undefined });
  const curve: Curve[] = [{ step: 0, val: evalCheckpoint(out) }];
  let tail: number | null = null;
  let seconds = 0;
  for (const m of milestones) {
    const s = await trainForwardModel({ ...base, steps: m, resume: true });
    seconds += s.secondsPerStep * (s.steps - s.startStep);
    tail = s.meanLossTail;
    curve.push({ step: m, val: evalCheckpoint(out) });
    say(`${encoderInit ? 'ebm-init' : 'baseline'} seed ${seed} step ${m}: val ${curve.at(-1)!.val.total.toFixed(5)}`);
  }
  return { curve, trainLossTail: tail, secondsPerStep: seconds / steps };
}

const runs = [];
let copyLast: ValLoss | null = null;
for (const seed of seeds) {
  const baseline = await trainRun(join(work, `base-${seed}`), seed, undefined);
  const withInit = await trainRun(join(work, `init-${seed}`), seed, ebmDir);
  copyLast ??= evalCheckpoint(join(work, `base-${seed}`), true);
  runs.push({ seed, baseline, encoderInit: withInit });
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const finalOf = (r: { curve: Curve[] }) => r.curve.at(-1)!.val.total;
const baseFinal = mean(runs.map((r) => finalOf(r.baseline)));
const initFinal = mean(runs.map((r) => finalOf(r.encoderInit)));
const result = {
  bench: 'encoder-init',
  dataset: data,
  backend: backend.name,
  preset,
  model: kind,
  steps,
  learningRate: cfg.learningRate,
  seeds,
  tile,
  valWindows: refs.length,
  ebm: {
    kind: ebmKind, filters, steps: ebmSteps, seconds: ebmSummary.seconds, heldOutEnergy: ebmSummary.heldOutEnergy,
    firstEnergy: ebmSummary.firstEnergy, lastEnergy: ebmSummary.lastEnergy, encoderLocalisation: ebmSummary.encoderLocalisation, note: ebmNote,
  },
  /** Validation loss after `steps` updates, mean over seeds. */
  valLoss: { baseline: baseFinal, encoderInit: initFinal, copyLast: copyLast?.total ?? null },
  /** (encoderInit - baseline) / baseline: negative means the EBM init ends lower. */
  relativeChange: (initFinal - baseFinal) / baseFinal,
  runs,
  loadavg: loadavg()[0],
  seconds: (performance.now() - t0) / 1000,
};
if (!keep) rmSync(work, { recursive: true, force: true });
console.log(JSON.stringify(result));
