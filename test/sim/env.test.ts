import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idmController, noActionController, replayController } from '../../sim/controllers/builtin.js';
import type { TrackStore } from '../../data/tracks.js';
import { checkControllerBatch, type Controller, type ControllerBatch } from '../../sim/controllers/controller.js';
import { LockstepEnv, runEnv, type EpisodeResult, type Outcome } from '../../sim/env.js';
import { evaluate, meanStd, seedMetrics } from '../../sim/evaluate.js';
import { I80_MAP } from '../../sim/map.js';
import { ReplayData } from '../../sim/replay.js';
import { World } from '../../sim/world.js';
import { makeTrack, makeTraffic } from './helpers/traffic.js';

/** A leader that slows from 12 to 4 m/s half way and a follower that brakes with it. */
function brakingPair(): TrackStore {
  const store = makeTraffic({ perLane: 1, lanes: [4] });
  const speed = (t: number) => (t < 8 ? 12 : t < 12 ? 12 - 2 * (t - 8) : 4);
  const run = (startY: number, delayS: number) => {
    const ys: number[] = [];
    let y = startY;
    for (let i = 0; y < 400; i++) {
      ys.push(y);
      y += speed(i * 0.1 - delayS) * 0.1;
    }
    return ys;
  };
  const lead = run(100, 0);
  const follow = run(70, 0);
  store.vehicles = [makeTrack(101, 2000, lead, lead.map(() => 12.95)), makeTrack(102, 2000, follow, follow.map(() => 12.95))];
  return store;
}

test('replay drives every car to the end without collision; no-action rear-ends a braking leader', async () => {
  const data = ReplayData.fromTrackStore(I80_MAP, brakingPair());
  const env = new LockstepEnv(data, [102]);
  const [replay] = await runEnv(env, replayController());
  assert.equal(replay!.outcome, 'arrived');
  assert.ok(replay!.distanceM > 100, `${replay!.distanceM}`);
  const [still] = await runEnv(env, noActionController());
  assert.equal(still!.outcome, 'collision');
  assert.ok(still!.distanceM < replay!.distanceM);
});

test('the lockstep environment gives the same results as one episode at a time', async () => {
  const data = ReplayData.fromTrackStore(I80_MAP, makeTraffic({ perLane: 2, lanes: [1, 2, 3], laneChanger: 3 }));
  const ids = data.cars.map((c) => c.id);
  for (const controller of [idmController(), replayController()]) {
    const together = await runEnv(new LockstepEnv(data, ids), controller);
    const alone = [];
    for (const id of ids) alone.push(...(await runEnv(new LockstepEnv(data, [id]), controller)));
    assert.deepEqual(together, alone);
    assert.ok(together.every((r) => r.outcome !== 'too-short'));
  }
});

test('the controller sees the last 20 observations, oldest first, and the takeover frame', async () => {
  const data = ReplayData.fromTrackStore(I80_MAP, makeTraffic({ perLane: 1, lanes: [2] }));
  const env = new LockstepEnv(data, [data.cars[0]!.id]);
  env.reset();
  const b = env.batch();
  assert.equal(b.n, 1);
  assert.equal(b.images.length, 20 * 117 * 24 * 3);
  const xs = Array.from({ length: 20 }, (_, t) => b.states[t * 4]!);
  for (let t = 1; t < 20; t++) assert.ok(xs[t]! > xs[t - 1]!, 'states in time order');
  assert.ok(Math.abs(b.episodes[0]!.state.xPx - xs[19]!) < 1e-3);
  assert.ok(xs[0]! > I80_MAP.validMinXPx);
  // The ego is drawn in blue in every context image.
  for (let t = 0; t < 20; t++) assert.equal(b.images[(t * 117 * 24 + 58 * 24 + 11) * 3 + 2], 255);
});

test('a controller batch whose arrays do not have the lengths of its n, contextFrames and channels is refused', () => {
  const data = ReplayData.fromTrackStore(I80_MAP, makeTraffic({ perLane: 1, lanes: [2, 3] }));
  const env = new LockstepEnv(data, data.cars.slice(0, 2).map((c) => c.id));
  env.reset();
  const b = env.batch();
  assert.equal(checkControllerBatch(b), b);
  const plain: ControllerBatch = { ...b, images: b.images };
  assert.throws(() => checkControllerBatch({ ...plain, states: plain.states.slice(1) }), /controller batch: states has 159 values, its shape \[2, 20, 4\] needs 160/);
  assert.throws(() => checkControllerBatch({ ...plain, channels: 4 }), /controller batch: images has .* values, its shape \[2, 20, 117, 24, 4\]/);
  assert.throws(() => checkControllerBatch({ ...plain, episodes: plain.episodes.slice(1) }), /episodes has 1 values/);
  assert.throws(() => checkControllerBatch({ ...plain, n: 3 }, ['states']), /states has 160 values/);
});

