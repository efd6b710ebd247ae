import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { NormStats } from '../../data/dataset-types.js';
import { extractTrajectory, stepCar, type CarState } from '../../sim/kinematics.js';
import { concatPoses, kinematicStep, packPose, physicalActions, poseFromStates, statesFromPose, unpackPose, type EgoPose } from '../../policy/kinematic-ego.js';
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

/** Poses of several rows: one [x, y, dx, dy, v] per row. */
const poses = (rows: number[][]): EgoPose => ({
  x: tf.tensor1d(rows.map((r) => r[0]!)), y: tf.tensor1d(rows.map((r) => r[1]!)), dx: tf.tensor1d(rows.map((r) => r[2]!)),
  dy: tf.tensor1d(rows.map((r) => r[3]!)), v: tf.tensor1d(rows.map((r) => r[4]!)),
});
const fields = (p: EgoPose) => (['x', 'y', 'dx', 'dy', 'v'] as const).map((k) => Array.from(p[k].dataSync()));
const close = (got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) <= tol, `${what}[${i}]: ${got[i]} vs ${want[i]}`);
};

test('poses and actions read only the first 4 state and 2 action statistics (longer stats arrays are accepted)', () => {
  tf.tidy(() => {
    const long: NormStats = { stateMean: [...STATS.stateMean, 7], stateStd: [...STATS.stateStd, 9], actionMean: [...STATS.actionMean, 5], actionStd: [...STATS.actionStd, 3] };
    const st = tf.tensor2d([[0.5, -0.2, 1.1, 0.3]]);
    close(statesFromPose(poseFromStates(st, long), long).dataSync(), [0.5, -0.2, 1.1, 0.3], 1e-5, 'round trip');
    // x = 0.5 * 400 + 800, vx = 1.1 * 25 + 60 = 87.5, vy = 0.3 * 3 + 0.5 = 1.4.
    const p = poseFromStates(st, long);
    close([read(p.x), read(p.y), read(p.v)], [1000, 112, Math.hypot(87.5, 1.4)], 1e-3, 'pose');
    const { a, b } = physicalActions(tf.tensor2d([[1, -2]]), long);
    close([read(a), read(b) * 1e4], [8.3, (1e-5 - 4e-4) * 1e4], 1e-5, 'actions');
  });
});

test('packPose / unpackPose round-trip every field of every row; concatPoses joins in list order', () => {
  tf.tidy(() => {
    const rows = [0, 1, 2, 3, 4, 5].map((i) => [10 + i, 20 + i, 0.1 * i, -0.1 * i, 50 + i]);
    const want = (sel: number[]) => [0, 1, 2, 3, 4].map((k) => sel.map((i) => rows[i]![k]!));
    const packed = packPose(poses(rows));
    assert.deepEqual(packed.shape, [6, 5]);
    close(packed.dataSync(), rows.flat(), 1e-6, 'packed row-major, columns x, y, dx, dy, v');
    fields(unpackPose(packed)).forEach((f, k) => close(f, want([0, 1, 2, 3, 4, 5])[k]!, 1e-6, `unpacked field ${k}`));
    // Joined in list order: rows 4-5 first, then rows 0-1.
    fields(concatPoses([poses(rows.slice(4)), poses(rows.slice(0, 2))])).forEach((f, k) => close(f, want([4, 5, 0, 1])[k]!, 1e-6, `concat field ${k}`));
  });
});

/**
 * The documented masks (policy/costs-km.ts's header) pixel by pixel in plain numbers, with the
 * documented constants written out: 24 px per 3.7 m lane in the simulator, 1/4 of that per metre
 * in the observation.
 */
function referenceMasks(km: number[], ref: number[], lengthObsPx: number, widthObsPx: number): { proximity: Float64Array; lane: Float64Array; u: number; w: number } {
  const simPxPerM = 24 / 3.7;
  const obsPxPerM = simPxPerM / 4;
  const lengthSimPx = lengthObsPx * 4;
  const centre = (p: number[]) => [(p[0]! + (p[2]! * lengthSimPx) / 2) / simPxPerM, (p[1]! + (p[3]! * lengthSimPx) / 2) / simPxPerM];
  const [kx, ky] = centre(km);
  const [rx, ry] = centre(ref);
  const [ex, ey, rdx, rdy] = [kx! - rx!, ky! - ry!, ref[2]!, ref[3]!];
  const u = ex * rdx + ey * rdy;
  const w = ey * rdx - ex * rdy;
  const cos = km[2]! * rdx + km[3]! * rdy;
  const sin = km[3]! * rdx - km[2]! * rdy;
  const L = lengthObsPx / obsPxPerM;
  const W = widthObsPx / obsPxPerM;
  const xs = 1.5 * Math.max(km[4]! / simPxPerM, 10) + 1.5 * L + 1;
  const yd = W / 2 + 3.7;
  const proximity = new Float64Array(IMAGE_H * IMAGE_W);
  const lane = new Float64Array(IMAGE_H * IMAGE_W);
  for (let i = 0; i < IMAGE_H; i++) {
    for (let j = 0; j < IMAGE_W; j++) {
      const f = (58 - i) / obsPxPerM - u;
      const s = (j - 11.5) / obsPxPerM - w;
      const xp = cos * f + sin * s;
      const yp = -sin * f + cos * s;
      const zx = Math.max(0, (xs - Math.abs(xp)) / (xs - L / 2));
      const rY = Math.max(0, (yd - Math.abs(yp)) / (yd - W / 2));
      proximity[i * IMAGE_W + j] = zx * zx * Math.min(rY, 1) ** 2;
      lane[i * IMAGE_W + j] = zx * zx * rY * rY;
    }
  }
  return { proximity, lane, u, w };
}

