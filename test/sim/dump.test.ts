import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDataset } from '../../data/dataset.js';
import { readTrackStore } from '../../data/track-store.js';
import { buildEpisode } from '../../sim/episode.js';
import { dumpDataset } from '../../sim/io/dump.js';
import { datasetStats } from '../../sim/io/stats.js';
import { I80_MAP } from '../../sim/map.js';
import { Rasteriser } from '../../sim/raster/rasteriser.js';
import { ReplayData } from '../../sim/replay.js';
import { makeTrack, makeTraffic, writeTraffic } from './helpers/traffic.js';
import { writeTrackStore } from '../../data/track-store.js';
import { clipAction, stepCar, type CarState } from '../../sim/kinematics.js';
import { tempDir } from '../helpers/temp.js';

const tmp = () => tempDir('ppuu-dump-test-');

/**
 * Largest gap between the dumped ego state at t + 1 and the kinematic step of the dumped state
 * at t with actions[t + shift] (px for x, y; px/s for vx, vy), over the episode.
 */
function kinematicGap(states: Float32Array, actions: Float32Array, length: number, lengthPx: number, shift = 0): number {
  let worst = 0;
  for (let t = Math.max(0, -shift); t + 1 < length && t + shift + 1 < length; t++) {
    const [x, y, vx, vy] = states.subarray(t * 28, t * 28 + 4);
    const speed = Math.hypot(vx!, vy!);
    const s: CarState = { xPx: x!, yPx: y!, dirX: vx! / speed, dirY: vy! / speed, speedPxPerS: speed };
    const [a, b] = clipAction(actions[(t + shift) * 2]!, actions[(t + shift) * 2 + 1]!, lengthPx);
    stepCar(s, a, b);
    const next = states.subarray((t + 1) * 28, (t + 1) * 28 + 4);
    worst = Math.max(worst, Math.abs(s.xPx - next[0]!), Math.abs(s.yPx - next[1]!), Math.abs(s.speedPxPerS * s.dirX - next[2]!), Math.abs(s.speedPxPerS * s.dirY - next[3]!));
  }
  return worst;
}

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
      for (let t = 0; t < meta.length; t++) {
        assert.equal(ep.frames[t], ep.frames[0]! + t);
        const k = ep.frames[t]! - car.firstFrame;
        const want = [car.x[k]!, car.y[k]!, car.speed[k]! * car.dirX[k]!, car.speed[k]! * car.dirY[k]!];
        want.forEach((v, i) => assert.ok(Math.abs(ep.states[t * 28 + i]! - v) < 1e-3, `vehicle ${meta.vehicleId} frame ${t} component ${i}`));
      }
      // actions[t] leads from the state at t to the state at t + 1.
      const gap = kinematicGap(ep.states, ep.actions, meta.length, car.lengthPx);
      assert.ok(gap < 2e-3, `vehicle ${meta.vehicleId}: kinematic gap ${gap}`);
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

test('a car that speeds up, slows down and weaves: actions[t] leads from t to t + 1, actions[t +- 1] do not', async () => {
  const dir = tmp();
  try {
    const store = makeTraffic({ perLane: 1, lanes: [2] });
    const base = store.vehicles[0]!;
    const ys: number[] = [];
    const xs: number[] = [];
    // Speed 11 +- 3 m/s with a 6 s period, lateral weave of 0.6 m with an 8 s period.
    for (let y = base.localYM[0]!, i = 0; y < base.localYM[base.localYM.length - 1]!; i++) {
      ys.push(y);
      xs.push(2.5 * 3.7 + 0.6 * Math.sin((2 * Math.PI * i) / 80));
      y += (11 + 3 * Math.sin((2 * Math.PI * i) / 60)) * 0.1;
    }
    store.vehicles = [makeTrack(5, base.frames[0]!, ys, xs)];
    const tracks = join(dir, 'tracks');
    await writeTrackStore(tracks, store);
    await dumpDataset({ trajectories: tracks, out: join(dir, 'ds'), workers: 1 });
    const ds = openDataset(join(dir, 'ds'));
    const [meta] = ds.episodes();
    const ep = ds.load(meta!);
    assert.ok(meta!.length > 150, `length ${meta!.length}`);
    const lengthPx = ReplayData.fromTrackStore(I80_MAP, store).car(5)!.lengthPx;
    const gap = kinematicGap(ep.states, ep.actions, meta!.length, lengthPx);
    assert.ok(gap < 2e-3, `kinematic gap ${gap}`);
    for (const shift of [-1, 1]) {
      const off = kinematicGap(ep.states, ep.actions, meta!.length, lengthPx, shift);
      assert.ok(off > 50 * gap && off > 0.02, `actions shifted by ${shift}: gap ${off}`);
    }
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