test('episodes too short to fill the context or with a cut log are reported apart and left out of the rates', async () => {
  const store = makeTraffic({ perLane: 1, lanes: [2] });
  const ys = Array.from({ length: 30 }, (_, i) => 150 + i * 1.2); // 14 steps: fewer than 20
  store.vehicles.push(makeTrack(77, 1000, ys, ys.map(() => 9.25)));
  // Long enough to buffer 20 frames, but the log stops (recording cut) before the arrival line.
  const cut = Array.from({ length: 80 }, (_, i) => 150 + i * 1.2);
  store.vehicles.push(makeTrack(78, 1000, cut, cut.map(() => 9.25)));
  const data = ReplayData.fromTrackStore(I80_MAP, store);
  const [alone] = await runEnv(new LockstepEnv(data, [78]), replayController());
  assert.notEqual(alone!.outcome, 'incomplete-log'); // only evaluation leaves such logs out
  assert.notEqual(alone!.takeoverFrame, null);
  const report = await evaluate([{ data, vehicleIds: data.cars.map((c) => c.id) }], {
    seeds: [0, 1],
    controllerFor: () => replayController(),
    policyName: 'replay',
  });
  assert.equal(report.tooShort, 1);
  assert.equal(report.incompleteLog, 1);
  assert.equal(report.episodes, 1);
  assert.deepEqual(report.successRate, { mean: 1, std: 0 });
  assert.equal(report.records.length, 6);
});

test('the world moves controlled cars by the given actions and reports ghosts and observations', () => {
  const data = ReplayData.fromTrackStore(I80_MAP, makeTraffic({ perLane: 1, lanes: [1, 2] }));
  const car = data.cars[0]!;
  const world = new World(data, { frame: car.firstFrame + 10 });
  world.control(car.id);
  for (let i = 0; i < 5; i++) world.step();
  let snap = world.snapshot();
  const me = snap.cars.find((c) => c.id === car.id)!;
  assert.ok(me.controlled);
  // Logged actions: the controlled car stays on its replay.
  assert.ok(Math.abs(me.xPx - car.x[15]!) < 1e-6);
  assert.deepEqual(me.ghost, { xPx: car.ghostX[15]!, yPx: car.ghostY[15]! });
  assert.ok(Math.abs(me.centreXPx - (me.xPx + me.lengthPx / 2)) < 1e-9);
  assert.equal(snap.controlled.length, 1);
  assert.equal(snap.controlled[0]!.observation.length, 117 * 24 * 3);
  // Hard braking: it falls behind its ghost.
  for (let i = 0; i < 10; i++) world.step(new Map([[car.id, [-40, 0] as const]]));
  snap = world.snapshot();
  const braked = snap.cars.find((c) => c.id === car.id)!;
  assert.ok(braked.ghost!.xPx - braked.xPx > 10);
});

/** Zero actions, except full left steering (b > 0: towards smaller y) for the cars in `left`. */
function steerLeft(left: number[]): Controller {
  return {
    name: 'steer-left',
    act: (b) => Float32Array.from(b.episodes.flatMap((e) => [0, left.includes(e.vehicleId) ? 1 : 0])),
  };
}