// Row 0: turned 0.2 rad left of the reference and 3 m ahead, 1 m to the left, fast (15.4 m/s, above
// the 10 m/s floor); row 1: a smaller car turned right, slow (below the floor), behind and to the right.
const KM_ROWS = [
  [1000 + 3 * 6.486, 100 - 6.486, Math.cos(0.2), -Math.sin(0.2), 100],
  [500 - 4 * 6.486, 220 + 1.5 * 6.486, Math.cos(0.3), Math.sin(0.3), 30],
];
const REF_ROWS = [
  [1000, 100, 1, 0, 80],
  [500, 220, Math.cos(0.1), Math.sin(0.1), 40],
];
const CARS2: CarSizes = { lengthObsPx: Float32Array.of(7.5, 5), widthObsPx: Float32Array.of(3, 2.2) };

test('kmMasks equal the documented masks pixel by pixel for a turned, shifted ego, fast and slow, two car sizes', () => {
  tf.tidy(() => {
    const m = kmMasks(poses(KM_ROWS), poses(REF_ROWS), CARS2);
    const prox = m.proximity.dataSync();
    const lane = m.lane.dataSync();
    const n = IMAGE_H * IMAGE_W;
    for (let r = 0; r < 2; r++) {
      const want = referenceMasks(KM_ROWS[r]!, REF_ROWS[r]!, CARS2.lengthObsPx[r]!, CARS2.widthObsPx[r]!);
      close([m.u.dataSync()[r]!, m.w.dataSync()[r]!], [want.u, want.w], 1e-3, `row ${r} offset (u, w)`);
      close(prox.subarray(r * n, (r + 1) * n), want.proximity, 1e-4, `row ${r} proximity`);
      close(lane.subarray(r * n, (r + 1) * n), want.lane, 1e-4, `row ${r} lane`);
      // The masks are not trivial: a peak of 1 under the car, zeros far from it, lane above proximity at the sides.
      assert.ok(Math.max(...want.proximity) > 0.9 && Math.min(...want.proximity) === 0, `row ${r} mask range`);
      assert.ok(want.lane.some((v, k) => v > want.proximity[k]! + 0.1), `row ${r}: the lane mask exceeds the proximity mask somewhere`);
    }
  });
});

test('kmCosts are the mask-weighted means of the squared channels; off-road only with 4 channels; sizes must match the images', () => {
  tf.tidy(() => {
    const n = IMAGE_H * IMAGE_W;
    // Channel c of pixel k of row r: a smooth pattern that differs per channel and row.
    const value = (r: number, k: number, c: number) => 0.5 + 0.5 * Math.sin(0.37 * k + 1.3 * c + 2.1 * r);
    const make = (channels: number) => {
      const img = new Float32Array(2 * n * channels);
      for (let r = 0; r < 2; r++) for (let k = 0; k < n; k++) for (let c = 0; c < channels; c++) img[(r * n + k) * channels + c] = value(r, k, c);
      return tf.tensor4d(img, [2, IMAGE_H, IMAGE_W, channels]);
    };
    const four = kmCosts(make(4), poses(KM_ROWS), poses(REF_ROWS), CARS2);
    const three = kmCosts(make(3), poses(KM_ROWS), poses(REF_ROWS), CARS2);
    assert.equal(three.offroad, null);
    for (let r = 0; r < 2; r++) {
      const want = referenceMasks(KM_ROWS[r]!, REF_ROWS[r]!, CARS2.lengthObsPx[r]!, CARS2.widthObsPx[r]!);
      const mean = (mask: Float64Array, c: number) => {
        let num = 0;
        let den = 1e-6;
        for (let k = 0; k < n; k++) {
          num += mask[k]! * value(r, k, c) ** 2;
          den += mask[k]!;
        }
        return num / den;
      };
      const expected = [mean(want.proximity, 1), mean(want.lane, 0), mean(want.lane, 2)];
      close([four.proximity.dataSync()[r]!, four.lane.dataSync()[r]!, four.offroad!.dataSync()[r]!], expected, 1e-4, `row ${r} costs (4 channels)`);
      close([three.proximity.dataSync()[r]!, three.lane.dataSync()[r]!], expected.slice(0, 2), 1e-4, `row ${r} costs (3 channels)`);
      assert.equal(four.frame.dataSync()[r], 0);
    }
    assert.throws(() => kmCosts(make(3), poses(KM_ROWS), poses(REF_ROWS), CAR), { message: 'km costs: 2 images but 1 car sizes' });
  });
});

