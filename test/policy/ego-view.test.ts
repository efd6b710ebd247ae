import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { IMAGE_H, IMAGE_W, SCALE_PX_PER_M } from '../../data/layout.js';
import { openDataset } from '../../data/dataset.js';
import { makeBatch, type BatchSpec } from '../../worldmodel/fm/batches.js';
import { batchTensors } from '../../worldmodel/fm/train-step.js';
import { Rasteriser } from '../../sim/raster/rasteriser.js';
import { Scene } from '../../sim/scene.js';
import { I80_MAP, laneCentreY } from '../../sim/map.js';
import type { CarState } from '../../sim/kinematics.js';
import { egoViewFrames, frameOffsets } from '../../policy/ego-view.js';
import { kmRollout, realWorld } from '../../policy/km-rollout.js';
import { packPose } from '../../policy/kinematic-ego.js';
import { PolicyNetwork } from '../../policy/network.js';
import { policyNetConfig, policyTrainConfig } from '../../policy/config.js';
import { setup, tinyDataset } from './helpers.js';

before(setup);

const PLANE = IMAGE_H * IMAGE_W * 3;

/** The observation the simulator renders for an ego at `ego` among fixed other cars (values in [0, 1]). */
function render(ego: CarState): Float32Array {
  const y = (lane: number) => laneCentreY(I80_MAP, lane);
  const s = new Scene(8);
  const others: Array<[number, number]> = [
    [800 + 28 + 40, y(2)], // ahead, same lane
    [800 - 28 - 30, y(2)], // behind, same lane
    [800 + 10, y(1)], // alongside, left lane
    [800 - 60, y(3)], // behind right
    [800 + 120, y(3)], // far ahead right
  ];
  others.forEach(([x, yy], i) => s.add(10 + i, { xPx: x, yPx: yy, dirX: 1, dirY: 0, speedPxPerS: 80 }, 28, 12));
  const e = s.add(1, ego, 28, 12);
  const out = new Uint8Array(PLANE);
  new Rasteriser(I80_MAP, 'paper').observe(s, e, out);
  return Float32Array.from(out, (v) => v / 255);
}

/** Share of pixels of the lanes and the other cars (red, green; rows and columns away from the frame's edges) that differ by more than 0.5. */
function mismatch(a: Float32Array, b: Float32Array): number {
  let bad = 0;
  let n = 0;
  for (let i = 12; i < IMAGE_H - 12; i++) {
    for (let j = 3; j < IMAGE_W - 3; j++) {
      for (const c of [0, 1]) {
        const k = (i * IMAGE_W + j) * 3 + c;
        n++;
        if (Math.abs(a[k]! - b[k]!) > 0.5) bad++;
      }
    }
  }
  return bad / n;
}

test("a reference frame resampled to the kinematic ego's pose is the frame the simulator renders there", () => {
  const y2 = laneCentreY(I80_MAP, 2);
  const ref: CarState = { xPx: 800, yPx: y2, dirX: 1, dirY: 0, speedPxPerS: 80 };
  const cases: Array<{ what: string; km: CarState }> = [
    { what: '2.5 m behind', km: { ...ref, xPx: 800 - 2.5 * SCALE_PX_PER_M } },
    { what: '1.5 m ahead, 0.6 m right', km: { ...ref, xPx: 800 + 1.5 * SCALE_PX_PER_M, yPx: y2 + 0.6 * SCALE_PX_PER_M } },
    { what: '1 m left, heading 2 degrees right', km: { ...ref, yPx: y2 - 1 * SCALE_PX_PER_M, dirX: Math.cos(0.035), dirY: Math.sin(0.035) } },
  ];
  const refFrame = render(ref);
  for (const { what, km } of cases) {
    const truth = render(km);
    const pose = (s: CarState) => Float32Array.from([s.xPx, s.yPx, s.dirX, s.dirY, s.speedPxPerS]);
    const o = frameOffsets(pose(km), pose(ref), 1, SCALE_PX_PER_M);
    const moved = egoViewFrames(refFrame, 1, 3, o);
    const before = mismatch(refFrame, truth);
    const after = mismatch(moved, truth);
    // The reference frame itself is visibly wrong for the moved ego; the resampled one is right up to the nearest-pixel rounding.
    assert.ok(before > 0.03, `${what}: the reference frame already matches (${before})`);
    assert.ok(after < 0.25 * before && after < 0.012, `${what}: ${(100 * after).toFixed(2)} % of pixels differ after resampling, ${(100 * before).toFixed(2)} % before`);
  }
});