test('steering off the road ends in offroad, a step limit in timeout; the rates count each outcome apart', async () => {
  const store = brakingPair();
  const top = makeTraffic({ perLane: 1, lanes: [0] }).vehicles[0]!; // vehicle 1, lane 0
  store.vehicles.push(top);
  const data = ReplayData.fromTrackStore(I80_MAP, store);
  const [off] = await runEnv(new LockstepEnv(data, [1]), steerLeft([1]));
  assert.equal(off!.outcome, 'offroad');
  assert.equal(off!.success, false);
  assert.ok(off!.steps > 0 && off!.steps < 60, `steps ${off!.steps}`);
  const [limited] = await runEnv(new LockstepEnv(data, [1], { maxSteps: 7 }), replayController());
  assert.equal(limited!.outcome, 'timeout');
  assert.equal(limited!.steps, 7);
  // Vehicle 1 leaves the road, 102 rear-ends its braking leader, 101 (the leader, at constant speed) arrives.
  const report = await evaluate([{ data, vehicleIds: [1, 101, 102] }], { seeds: [0], controllerFor: () => steerLeft([1]), policyName: 'left' });
  assert.deepEqual(report.records.map((r) => [r.vehicleId, r.outcome]), [[1, 'offroad'], [101, 'arrived'], [102, 'collision']]);
  assert.deepEqual(report.outcomes, { offroad: 1, arrived: 1, collision: 1 });
  assert.equal(report.episodes, 3);
  for (const [k, v] of [['successRate', 1 / 3], ['collisionRate', 1 / 3], ['offRoadRate', 1 / 3]] as const) assert.deepEqual(report[k], { mean: v, std: 0 }, k);
});

test('seedMetrics: each rate counts its own outcome over the driven episodes', () => {
  const r = (outcome: Outcome, distanceM = 10): EpisodeResult => ({
    vehicleId: 0, outcome, success: outcome === 'arrived', distanceM, steps: 1, takeoverFrame: 0, endFrame: 1, maxProximity: 0, meanProximity: 0, meanLane: 0,
  });
  const m = seedMetrics(3, [r('collision'), r('offroad'), r('offroad'), r('arrived', 40), r('timeout'), r('too-short', 0), r('incomplete-log', 0)]);
  assert.deepEqual(m, { seed: 3, episodes: 5, successRate: 0.2, meanDistanceM: 16, collisionRate: 0.2, offRoadRate: 0.4 });
  assert.deepEqual(meanStd([0.2, 0.4]), { mean: 0.30000000000000004, std: 0.1 });
});

test('evaluate with no seeds, meanStd of nothing and seedMetrics of undriven episodes are all zeros, not NaN', async () => {
  const data = ReplayData.fromTrackStore(I80_MAP, makeTraffic({ perLane: 1, lanes: [2] }));
  const report = await evaluate([{ data, vehicleIds: [1] }], { seeds: [], controllerFor: () => replayController(), policyName: 'none' });
  assert.equal(report.episodes, 0);
  for (const k of ['successRate', 'meanDistanceM', 'collisionRate', 'offRoadRate'] as const) assert.deepEqual(report[k], { mean: 0, std: 0 }, k);
  assert.deepEqual(report.controllerTiming, { calls: 0, msPerCall: 0, meanCarsPerCall: 0, maxCarsPerCall: 0, msPerCar: 0 });
  assert.deepEqual(report.records, []);
  assert.deepEqual(meanStd([]), { mean: 0, std: 0 });
  const r = (outcome: Outcome): EpisodeResult => ({
    vehicleId: 0, outcome, success: false, distanceM: 5, steps: 0, takeoverFrame: null, endFrame: 1, maxProximity: 0, meanProximity: 0, meanLane: 0,
  });
  assert.deepEqual(seedMetrics(2, [r('too-short'), r('incomplete-log')]), { seed: 2, episodes: 0, successRate: 0, meanDistanceM: 0, collisionRate: 0, offRoadRate: 0 });
});

