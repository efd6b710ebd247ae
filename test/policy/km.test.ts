import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { NormStats } from '../../data/dataset-types.js';
import { extractTrajectory, stepCar, type CarState } from '../../sim/kinematics.js';
import { kinematicStep, physicalActions, poseFromStates, statesFromPose, type EgoPose } from '../../policy/kinematic-ego.js';
import { kmCosts, kmMasks, OBS_PX_PER_M } from '../../policy/costs-km.js';
import type { CarSizes } from '../../policy/costs.js';
import { IMAGE_H, IMAGE_W } from '../../data/layout.js';
import { setup } from './helpers.js';
import { tempDir } from '../helpers/temp.js';

before(setup);

/** Standardisation with non-trivial means and scales, so that the tests see the un-normalising. */
const STATS: NormStats = { stateMean: [800, 120, 60, 0.5], stateStd: [400, 40, 25, 3], actionMean: [0.3, 1e-5], actionStd: [8, 2e-4] };

const pose1 = (x: number, y: number, dx: number, dy: number, v: number): EgoPose => ({
  x: tf.tensor1d([x]), y: tf.tensor1d([y]), dx: tf.tensor1d([dx]), dy: tf.tensor1d([dy]), v: tf.tensor1d([v]),
});

const read = (t: tf.Tensor) => t.dataSync()[0]!;

test('the tfjs kinematic model follows sim/kinematics.ts over 20 steps of logged actions (< 1e-3 px)', () => {
  // A braking lane change, extracted to actions the way the dump does it.
  const xs: number[] = [];
  const ys: number[] = [];
  for (let k = 0; k < 23; k++) {
    xs.push(300 + 9 * k - 0.04 * k * k);
    ys.push(100 + 12 / (1 + Math.exp(-(k - 11) / 2)));
  }
  const traj = extractTrajectory(xs, ys, 23, 30);
  assert.equal(traj.n, 21);
  const s: CarState = { xPx: traj.x[0]!, yPx: traj.y[0]!, dirX: traj.dirX[0]!, dirY: traj.dirY[0]!, speedPxPerS: traj.speed[0]! };
  let worst = 0;
  tf.tidy(() => {
    let p = pose1(s.xPx, s.yPx, s.dirX, s.dirY, s.speedPxPerS);
    for (let k = 0; k < 20; k++) {
      stepCar(s, traj.a[k]!, traj.b[k]!);
      p = kinematicStep(p, tf.tensor1d([traj.a[k]!]), tf.tensor1d([traj.b[k]!]));
      worst = Math.max(worst, Math.abs(read(p.x) - s.xPx), Math.abs(read(p.y) - s.yPx), 100 * Math.abs(read(p.dy) - s.dirY), Math.abs(read(p.v) - s.speedPxPerS));
    }
  });
  assert.ok(worst < 1e-3, `largest difference ${worst}`);
  assert.ok(traj.b.some((b) => Math.abs(b) > 1e-4), 'the trajectory steers');
});

test('states round-trip through poses, and the physical actions un-normalise', () => {
  tf.tidy(() => {
    const st = tf.tensor2d([[0.5, -0.2, 1.1, 0.3]]);
    const back = statesFromPose(poseFromStates(st, STATS), STATS).dataSync();
    [0.5, -0.2, 1.1, 0.3].forEach((v, i) => assert.ok(Math.abs(back[i]! - v) < 1e-5, `component ${i}: ${back[i]}`));
    const { a, b } = physicalActions(tf.tensor2d([[1, -2]]), STATS);
    assert.ok(Math.abs(read(a) - 8.3) < 1e-5);
    assert.ok(Math.abs(read(b) - (1e-5 - 4e-4)) < 1e-9);
  });
});

