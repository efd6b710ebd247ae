import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../common/rng.js';
import { openDataset } from '../../../data/dataset.js';
import { IMAGE_H as H, IMAGE_W as W } from '../../../data/layout.js';
import { batchTensors } from '../../../worldmodel/fm/train-step.js';
import { assembleBatch, checkWindowBatch, sampleWindows, sliceBatch, windowBatchShapes, type WindowBatch } from '../../../worldmodel/fm/windows.js';
import { SyncBatches } from '../../../worldmodel/fm/batches.js';
import { Prefetcher } from '../../../worldmodel/fm/prefetch.js';
import { tinyDataset } from './helpers.js';

test('windows hold normalised context, targets and the actions that lead to each target', () => {
  const ds = openDataset(tinyDataset());
  const stats = ds.manifest.stats;
  const metas = ds.episodes('train');
  const ncond = 3;
  const npred = 4;
  const refs = sampleWindows(metas, ncond + npred, 5, new Rng(4));
  for (const r of refs) assert.ok(r.start >= 0 && r.start + ncond + npred <= r.meta.length);
  const b = assembleBatch(ds, refs, { ncond, npred, channels: 3 }, stats);
  refs.forEach((ref, row) => {
    const ep = ds.load(ref.meta);
    const s = ref.start;
    for (const [f, p, c] of [[0, 0, 0], [2, 100, 1], [1, H * W - 1, 2], [2, 1234, 0]] as const) {
      assert.equal(b.ctxImages[((row * H * W + p) * ncond + f) * 3 + c], ep.images[((s + f) * H * W + p) * 3 + c]! / 255);
    }
    for (let k = 0; k < npred; k++) {
      const t = s + ncond + k;
      for (let j = 0; j < 2; j++) {
        const want = (ep.actions[(t - 1) * 2 + j]! - stats.actionMean[j]!) / stats.actionStd[j]!;
        assert.ok(Math.abs(b.actions[(k * 5 + row) * 2 + j]! - want) < 1e-5);
      }
      for (let d = 0; d < 4; d++) {
        const want = (ep.states[t * 28 + d]! - stats.stateMean[d]!) / stats.stateStd[d]!;
        assert.ok(Math.abs(b.targetStates[(k * 5 + row) * 4 + d]! - want) < 1e-5);
      }
      assert.equal(b.targetImages[(k * 5 + row) * H * W * 3 + 777], ep.images[t * H * W * 3 + 777]! / 255);
    }
    const lastCtx = (ep.states[(s + ncond - 1) * 28]! - stats.stateMean[0]!) / stats.stateStd[0]!;
    assert.ok(Math.abs(b.ctxStates[(row * ncond + ncond - 1) * 4]! - lastCtx) < 1e-5);
  });
  const part = sliceBatch(b, 1, 3);
  const direct = assembleBatch(ds, refs.slice(1, 3), { ncond, npred, channels: 3 }, stats);
  for (const k of ['ctxImages', 'ctxStates', 'actions', 'targetImages', 'targetStates'] as const) assert.deepEqual(part[k], direct[k], k);
});

test('the prefetching worker delivers the same batches as building them in place, from any start step', async () => {
  const ds = openDataset(tinyDataset());
  const spec = { split: 'train' as const, shape: { batch: 3, ncond: 2, npred: 2, channels: 3 }, seed: 9, stats: ds.manifest.stats };
  const sync = new SyncBatches(ds, spec);
  const pre = new Prefetcher(tinyDataset(), spec, 2);
  try {
    for (const step of [5, 6, 7]) {
      const a = await pre.next(step);
      const b = await sync.next(step);
      assert.deepEqual(a.starts, b.starts);
      assert.deepEqual(a.episodeIds, b.episodeIds);
      assert.deepEqual(a.targetImages, b.targetImages);
    }
    const other = await sync.next(8);
    const again = await sync.next(7);
    assert.notDeepEqual([other.episodeIds, other.starts], [again.episodeIds, again.starts]);
  } finally {
    await pre.close();
  }
});

test('a window batch whose array lengths differ from its declared shape is refused where it is built and where it enters the compute', () => {
  const ds = openDataset(tinyDataset());
  const refs = sampleWindows(ds.episodes('train'), 5, 3, new Rng(2));
  const b = assembleBatch(ds, refs, { ncond: 3, npred: 2, channels: 3 }, ds.manifest.stats);
  assert.equal(checkWindowBatch(b), b);
  const shapes = windowBatchShapes(b);
  assert.deepEqual(shapes.ctxImages, [3, H, W, 9]);
  assert.deepEqual(shapes.actions, [2, 3, 2]);
  for (const [k, a] of Object.entries(b)) {
    if (!(a instanceof Float32Array) && !Array.isArray(a)) continue;
    const short = { ...b, [k]: a.slice(0, a.length - 1) } as WindowBatch;
    assert.throws(() => checkWindowBatch(short), new RegExp(`${k} has ${a.length - 1} values, its shape \\[${(shapes as Record<string, number[]>)[k]!.join(', ')}\\] needs ${a.length}`), k);
  }
  // A declared shape that disagrees with the arrays: one more predicted step than they hold.
  assert.throws(() => checkWindowBatch({ ...b, npred: 3 }), /actions has 12 values, its shape \[3, 3, 2\] needs 18/);
  assert.throws(() => batchTensors({ ...b, channels: 4 }), /ctxImages has/);
  assert.throws(() => sliceBatch({ ...b, batch: 4 }, 0, 2), /window batch: .* has/);
});