test('evaluate: per-seed rates and their mean / std, first-seed counts, episode ids, progress and controller timing', async () => {
  // Slot A: cars 1 (lane 0) and 2 (lane 2) drive the whole road; 78 (lane 0) has a log cut before the arrival line.
  const store = makeTraffic({ perLane: 1, lanes: [0, 2] });
  const cut = Array.from({ length: 80 }, (_, i) => 150 + i * 1.2);
  store.vehicles.push(makeTrack(78, 1000, cut, cut.map(() => 0.5 * 3.7)));
  const a = ReplayData.fromTrackStore(I80_MAP, store);
  const other = makeTraffic({ perLane: 1, lanes: [3], slot: '0500-0515' });
  other.vehicles[0]!.vehicleId = 5;
  const c = ReplayData.fromTrackStore(I80_MAP, other);
  // Seed 0 replays; seed 1 steers car 1 off the road. Car 78 is left out (incomplete log) under both.
  let calls = 0;
  let cars = 0;
  let maxCars = 0;
  const controllerFor = (seed: number): Controller => {
    const inner = seed === 0 ? replayController() : steerLeft([1]);
    return {
      name: inner.name,
      async act(b) {
        calls++;
        cars += b.n;
        maxCars = Math.max(maxCars, b.n);
        const t0 = performance.now();
        while (performance.now() - t0 < 0.3); // every call takes at least 0.3 ms
        return inner.act(b);
      },
    };
  };
  const progress: [number, number][] = [];
  const report = await evaluate(
    [{ data: a, vehicleIds: [1, 2, 78], episodeIds: ['e1', 'e2', 'e78'] }, { data: a, vehicleIds: [] }, { data: c, vehicleIds: [5] }],
    { seeds: [0, 1], controllerFor, policyName: 'mixed', onProgress: (d, t) => progress.push([d, t]) },
  );
  assert.deepEqual(report.records.map((r) => [r.seed, r.slot, r.vehicleId, r.episodeId, r.outcome]), [
    [0, '0400-0415', 1, 'e1', 'arrived'], [0, '0400-0415', 2, 'e2', 'arrived'], [0, '0400-0415', 78, 'e78', 'incomplete-log'], [0, '0500-0515', 5, null, 'arrived'],
    [1, '0400-0415', 1, 'e1', 'offroad'], [1, '0400-0415', 2, 'e2', 'arrived'], [1, '0400-0415', 78, 'e78', 'incomplete-log'], [1, '0500-0515', 5, null, 'arrived'],
  ]);
  assert.equal(report.incompleteLog, 1);
  assert.equal(report.tooShort, 0);
  assert.equal(report.episodes, 3);
  // One seed: the counts apart are that seed's.
  const single = await evaluate([{ data: a, vehicleIds: [78, 2] }], { seeds: [4], controllerFor: () => replayController(), policyName: 'one' });
  assert.deepEqual([single.incompleteLog, single.tooShort, single.episodes], [1, 0, 1]);
  assert.deepEqual(report.perSeed.map((m) => [m.seed, m.episodes, m.successRate, m.offRoadRate]), [[0, 3, 1, 0], [1, 3, 2 / 3, 1 / 3]]);
  const near = (got: { mean: number; std: number }, mean: number, std: number, what: string) =>
    assert.ok(Math.abs(got.mean - mean) < 1e-12 && Math.abs(got.std - std) < 1e-12, `${what}: ${JSON.stringify(got)}`);
  near(report.successRate, 5 / 6, 1 / 6, 'success');
  near(report.offRoadRate, 1 / 6, 1 / 6, 'off-road');
  assert.deepEqual(report.collisionRate, { mean: 0, std: 0 });
  assert.deepEqual(report.outcomes, { arrived: 5, 'incomplete-log': 2, offroad: 1 });
  const dist = (seed: number) => {
    const d = report.records.filter((r) => r.seed === seed && r.outcome !== 'incomplete-log').map((r) => r.distanceM);
    return d.reduce((s, x) => s + x, 0) / d.length;
  };
  const [d0, d1] = [dist(0), dist(1)];
  assert.ok(d0 > d1 + 10, `${d0} ${d1}`);
  assert.ok(Math.abs(report.meanDistanceM.mean - (d0 + d1) / 2) < 1e-9);
  assert.ok(Math.abs(report.meanDistanceM.std - Math.abs(d0 - d1) / 2) < 1e-9);
  // Progress: out of 8 episodes in all, never decreasing, several calls per slot, each slot's end reported.
  assert.ok(progress.every(([, t]) => t === 8));
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i]![0] >= progress[i - 1]![0], `progress ${JSON.stringify(progress)}`);
  assert.ok(progress.every(([d]) => d >= 0 && d <= 8));
  const done = progress.map(([d]) => d);
  for (const d of [3, 4, 7, 8]) assert.ok(done.includes(d), `progress reaches ${d}`);
  assert.equal(done.at(-1), 8);
  assert.ok(progress.length > 20);
  // Timing: the calls and cars the controller saw, and at least 0.3 ms per call.
  const t = report.controllerTiming;
  assert.equal(t.calls, calls);
  assert.equal(t.maxCarsPerCall, 2);
  assert.equal(maxCars, 2);
  assert.ok(Math.abs(t.meanCarsPerCall - cars / calls) < 1e-12);
  assert.ok(t.msPerCall >= 0.3 && t.msPerCall < 100, `ms per call ${t.msPerCall}`);
  assert.ok(Math.abs(t.msPerCar * cars - t.msPerCall * calls) < 1e-6 * t.msPerCall * calls);
  assert.ok(t.msPerCar < t.msPerCall);
});
