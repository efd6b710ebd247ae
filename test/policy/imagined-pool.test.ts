import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { openDataset } from '../../data/dataset.js';
import { loadFm } from '../../worldmodel/fm/checkpoint.js';
import { EpisodeCache } from '../../worldmodel/fm/episode-cache.js';
import { SyncBatches, type BatchSpec } from '../../worldmodel/fm/batches.js';
import { FmNoise } from '../../worldmodel/fm/noise.js';
import { batchTensors } from '../../worldmodel/fm/train-step.js';
import { ImaginedPool, compose, pooledWorld } from '../../policy/imagined-pool.js';
import { imagineLoggedWorld } from '../../policy/km-rollout.js';
import { setup, tinyDataset, tinyModel } from './helpers.js';

before(setup);

const NPRED = 3;
const B = 2;

async function fixture() {
  const fm = loadFm(await tinyModel('vae'));
  fm.model.setTrainable(false);
  const ds = openDataset(tinyDataset());
  const spec: BatchSpec = { split: 'train', shape: { batch: B, ncond: fm.model.cfg.ncond, npred: NPRED, channels: ds.channels }, seed: 4, stats: fm.hparams.stats };
  const loader = () => new SyncBatches(new EpisodeCache(ds), spec);
  return { fm, loader };
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

test('a pool of reuse 1 and capacity 1 gives batch k with the frames and z the model imagines for its logged actions; its world is imagineLoggedWorld\'s', async () => {
  const { fm, loader } = await fixture();
  const pool = new ImaginedPool(fm.model, loader(), { batch: B, reuse: 1, capacity: 1, seed: 4 });
  const k = 5;
  const got = await pool.next(k);
  const wb = await loader().next(k);
  assert.deepEqual(Array.from(got.batch.ctxImages), Array.from(wb.ctxImages), 'the windows of batch k');
  assert.deepEqual(got.batch.starts, wb.starts);
  const t = batchTensors(wb);
  const ref = imagineLoggedWorld(fm.model, t, NPRED, FmNoise.forStep(4, k, false, 12));
  const frames = await tf.stack(ref.frames).data();
  assert.ok(maxDiff(got.batch.targetImages, frames) < 1e-6, 'the imagined frames replace the logged ones');
  assert.ok(maxDiff(got.batch.targetImages, wb.targetImages) > 1e-3, 'and differ from the logged future');
  assert.equal(got.nz, fm.model.cfg.nz);
  assert.ok(maxDiff(got.zs, await tf.stack(ref.zs).data()) < 1e-6);
  // The training world built from the pooled batch is the one imagined in the step.
  const gt = batchTensors(got.batch);
  const w = pooledWorld(got, gt, fm.model.cfg.ncond, fm.model.cfg.channels);
  assert.ok(maxDiff(await w.contexts.data(), await ref.contexts.data()) < 1e-6, 'contexts slide over the imagined frames');
  for (let s = 0; s < NPRED; s++) {
    assert.ok(maxDiff(await w.refStates![s]!.data(), await ref.refStates![s]!.data()) === 0, 'frames centred on the logged poses');
    assert.ok(maxDiff(await w.zs[s]!.data(), await ref.zs[s]!.data()) < 1e-6);
  }
  tf.dispose([t as never, ref as never, gt as never, w as never]);
  await pool.close();
  fm.model.dispose();
});

test('with reuse R and capacity C update k draws its windows from blocks floor(k / R) ... + C - 1, and a pool started at k (a resumed run) draws the same', async () => {
  const { fm, loader } = await fixture();
  const R = 2;
  const C = 3;
  const run = new ImaginedPool(fm.model, loader(), { batch: B, reuse: R, capacity: C, seed: 4 });
  const seen: Array<{ starts: number[]; ids: string[]; target: Float32Array }> = [];
  for (let k = 0; k < 6; k++) {
    const b = await run.next(k);
    seen.push({ starts: b.batch.starts, ids: b.batch.episodeIds, target: b.batch.targetImages });
    // Every drawn window is one of the blocks' windows.
    const allowed = new Set<string>();
    for (let i = Math.floor(k / R); i < Math.floor(k / R) + C; i++) {
      const wb = await loader().next(i);
      wb.starts.forEach((s, r) => allowed.add(`${wb.episodeIds[r]}@${s}`));
    }
    b.batch.starts.forEach((s, r) => assert.ok(allowed.has(`${b.batch.episodeIds[r]}@${s}`), `update ${k}: window ${b.batch.episodeIds[r]}@${s} from its blocks`));
  }
  const resumed = new ImaginedPool(fm.model, loader(), { batch: B, reuse: R, capacity: C, seed: 4 });
  for (let k = 3; k < 6; k++) {
    const b = await resumed.next(k);
    assert.deepEqual(b.batch.starts, seen[k]!.starts);
    assert.deepEqual(b.batch.episodeIds, seen[k]!.ids);
    assert.ok(maxDiff(b.batch.targetImages, seen[k]!.target) === 0, `update ${k}: the same imagined frames`);
  }
  await run.close();
  await resumed.close();
  fm.model.dispose();
});

test('imagining block after block leaves no tensor behind (the frames live on the host)', async () => {
  const { fm, loader } = await fixture();
  const pool = new ImaginedPool(fm.model, loader(), { batch: B, reuse: 1, capacity: 2, seed: 4 });
  await pool.next(0);
  const before = tf.memory().numTensors;
  // Every update from 1 on imagines one new block (reuse 1).
  for (let k = 1; k < 5; k++) await pool.next(k);
  assert.equal(tf.memory().numTensors, before, 'engine tensors after four more blocks');
  await pool.close();
  fm.model.dispose();
});

test('compose copies each picked row of every step', () => {
  const mk = (base: number) => {
    const frame = 117 * 24 * 1;
    const fill = (n: number) => Float32Array.from({ length: n }, (_, i) => base + i);
    return {
      batch: { batch: 2, ncond: 1, npred: 2, channels: 1, ctxImages: fill(2 * frame), ctxStates: fill(8), actions: fill(8), targetImages: fill(4 * frame), targetStates: fill(16), episodeIds: [`e${base}a`, `e${base}b`], starts: [base, base + 1] },
      zs: fill(2 * 2 * 3),
      nz: 3,
    };
  };
  const a = mk(0);
  const b = mk(1e6);
  const c = compose([{ block: b, row: 1 }, { block: a, row: 0 }]);
  assert.deepEqual(c.batch.episodeIds, ['e1000000b', 'e0a']);
  assert.equal(c.batch.batch, 2);
  // actions [npred, B, 2]: step s, row r at (s * B + r) * 2.
  assert.deepEqual(Array.from(c.batch.actions), [1e6 + 2, 1e6 + 3, 0, 1, 1e6 + 6, 1e6 + 7, 4, 5]);
  assert.deepEqual(Array.from(c.zs.subarray(0, 6)), [1e6 + 3, 1e6 + 4, 1e6 + 5, 0, 1, 2]);
  assert.equal(c.batch.targetImages[117 * 24], 0 + 0, 'step 0, second row: block a row 0');
  assert.equal(c.batch.targetImages[2 * 117 * 24], 1e6 + 3 * 117 * 24, 'step 1, first row: block b row 1');
});