test('the gradient of the kinematic rollout matches finite differences', () => {
  // Final lateral position after 10 steps as a function of (a, b) applied at every step.
  const run = (a: tf.Tensor1D, b: tf.Tensor1D) => {
    let p = pose1(0, 0, 0.995, 0.0998749, 90);
    for (let k = 0; k < 10; k++) p = kinematicStep(p, a, b);
    return tf.add(p.y, tf.mul(p.x, 0.1)).sum() as tf.Scalar;
  };
  const a0 = 2;
  const b0 = 0.002;
  const [ga, gb] = tf.grads((a: tf.Tensor, b: tf.Tensor) => run(a as tf.Tensor1D, b as tf.Tensor1D))([tf.tensor1d([a0]), tf.tensor1d([b0])]);
  const f = (a: number, b: number) => tf.tidy(() => read(run(tf.tensor1d([a]), tf.tensor1d([b]))));
  const ha = 1e-2;
  const hb = 1e-5;
  const fda = (f(a0 + ha, b0) - f(a0 - ha, b0)) / (2 * ha);
  const fdb = (f(a0, b0 + hb) - f(a0, b0 - hb)) / (2 * hb);
  assert.ok(Math.abs(read(ga!) - fda) < 2e-2 * Math.abs(fda) + 1e-3, `d/da ${read(ga!)} vs ${fda}`);
  assert.ok(Math.abs(read(gb!) - fdb) < 2e-2 * Math.abs(fdb), `d/db ${read(gb!)} vs ${fdb}`);
  assert.ok(read(gb!) < 0, 'steering left (b > 0) lowers y');
});

/** A frame with one other car (green) at (rows, cols) and nothing else. */
function frameWithCar(rows: [number, number], cols: [number, number]): tf.Tensor4D {
  const img = new Float32Array(IMAGE_H * IMAGE_W * 3);
  for (let r = rows[0]; r < rows[1]; r++) for (let c = cols[0]; c < cols[1]; c++) img[(r * IMAGE_W + c) * 3 + 1] = 1;
  return tf.tensor4d(img, [1, IMAGE_H, IMAGE_W, 3]);
}

const CAR: CarSizes = { lengthObsPx: Float32Array.of(7.5), widthObsPx: Float32Array.of(3) };

/** Gradients of the proximity cost after two kinematic steps from the frame's centre pose, w.r.t. the raw action (a, b). */
function proximityGrads(frame: tf.Tensor4D): { da: number; db: number; cost: number } {
  const ref = pose1(1000, 100, 1, 0, 80);
  const f = (a: tf.Tensor1D, b: tf.Tensor1D) => {
    // Two steps (the action changes speed and heading, which move the car on the next step);
    // the frame is centred where a zero action takes the ego.
    const start = pose1(1000 - 16, 100, 1, 0, 80);
    const km = kinematicStep(kinematicStep(start, a, b), a, b);
    return kmCosts(frame, km, ref, CAR).proximity.sum() as tf.Scalar;
  };
  const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => f(a as tf.Tensor1D, b as tf.Tensor1D))([tf.tensor1d([0]), tf.tensor1d([0])]);
  return { da: read(g[0]!), db: read(g[1]!), cost: tf.tidy(() => read(f(tf.tensor1d([0]), tf.tensor1d([0])))) };
}

test('with a car just ahead the proximity gradient brakes; just behind it accelerates; to the left it steers right', () => {
  // The ego's centre is at row 58.5 - 0.5 = 58, column 11.5; a car 12 obs px (7.4 m) ahead in its lane.
  const ahead = proximityGrads(frameWithCar([40, 48], [10, 14]));
  assert.ok(ahead.cost > 0, 'the car ahead costs');
  assert.ok(ahead.da > 0, `accelerating towards it raises the cost (d cost / d a = ${ahead.da})`);
  const behind = proximityGrads(frameWithCar([69, 77], [10, 14]));
  assert.ok(behind.da < 0, `accelerating away from a car behind lowers the cost (d cost / d a = ${behind.da})`);
  // A car in the left neighbour lane, alongside: steering left (b > 0) moves towards it.
  const left = proximityGrads(frameWithCar([52, 64], [3, 7]));
  assert.ok(left.cost > 0);
  assert.ok(left.db > 0, `steering left raises the cost (d cost / d b = ${left.db})`);
});