test('egoViewFrames: zero offsets copy the frames; an offset of whole pixels moves them; the sizes are checked', () => {
  const frames = Float32Array.from({ length: 2 * PLANE }, (_, i) => (i * 7919) % 13 / 13);
  const zero = { u: new Float32Array(2), w: new Float32Array(2), cos: Float32Array.from([1, 1]), sin: new Float32Array(2) };
  assert.deepEqual(egoViewFrames(frames, 2, 3, zero), frames);
  // Row 1: the ego 2 px (of 1.62 per metre) ahead and 1 px right of the frame centre.
  const o = { u: Float32Array.from([0, 2 / 1.62]), w: Float32Array.from([0, 1 / 1.62]), cos: Float32Array.from([1, 1]), sin: new Float32Array(2) };
  const out = egoViewFrames(frames, 2, 3, o);
  assert.deepEqual(out.subarray(0, PLANE), frames.subarray(0, PLANE));
  for (const [i, j] of [[10, 5], [60, 12], [100, 20]] as const) {
    for (let c = 0; c < 3; c++) {
      // What was 2 rows further ahead and one column further right is now at (i, j).
      assert.equal(out[PLANE + (i * IMAGE_W + j) * 3 + c], frames[PLANE + ((i - 2) * IMAGE_W + j + 1) * 3 + c], `pixel ${i}, ${j}, channel ${c}`);
    }
  }
  // The two rows at the top and the last column came from outside the frame: the nearest edge pixel.
  for (let j = 0; j < IMAGE_W - 1; j++) for (const i of [0, 1]) assert.equal(out[PLANE + (i * IMAGE_W + j) * 3], frames[PLANE + (j + 1) * 3], `row ${i}, column ${j}`);
  for (let i = 2; i < IMAGE_H; i++) assert.equal(out[PLANE + (i * IMAGE_W + IMAGE_W - 1) * 3 + 1], frames[PLANE + ((i - 2) * IMAGE_W + IMAGE_W - 1) * 3 + 1], `row ${i}, last column`);
  assert.throws(() => egoViewFrames(frames, 3, 3, o), /ego view: 16848 values for 3 frames of 117 x 24 x 3/);
});

test("kmRollout with the ego view: the policy reads the context as it is at step 0, then every future frame resampled by that step's offset", () => {
  const NCOND = 2;
  const NPRED = 12;
  const ds = openDataset(tinyDataset());
  const spec: BatchSpec = { split: 'train', shape: { batch: 3, ncond: NCOND, npred: NPRED, channels: 3 }, seed: 2, stats: ds.manifest.stats };
  const wb = makeBatch(ds, ds.episodes('train'), spec, 0);
  const stats = ds.manifest.stats;
  const policy = PolicyNetwork.create(policyNetConfig('tiny', NCOND, 3), 3);
  // Full throttle and steering (3 std above the data's means), so that the ego leaves the expert's pose by metres.
  (policy.weights['out.b'] as tf.Variable).assign(tf.tensor1d([3, 3]));
  const B = 3;
  try {
    tf.tidy(() => {
      const b = batchTensors(wb);
      const world = realWorld(b, NCOND, 3, NPRED);
      const plain = kmRollout(policy, world, b.input, stats, NPRED);
      const ego = kmRollout(policy, world, b.input, stats, NPRED, { egoView: true });
      assert.equal(plain.contexts, null);
      assert.ok(ego.contexts);
      const ctx = ego.contexts.arraySync() as number[][][][];
      const want = world.contexts.arraySync() as number[][][][];
      // Step 0: the context itself (the kinematic ego starts at the expert's pose), and so the same first action.
      for (let r = 0; r < B; r++) assert.deepEqual(ctx[r], want[r]);
      assert.deepEqual(Array.from(ego.actions[0]!.dataSync()), Array.from(plain.actions[0]!.dataSync()));
      // Later steps: the newest slot is the frame after the previous action, moved by that step's offset.
      const kmRows = packPose(ego.km).dataSync() as Float32Array;
      const refRows = packPose(ego.ref).dataSync() as Float32Array;
      let moved = 0;
      for (let t = 1; t < NPRED; t++) {
        const o = frameOffsets(kmRows.subarray((t - 1) * B * 5, t * B * 5), refRows.subarray((t - 1) * B * 5, t * B * 5), B, SCALE_PX_PER_M);
        moved = Math.max(moved, ...Array.from(o.u, Math.abs));
        const frame = egoViewFrames(b.targetImages[t - 1]!.dataSync() as Float32Array, B, 3, o);
        const slot: Float32Array | Int32Array | Uint8Array = tf.slice(ego.contexts as tf.Tensor4D, [t * B, 0, 0, (NCOND - 1) * 3], [B, -1, -1, 3]).dataSync();
        assert.deepEqual(Array.from(slot), Array.from(frame), `step ${t}`);
      }
      assert.ok(moved > 0.6, `the kinematic ego never left the expert's pose (largest offset ${moved} m): the test shows nothing`);
    });
  } finally {
    policy.dispose();
  }
});

test('--view: reference by default, ego for the km methods only; anything else is refused', () => {
  assert.equal(policyTrainConfig('tiny', 'mpur-km').view, 'reference');
  assert.equal(policyTrainConfig('tiny', 'vg-km', { view: 'ego' }).view, 'ego');
  assert.equal(policyTrainConfig('tiny', 'mpur').view, 'reference');
  assert.throws(() => policyTrainConfig('tiny', 'mpur-km', { view: 'sideways' as never }), /field view: must be one of reference, ego, got 'sideways'/);
  assert.throws(() => policyTrainConfig('tiny', 'mpur', { view: 'ego' }), /field view: only the km methods \(mpur-km, vg-km\) separate the ego from the frames; mpur reads the model's own/);
});