test('a standing ego gets speed 0 and heading +x; a creeping one (0.02 px/s) keeps its own speed and heading', () => {
  tf.tidy(() => {
    const stats: NormStats = { stateMean: [800, 120, 0, 0], stateStd: [400, 40, 25, 3], actionMean: [0, 0], actionStd: [1, 1] };
    const p = poseFromStates(tf.tensor2d([[0, 0, 0, 0], [0, 0, 0, 0.02 / 3]]), stats);
    close(p.v.dataSync(), [0, 0.02], 1e-5, 'speed');
    close(p.dx.dataSync(), [1, 0], 1e-5, 'heading x');
    close(p.dy.dataSync(), [0, 1], 1e-5, 'heading y');
  });
});

test('kmCosts: the gradient reaches the kinematic pose only (not the frame, the reference pose or the mask speed); keep-in-frame sideways beyond 5 m; an empty mask costs 0', () => {
  const images = tf.tidy(() => tf.mul(tf.ones([2, IMAGE_H, IMAGE_W, 4]), 0.7) as tf.Tensor4D);
  const [kmx, kmv, refx, refdx] = [tf.tensor1d([KM_ROWS[0]![0]!, KM_ROWS[1]![0]!]), tf.tensor1d([100, 130]), tf.tensor1d([1000, 500]), tf.tensor1d([1, Math.cos(0.1)])];
  const total = (img: tf.Tensor, kx: tf.Tensor, kv: tf.Tensor, rx: tf.Tensor, rdx: tf.Tensor) => {
    const km = { ...poses(KM_ROWS), x: kx as tf.Tensor1D, v: kv as tf.Tensor1D };
    const ref = { ...poses(REF_ROWS), x: rx as tf.Tensor1D, dx: rdx as tf.Tensor1D };
    // Brighter towards the back (larger rows), so that moving the mask forward changes the cost.
    const w = tf.tensor4d(Float32Array.from({ length: 2 * IMAGE_H * IMAGE_W * 4 }, (_, k) => Math.floor(k / (IMAGE_W * 4)) % IMAGE_H / IMAGE_H), [2, IMAGE_H, IMAGE_W, 4]);
    const c = kmCosts(tf.mul(img, w) as tf.Tensor4D, km, ref, CARS2);
    return tf.sum(tf.add(tf.add(c.proximity, c.lane), tf.add(c.offroad!, c.frame))) as tf.Scalar;
  };
  const g = tf.grads((a, b, c, d, e) => total(a!, b!, c!, d!, e!))([images, kmx, kmv, refx, refdx]);
  const abs = (t: tf.Tensor) => tf.max(tf.abs(t)).dataSync()[0]!;
  assert.equal(abs(g[0]!), 0, 'no gradient into the frame');
  assert.ok(abs(g[1]!) > 1e-4, `gradient into the kinematic x (${abs(g[1]!)})`);
  assert.equal(abs(g[2]!), 0, 'no gradient into the speed that sizes the mask');
  assert.equal(abs(g[3]!), 0, 'no gradient into the reference x');
  assert.equal(abs(g[4]!), 0, 'no gradient into the reference heading');
  tf.tidy(() => {
    const ref = pose1(1000, 100, 1, 0, 80);
    const frame = frameWithCar([0, 1], [0, 1]);
    // 7 m to the right (+y): 2 m beyond the 5 m limit; 4 m is inside.
    close(kmCosts(frame, pose1(1000, 100 + 7 * 6.486, 1, 0, 80), ref, CAR).frame.dataSync(), [16], 0.5, 'sideways keep-in-frame at 7 m');
    close(kmCosts(frame, pose1(1000, 100 - 4 * 6.486, 1, 0, 80), ref, CAR).frame.dataSync(), [0], 0, 'sideways keep-in-frame at 4 m');
    // Far beyond the frame the masks are empty: costs 0, not NaN.
    const far = kmCosts(frameWithCar([50, 60], [5, 15]), pose1(1000 + 200 * 6.486, 100, 1, 0, 80), ref, CAR);
    close([read(far.proximity), read(far.lane)], [0, 0], 0, 'empty mask');
  });
});
