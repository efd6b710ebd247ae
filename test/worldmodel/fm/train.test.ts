import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { fmConfig } from '../../../worldmodel/fm/config.js';
import { ForwardModel } from '../../../worldmodel/fm/model.js';
import { Adam } from '../../../worldmodel/fm/adam.js';
import { FmNoise } from '../../../worldmodel/fm/noise.js';
import { trainStep } from '../../../worldmodel/fm/train-step.js';
import { SyncBatches } from '../../../worldmodel/fm/batches.js';
import { trainForwardModel, type TrainOptions } from '../../../worldmodel/fm/train.js';
import { loadFm, saveFm, type FmHparams } from '../../../worldmodel/fm/checkpoint.js';
import { openDataset } from '../../../data/dataset.js';
import { maxAbsDiff, randomActions, randomInput, setup, tinyDataset } from './helpers.js';
import { tempDir } from '../../helpers/temp.js';

before(setup);

const tmp = () => tempDir('ppuu-fm-train-');
/** The log's lines without their timings. */
const losses = (out: string) =>
  readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => {
    const { ms: _ms, stepsPerS: _sps, ...rest } = JSON.parse(l) as { step: number; total: number; ms: number; stepsPerS: number };
    return rest;
  });

function run(out: string, extra: Partial<TrainOptions>) {
  return trainForwardModel({ dataset: tinyDataset(), out, preset: 'tiny', kind: 'vae', steps: 4, checkpointEvery: 2, overrides: { npred: 2 }, ...extra });
}

/** Prediction of a checkpoint's model on a fixed input (dropout off, fixed z). */
function predictionOf(dir: string): Float32Array {
  const { model } = loadFm(dir);
  const out = tf.tidy(() => {
    const noise = new FmNoise(9, false);
    const r = model.step(randomInput(model.cfg, 2), randomActions(1, 2)[0]!, model.samplePrior(2, noise), noise);
    return r.image;
  });
  const v = out.dataSync() as Float32Array;
  out.dispose();
  model.dispose();
  return v;
}

test('a fixed seed gives the same loss curve (with or without the prefetching worker); another seed does not', async () => {
  const a = join(tmp(), 'a');
  const b = join(tmp(), 'b');
  const c = join(tmp(), 'c');
  await run(a, { seed: 5 });
  await run(b, { seed: 5, prefetch: false });
  await run(c, { seed: 6, prefetch: false });
  const la = losses(a).map((l) => l.total);
  assert.equal(la.length, 4);
  assert.deepEqual(losses(b).map((l) => l.total), la);
  assert.notDeepEqual(losses(c).map((l) => l.total), la);
});

test('resuming from a checkpoint continues the same curve and ends with identical weights', async () => {
  const full = join(tmp(), 'full');
  const part = join(tmp(), 'part');
  await run(full, { seed: 3, prefetch: false });
  await run(part, { seed: 3, prefetch: false, steps: 2 });
  await assert.rejects(run(part, { seed: 3, prefetch: false }), /--resume/);
  const s = await run(part, { prefetch: false, resume: true });
  assert.equal(s.startStep, 2);
  assert.deepEqual(losses(part), losses(full));
  const pf = predictionOf(full);
  const pp = predictionOf(part);
  assert.deepEqual(pp, pf);
});

test('save and load give identical predictions', async () => {
  const cfg = fmConfig('tiny');
  const m = ForwardModel.create(cfg, 'vae', 11);
  const dir = join(tmp(), 'ck');
  const ds = openDataset(tinyDataset());
  const hp: FmHparams = {
    format: 'ppuu-fm', version: 1, kind: 'vae', preset: 'tiny', config: cfg, stats: ds.manifest.stats, dataset: null, steps: 0,
    paramCount: m.paramCount(), writtenBy: 'test',
  };
  await saveFm(dir, m, hp);
  const loaded = loadFm(dir);
  assert.deepEqual(loaded.hparams.config, cfg);
  tf.tidy(() => {
    const x = randomInput(cfg, 2);
    const acts = randomActions(3, 2);
    const zs = Array.from({ length: 3 }, (_, i) => m.samplePrior(2, new FmNoise(i, false)));
    const r1 = m.unroll(x, { actions: acts, zs, noise: new FmNoise(1, true) });
    const r2 = loaded.model.unroll(x, { actions: acts, zs, noise: new FmNoise(1, true) });
    for (let t = 0; t < 3; t++) {
      assert.equal(maxAbsDiff(r1.images[t]!, r2.images[t]!), 0);
      assert.equal(maxAbsDiff(r1.states[t]!, r2.states[t]!), 0);
    }
  });
  m.dispose();
  loaded.model.dispose();
});