test('the mask moves with the kinematic pose: shifting the ego by dp moves the mask by dp over the frame', () => {
  tf.tidy(() => {
    const ref = pose1(1000, 100, 1, 0, 80);
    const centred = kmMasks(ref, ref, CAR).proximity;
    // 5 m forward is 8.1 obs px, i.e. about 8 rows up.
    const moved = kmMasks(pose1(1000 + 5 * 6.486, 100, 1, 0, 80), ref, CAR).proximity;
    const rowOfMax = (m: tf.Tensor3D) => {
      const v = tf.sum(m, 2).dataSync();
      let best = 0;
      for (let r = 0; r < IMAGE_H; r++) if (v[r]! > v[best]!) best = r;
      return best;
    };
    assert.equal(rowOfMax(centred), 58);
    assert.ok(Math.abs(rowOfMax(moved) - (58 - 5 * OBS_PX_PER_M)) <= 1, `moved mask peaks at row ${rowOfMax(moved)}`);
    // The keep-in-frame term is zero inside the limits and grows outside.
    const inFrame = kmCosts(frameWithCar([0, 1], [0, 1]), pose1(1000 + 20 * 6.486, 100, 1, 0, 80), ref, CAR).frame;
    const outOfFrame = kmCosts(frameWithCar([0, 1], [0, 1]), pose1(1000 + 32 * 6.486, 100, 1, 0, 80), ref, CAR).frame;
    assert.equal(read(inFrame), 0);
    assert.ok(Math.abs(read(outOfFrame) - 16) < 0.5, `2 m beyond 30 m: (2)^4 = 16, got ${read(outOfFrame)}`);
  });
});

test('through the logged future with the expert\'s own actions the kinematic ego stays on the logged poses and its costs are those of the unshifted frames', { timeout: 120_000 }, async () => {
  const { join } = await import('node:path');
  const { writeTraffic } = await import('../sim/helpers/traffic.js');
  const { dumpDataset } = await import('../../sim/io/dump.js');
  const { openDataset } = await import('../../data/dataset.js');
  const { EpisodeCache } = await import('../../worldmodel/fm/episode-cache.js');
  const { SyncBatches } = await import('../../worldmodel/fm/batches.js');
  const { batchTensors } = await import('../../worldmodel/fm/train-step.js');
  const { egoSizesFromContext } = await import('../../policy/car-size.js');
  const dir = tempDir('ppuu-km-expert-');
  const tracks = await writeTraffic({ perLane: 5, lanes: [1, 2, 3], laneChanger: 2, headwayS: 1 }, join(dir, 'tracks'));
  await dumpDataset({ trajectories: tracks, out: join(dir, 'ds'), workers: 1 });
  const ds = openDataset(join(dir, 'ds'));
  const stats = ds.manifest.stats;
  const T = 20;
  const src = new SyncBatches(new EpisodeCache(ds), { split: 'train', shape: { batch: 6, ncond: 4, npred: T, channels: 3 }, seed: 2, stats });
  let worstPx = 0;
  let worstCost = 0;
  let largest = 0;
  for (let i = 0; i < 4; i++) {
    const wb = await src.next(i);
    const cars = egoSizesFromContext(wb.ctxImages, wb.batch, wb.ncond, wb.channels);
    tf.tidy(() => {
      const bt = batchTensors(wb);
      let pose = poseFromStates(tf.slice(bt.input.states, [0, 12], [-1, 4]) as tf.Tensor2D, stats);
      for (let t = 0; t < T; t++) {
        const { a, b } = physicalActions(bt.actions[t]!, stats);
        pose = kinematicStep(pose, a, b);
        const ref = poseFromStates(bt.targetStates[t]!, stats);
        worstPx = Math.max(worstPx, tf.max(tf.sqrt(tf.add(tf.square(tf.sub(pose.x, ref.x)), tf.square(tf.sub(pose.y, ref.y))))).dataSync()[0]!);
        const moved = kmCosts(bt.targetImages[t]!, pose, ref, cars);
        const still = kmCosts(bt.targetImages[t]!, ref, ref, cars);
        for (const k of ['proximity', 'lane'] as const) {
          const m = moved[k].dataSync();
          const s = still[k].dataSync();
          for (let j = 0; j < m.length; j++) {
            worstCost = Math.max(worstCost, Math.abs(m[j]! - s[j]!));
            largest = Math.max(largest, s[j]!);
          }
        }
      }
    });
  }
  // Float32 states and the standardisation leave a fraction of a pixel after 20 steps.
  assert.ok(worstPx < 0.5, `largest gap to the logged pose ${worstPx.toFixed(3)} px`);
  assert.ok(largest > 0.01, 'the windows see cars and lanes');
  assert.ok(worstCost < 0.01 * largest + 1e-4, `costs of the moved masks differ by ${worstCost} (largest cost ${largest})`);
});
