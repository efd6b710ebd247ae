import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { fusedCosts, opsCosts, type KmCosts } from '../../policy/costs-km.js';
import type { EgoPose } from '../../policy/kinematic-ego.js';
import type { CarSizes } from '../../policy/costs.js';
import { IMAGE_H, IMAGE_W } from '../../data/layout.js';
import { Rng } from '../../common/rng.js';
import { setup } from './helpers.js';

before(setup);

// Poses (x, y, dx, dy, v): the kinematic ego shifted, turned, fast and slow, and one exactly on its reference (the kinks of |x| and relu at the centre row).
const KM = [
  [1010, 104, Math.cos(0.05), Math.sin(0.05), 95],
  [480, 226, Math.cos(0.04), Math.sin(0.04), 30],
  [1000, 100, 1, 0, 80],
  [700, 150, Math.cos(-0.2), Math.sin(-0.2), 120],
  // Slow, turned far and off to the side: the mask box is short, rotated and cut by the frame's edges (rows and columns skipped).
  [1040, 118, Math.cos(0.7), Math.sin(0.7), 5],
  [960, 88, Math.cos(-1.2), Math.sin(-1.2), 0],
];
const REF = [
  [1000, 100, 1, 0, 80],
  [500, 220, Math.cos(0.1), Math.sin(0.1), 40],
  [1000, 100, 1, 0, 80],
  [690, 160, 1, 0, 110],
  [1000, 100, 1, 0, 20],
  [1000, 100, Math.cos(0.3), Math.sin(0.3), 10],
];
const CARS: CarSizes = { lengthObsPx: Float32Array.of(7.5, 5, 7, 9, 6, 8), widthObsPx: Float32Array.of(3, 2.2, 3, 3.5, 2.5, 3.2) };

const pose = (rows: number[][]): EgoPose => {
  const col = (i: number) => tf.tensor1d(rows.map((r) => r[i]!));
  return { x: col(0), y: col(1), dx: col(2), dy: col(3), v: col(4) };
};

/** Frames with random cars (green blocks), lane marks (red columns) and off-road (blue), values in [0, 1]. */
function frames(channels: number, seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  const n = KM.length;
  const img = new Float32Array(n * IMAGE_H * IMAGE_W * channels);
  for (let k = 0; k < img.length; k++) img[k] = 0.05 * rng.uniform(0, 1);
  const set = (r: number, i: number, j: number, c: number, v: number) => { img[((r * IMAGE_H + i) * IMAGE_W + j) * channels + c] = v; };
  for (let r = 0; r < n; r++) {
    for (let car = 0; car < 6; car++) {
      const i0 = rng.int(IMAGE_H - 8);
      const j0 = rng.int(IMAGE_W - 3);
      for (let i = i0; i < i0 + 7; i++) for (let j = j0; j < j0 + 3; j++) set(r, i, j, 1, 0.6 + 0.4 * rng.uniform(0, 1));
    }
    for (const j of [2, 8, 14, 20]) for (let i = 0; i < IMAGE_H; i++) set(r, i, j, 0, 0.8);
    if (channels >= 4) for (let i = 0; i < IMAGE_H; i++) set(r, i, 23, 2, 1);
  }
  return tf.tensor4d(img, [n, IMAGE_H, IMAGE_W, channels]);
}

/** Sum of the costs with distinct weights, as a function of the kinematic pose's fields. */
function weighted(costs: (img: tf.Tensor4D, km: EgoPose, ref: EgoPose, cars: CarSizes) => KmCosts, img: tf.Tensor4D) {
  return (x: tf.Tensor, y: tf.Tensor, dx: tf.Tensor, dy: tf.Tensor) => {
    const c = costs(img, { ...pose(KM), x: x as tf.Tensor1D, y: y as tf.Tensor1D, dx: dx as tf.Tensor1D, dy: dy as tf.Tensor1D }, pose(REF), CARS);
    const parts = [tf.mul(c.proximity, 1), tf.mul(c.lane, 0.7), tf.mul(c.frame, 0.3), ...(c.offroad ? [tf.mul(c.offroad, 0.5)] : [])];
    return tf.sum(tf.addN(parts)) as tf.Scalar;
  };
}

for (const channels of [3, 4]) {
  test(`the fused km costs equal the tfjs ops' costs and gradients in every pose field (${channels} channels)`, () => {
    tf.tidy(() => {
      const img = frames(channels, channels);
      const a = fusedCosts(img, pose(KM), pose(REF), CARS);
      const b = opsCosts(img, pose(KM), pose(REF), CARS);
      assert.equal(a.offroad === null, channels === 3);
      for (const k of ['proximity', 'lane', 'offroad', 'frame'] as const) {
        if (!b[k]) continue;
        const [x, y] = [a[k]!.dataSync(), b[k]!.dataSync()];
        x.forEach((v, i) => assert.ok(Math.abs(v - y[i]!) <= 1e-5 + 1e-4 * Math.abs(y[i]!), `${k} row ${i}: fused ${v}, ops ${y[i]}`));
      }
      // The costs are not trivial: every row sees cars and lanes.
      assert.ok(Array.from(b.proximity.dataSync()).every((v) => v > 1e-4), 'proximity > 0 in every row');
      const p = pose(KM);
      const xs = [p.x, p.y, p.dx, p.dy];
      const ga = tf.grads(weighted(fusedCosts, img))(xs);
      const gb = tf.grads(weighted(opsCosts, img))(xs);
      ['x', 'y', 'dx', 'dy'].forEach((name, f) => {
        const [u, v] = [ga[f]!.dataSync(), gb[f]!.dataSync()];
        const scale = Math.max(...Array.from(v, Math.abs));
        assert.ok(scale > 1e-6, `the gradient in ${name} is not zero`);
        u.forEach((g, i) => assert.ok(Math.abs(g - v[i]!) <= 1e-4 * scale + 1e-7, `d/d${name} row ${i}: fused ${g}, ops ${v[i]}`));
      });
    });
  });
}