test('overfitting one small batch lowers the loss at least 10x, with a flat tensor count', async () => {
  const cfg = fmConfig('tiny', { npred: 1, learningRate: 1e-2 });
  const ds = openDataset(tinyDataset());
  const batch = await new SyncBatches(ds, { split: 'train', shape: { batch: 2, ncond: cfg.ncond, npred: 1, channels: cfg.channels }, seed: 1, stats: ds.manifest.stats }).next(0);
  const m = ForwardModel.create(cfg, 'vae', 1);
  const adam = new Adam(m.weights, { learningRate: cfg.learningRate });
  const curve: number[] = [];
  const counts: number[] = [];
  for (let i = 0; i < 70; i++) {
    const s = await trainStep(m, adam, batch, FmNoise.forStep(1, i, true));
    assert.equal(s.skipped, false);
    curve.push(s.total);
    counts.push(tf.memory().numTensors);
  }
  const first = curve[0]!;
  const last = Math.min(...curve.slice(-5));
  assert.ok(first / last >= 10, `loss ${first} -> ${last}`);
  assert.ok(counts.every((c) => c === counts[0]), `numTensors ${counts[0]} .. ${counts[counts.length - 1]}`);
  adam.dispose();
  m.dispose();
});

test('a batch with NaN is skipped and leaves the weights unchanged', async () => {
  const cfg = fmConfig('tiny', { npred: 1 });
  const ds = openDataset(tinyDataset());
  const batch = await new SyncBatches(ds, { split: 'train', shape: { batch: 2, ncond: cfg.ncond, npred: 1, channels: cfg.channels }, seed: 1, stats: ds.manifest.stats }).next(0);
  batch.ctxStates[0] = NaN;
  const m = ForwardModel.create(cfg, 'deterministic', 1);
  const adam = new Adam(m.weights, { learningRate: 1e-3 });
  const before = m.weights['enc.conv1.w']!.dataSync().slice();
  const s = await trainStep(m, adam, batch, FmNoise.forStep(1, 0, true));
  assert.equal(s.skipped, true);
  assert.deepEqual(m.weights['enc.conv1.w']!.dataSync(), before);
  assert.equal(adam.t, 0);
  adam.dispose();
  m.dispose();
});

test('--init warm-starts the VAE with every weight of the deterministic model', async () => {
  const det = join(tmp(), 'det');
  await trainForwardModel({ dataset: tinyDataset(), out: det, preset: 'tiny', kind: 'deterministic', steps: 1, overrides: { npred: 1 }, prefetch: false });
  const vae = join(tmp(), 'vae');
  const s = await trainForwardModel({ dataset: tinyDataset(), out: vae, preset: 'tiny', kind: 'vae', init: det, steps: 0, prefetch: false });
  const d = loadFm(det);
  const v = loadFm(vae);
  assert.equal(s.warmStartCopied, d.model.specs.length);
  for (const spec of d.model.specs) assert.equal(maxAbsDiff(d.model.weights[spec.name]!, v.model.weights[spec.name]!), 0, spec.name);
  d.model.dispose();
  v.model.dispose();
});

test('two data-parallel workers compute the same update as one thread (dropout off), and resume', async () => {
  // Without dropout the only randomness is z and the z-dropout coins; the deterministic model has no z.
  const overrides = { npred: 2, dropout: 0, batch: 4 };
  const one = join(tmp(), 'one');
  const two = join(tmp(), 'two');
  await trainForwardModel({ dataset: tinyDataset(), out: one, preset: 'tiny', kind: 'deterministic', steps: 3, overrides, prefetch: false, seed: 2 });
  await trainForwardModel({ dataset: tinyDataset(), out: two, preset: 'tiny', kind: 'deterministic', steps: 2, overrides, prefetch: false, seed: 2, workers: 2 });
  const s = await trainForwardModel({ dataset: tinyDataset(), out: two, steps: 3, resume: true, prefetch: false, workers: 2 });
  assert.equal(s.workers, 2);
  const a = losses(one);
  const b = losses(two);
  assert.equal(b.length, 3);
  for (let i = 0; i < 3; i++) {
    assert.ok(Math.abs(a[i]!.total - b[i]!.total) < 1e-5 * a[i]!.total, `step ${i + 1}: ${a[i]!.total} vs ${b[i]!.total}`);
    assert.ok(Math.abs((a[i] as unknown as { gradNorm: number }).gradNorm - (b[i] as unknown as { gradNorm: number }).gradNorm) < 1e-4);
  }
  const pa = predictionOf(one);
  const pb = predictionOf(two);
  let maxDiff = 0;
  for (let i = 0; i < pa.length; i++) maxDiff = Math.max(maxDiff, Math.abs(pa[i]! - pb[i]!));
  assert.ok(maxDiff < 1e-4, `predictions differ by ${maxDiff}`);
});
