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
