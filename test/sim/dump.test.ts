import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataset } from '../../data/dataset.js';
import { readTrackStore } from '../../data/track-store.js';
import { buildEpisode } from '../../sim/episode.js';
import { dumpDataset } from '../../sim/io/dump.js';
import { datasetStats } from '../../sim/io/stats.js';
import { I80_MAP } from '../../sim/map.js';
import { Rasteriser } from '../../sim/raster/rasteriser.js';
import { ReplayData } from '../../sim/replay.js';
import { writeTraffic } from './helpers/traffic.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'ppuu-dump-test-'));

test('dump then read back gives the simulator episodes exactly, with manifest, split and statistics', async () => {
  const dir = tmp();
  try {
    const tracks = await writeTraffic({ perLane: 2, lanes: [1, 2, 4], laneChanger: 3 }, join(dir, 'tracks'));
    const out = join(dir, 'ds');
    const summary = await dumpDataset({ trajectories: tracks, out, workers: 1 });
    assert.equal(summary.episodes, 6);
    assert.equal(summary.written, 6);
    const ds = openDataset(out);
    assert.deepEqual(ds.manifest.imageShape, [117, 24, 3]);
    assert.deepEqual(ds.manifest.costNames, ['proximity', 'lane', 'offroad']);
    assert.equal(ds.manifest.sources[0]!.slot, '0400-0415');
    const data = ReplayData.fromTrackStore(I80_MAP, readTrackStore(tracks));
    const R = new Rasteriser(I80_MAP);
    for (const meta of ds.episodes()) {
      const ep = ds.load(meta);
      const ref = buildEpisode(data, meta.vehicleId, R)!;
      assert.equal(meta.length, ref.length);
      assert.deepEqual(ep.images, ref.images);
      assert.deepEqual(ep.states, ref.states);
      assert.deepEqual(ep.actions, ref.actions);
      assert.deepEqual(ep.costs, ref.costs);
      assert.deepEqual(ep.frames, ref.frames);
      // Consecutive frames, ego row equal to the replayed state at that frame.
      const car = data.car(meta.vehicleId)!;
      for (let t = 0; t < meta.length; t += 17) {
        assert.equal(ep.frames[t], ep.frames[0]! + t);
        assert.ok(Math.abs(ep.states[t * 28]! - car.x[ep.frames[t]! - car.firstFrame]!) < 1e-3);
      }
    }
    // Statistics of the training split: mean ego x over its frames.
    const train = ds.episodes('train').map((m) => ds.load(m));
    let sum = 0;
    let n = 0;
    for (const e of train) for (let t = 0; t < e.meta.length; t++, n++) sum += e.states[t * 28]!;
    assert.ok(Math.abs(ds.manifest.stats.stateMean[0]! - sum / n) < 1e-3);
    const st = datasetStats(out);
    assert.equal(st.frames, summary.frames);
    assert.equal(st.splits.train.episodes + st.splits.val.episodes + st.splits.test.episodes, 6);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an interrupted dump resumes, worker threads give the same files, and splits are deterministic', async () => {
  const dir = tmp();
  try {
    const tracks = await writeTraffic({ perLane: 2, lanes: [0, 3] }, join(dir, 'tracks'));
    const a = join(dir, 'a');
    await dumpDataset({ trajectories: tracks, out: a, workers: 1, splitSeed: 5 });
    const manifestA = JSON.parse(readFileSync(join(a, 'manifest.json'), 'utf8'));
    // Simulate an interruption: no manifest, one episode missing, a temp folder left behind.
    const b = join(dir, 'b');
    await dumpDataset({ trajectories: tracks, out: b, workers: 2, splitSeed: 5 });
    rmSync(join(b, 'manifest.json'));
    const victim = manifestA.episodes[1].id as string;
    rmSync(join(b, 'episodes', victim), { recursive: true });
    writeFileSync(join(b, 'episodes', '.x.tmp-123'), 'partial');
    assert.throws(() => openDataset(b), /not a finished dataset/);
    const resumed = await dumpDataset({ trajectories: tracks, out: b, workers: 2, splitSeed: 5 });
    assert.equal(resumed.written, 1);
    assert.equal(resumed.resumed, 3);
    assert.ok(!existsSync(join(b, 'episodes', '.x.tmp-123')));
    const manifestB = JSON.parse(readFileSync(join(b, 'manifest.json'), 'utf8'));
    assert.deepEqual(manifestB.episodes, manifestA.episodes);
    assert.deepEqual(manifestB.stats, manifestA.stats);
    for (const e of manifestA.episodes) {
      assert.deepEqual(readFileSync(join(b, 'episodes', e.id, 'images.npy')), readFileSync(join(a, 'episodes', e.id, 'images.npy')));
    }
    // Another split seed keeps the same episodes.
    const c = join(dir, 'c');
    await dumpDataset({ trajectories: tracks, out: c, workers: 1, splitSeed: 6 });
    const manifestC = JSON.parse(readFileSync(join(c, 'manifest.json'), 'utf8'));
    assert.deepEqual(manifestC.episodes.map((e: { id: string }) => e.id), manifestA.episodes.map((e: { id: string }) => e.id));
    // A different dump into an existing folder is refused.
    await assert.rejects(dumpDataset({ trajectories: tracks, out: a, workers: 1, splitSeed: 6 }), /different inputs/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
