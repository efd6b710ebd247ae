import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { NormStats } from '../../data/dataset-types.js';
import { DT_S } from '../../data/layout.js';
import { kinematicStep, packPose, physicalActions, statesFromPose, unpackPose } from '../../policy/kinematic-ego.js';
import { fusedKinematicStep, hostKinematicStep } from '../../policy/kinematic-ego-fused.js';
import { setup } from './helpers.js';

before(setup);

const STATS: NormStats = { stateMean: [800, 120, 60, 0.5], stateStd: [400, 40, 25, 3], actionMean: [0.3, 1e-5], actionStd: [8, 2e-4] };
// Poses (x, y, dx, dy, v): straight, turned left and right, slow, standing.
const POSES = [
  [1000, 100, 1, 0, 80],
  [500, 220, Math.cos(0.1), Math.sin(0.1), 40],
  [700, 150, Math.cos(-0.3), Math.sin(-0.3), 120],
  [300, 60, Math.cos(0.02), Math.sin(0.02), 3],
  [900, 180, 1, 0, 0],
];
const ACTIONS = [
  [0.5, 1.2],
  [-2, -0.7],
  [1.5, 2.5],
  [-0.1, 0.3],
  [2, -1],
];

/** The composition the fused op replaces. */
function composed(pose: tf.Tensor2D, actions: tf.Tensor2D): tf.Tensor2D {
  const { a, b } = physicalActions(actions, STATS);
  const next = kinematicStep(unpackPose(pose), a, b, DT_S);
  return tf.concat([packPose(next), statesFromPose(next, STATS)], 1) as tf.Tensor2D;
}

const fused = (pose: tf.Tensor2D, actions: tf.Tensor2D) => fusedKinematicStep(pose, actions, STATS, DT_S);

test('the fused kinematic step equals physicalActions -> kinematicStep -> statesFromPose, values and gradients', () => {
  tf.tidy(() => {
    const pose = tf.tensor2d(POSES);
    const actions = tf.tensor2d(ACTIONS);
    const want = composed(pose, actions).arraySync();
    const got = fused(pose, actions).arraySync();
    got.forEach((row, r) => row.forEach((v, c) => assert.ok(Math.abs(v - want[r]![c]!) <= 1e-5 * Math.max(1, Math.abs(want[r]![c]!)), `row ${r} col ${c}: fused ${v}, ops ${want[r]![c]}`)));
    // A weighted sum of every output, so each output's Jacobian row counts.
    const w = tf.tensor2d(Array.from({ length: POSES.length }, (_, r) => Array.from({ length: 9 }, (_, c) => Math.sin(1 + r * 9 + c))));
    const loss = (f: typeof fused) => (p: tf.Tensor, a: tf.Tensor) => tf.sum(tf.mul(f(p as tf.Tensor2D, a as tf.Tensor2D), w)) as tf.Scalar;
    const [gp, ga] = tf.grads(loss(fused))([pose, actions]);
    const [wp, wa] = tf.grads(loss(composed))([pose, actions]);
    for (const [name, g, e] of [['pose', gp!, wp!], ['actions', ga!, wa!]] as const) {
      const [x, y] = [g.arraySync() as number[][], e.arraySync() as number[][]];
      x.forEach((row, r) => row.forEach((v, c) => assert.ok(Math.abs(v - y[r]![c]!) <= 1e-4 * Math.max(1, Math.abs(y[r]![c]!)), `d/d${name}[${r}][${c}]: fused ${v}, ops ${y[r]![c]}`)));
    }
  });
});

test('the fused step over 20 steps matches finite differences of the host step in the actions', () => {
  // Final lateral position and speed after 20 steps of the same action, as a function of (alpha_a, alpha_b).
  const run = (aa: number, ab: number) => {
    let p: Float32Array = Float32Array.from([1000, 100, 1, 0, 80]);
    let out: Float32Array = new Float32Array(9);
    for (let k = 0; k < 20; k++) {
      out = hostKinematicStep(p, Float32Array.of(aa, ab), STATS, DT_S).values;
      p = out.slice(0, 5);
    }
    return out;
  };
  const g = tf.tidy(() =>
    tf.grads((a: tf.Tensor) => {
      let p = tf.tensor2d([[1000, 100, 1, 0, 80]]);
      let out: tf.Tensor2D = p;
      for (let k = 0; k < 20; k++) {
        out = fused(p, a as tf.Tensor2D);
        p = tf.slice(out, [0, 0], [-1, 5]);
      }
      return tf.sum(tf.mul(out, tf.tensor2d([[0, 1, 0, 0, 0.5, 0, 0, 0, 0]]))) as tf.Scalar;
    })([tf.tensor2d([[0.4, 1]])])[0]!.arraySync(),
  ) as number[][];
  const f = (aa: number, ab: number) => {
    const o = run(aa, ab);
    return o[1]! + 0.5 * o[4]!;
  };
  const h = 1e-2;
  const fd = [(f(0.4 + h, 1) - f(0.4 - h, 1)) / (2 * h), (f(0.4, 1 + h) - f(0.4, 1 - h)) / (2 * h)];
  fd.forEach((d, i) => assert.ok(Math.abs(g[0]![i]! - d) <= 2e-2 * Math.abs(d) + 1e-3, `d/dalpha_${i}: analytic ${g[0]![i]}, finite differences ${d}`));
  assert.ok(Math.abs(fd[1]!) > 1, `the steering moves the car sideways (${fd[1]})`);
});
