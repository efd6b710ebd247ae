import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { I80_MAP, laneCentreY } from '../../sim/map.js';
import { Scene } from '../../sim/scene.js';
import { Rasteriser } from '../../sim/raster/rasteriser.js';
import { laneWeight, maskAt, proximityRowAxis } from '../../sim/costs.js';
import { IMAGE_H, IMAGE_W } from '../../data/layout.js';
import type { NormStats } from '../../data/dataset-types.js';
import {
  laneColProfile, laneRowProfile, maskedMax, predictionCosts, proximityColProfile, proximityRowProfile, stackedCosts, tileCars, type CarSizes,
} from '../../policy/costs.js';
import { egoSizesFromContext } from '../../policy/car-size.js';
import { kmCosts } from '../../policy/costs-km.js';
import { setup } from './helpers.js';

before(setup);

/** Identity normalisation: standardised states equal raw px, px/s. */
const RAW: NormStats = { stateMean: [0, 0, 0, 0], stateStd: [1, 1, 1, 1], actionMean: [0, 0], actionStd: [1, 1] };

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('mask profiles, hand-checked: a 7 x 3 obs px car at rest', () => {
  // rows: hi = ceil((117 - (7 - 1.62)) / 2) = 56, lo = 56 - 1.62 = 54.38; tent(i) = (1 - |-1 + 2i/116|) * 58.5
  const rows = proximityRowProfile(7, 0);
  close(rows[58]!, 1, 1e-6, 'centre row');
  close(rows[56]!, 1, 1e-6, 'row 56 (tent 56.48)');
  close(rows[55]!, (55.474 - 54.378) / 1.6216, 2e-3, 'row 55');
  close(rows[54]!, (54.466 - 54.378) / 1.6216, 2e-3, 'row 54');
  assert.equal(rows[53], 0);
  assert.equal(rows[0], 0);
  // cols: lo = ceil(12 - 3) = 9, hi = ceil((24 - 1.38) / 2) = 12; tent(k) = (1 - |-1 + 2k/23|) * 12
  const cols = proximityColProfile(3);
  close(cols[11]!, (11.478 - 9) / 3, 1e-3, 'col 11');
  close(cols[10]!, (10.435 - 9) / 3, 1e-3, 'col 10');
  close(cols[9]!, (9.391 - 9) / 3, 1e-3, 'col 9');
  assert.equal(cols[8], 0);
  assert.equal(cols[15], 0);
  for (let k = 0; k < 12; k++) close(cols[k]!, cols[23 - k]!, 1e-6, `symmetry ${k}`);
  // Lane: rows covering the car's length (tent >= ceil((117 - 7) / 2) = 55), weights (max(t, 9) - 9) / 3.
  const laneRows = laneRowProfile(7);
  assert.deepEqual([...laneRows.keys()].filter((r) => laneRows[r] === 1), [55, 56, 57, 58, 59, 60, 61]);
  const laneCols = laneColProfile();
  close(laneCols[11]!, 0.826, 1e-3, 'lane col 11');
  assert.equal(laneCols[8], 0);
});

test('the proximity row profile follows the simulator mask at a quarter of the resolution', () => {
  for (const speedPxPerS of [0, 50, 150, 300]) {
    const sim = proximityRowAxis(28, speedPxPerS);
    const ours = proximityRowProfile(7, speedPxPerS / 4);
    let worst = 0;
    for (let r = 0; r < IMAGE_H; r++) worst = Math.max(worst, Math.abs(ours[r]! - maskAt(sim, 4 * r + 1.5)));
    assert.ok(worst < 0.08, `speed ${speedPxPerS}: largest difference ${worst}`);
  }
  // The lane weights equal the simulator's at the centre of each observation column.
  const lane = laneColProfile();
  for (let c = 0; c < IMAGE_W; c++) close(lane[c]!, laneWeight(4 * c + 1.5), 1e-3, `lane column ${c}`);
});

/** A rendered observation of an ego in lane 2 with one car `gapPx` ahead (0 or negative: overlapping), plus the simulator's costs. */
function scene(gapPx: number | null, speedPxPerS: number, egoYOffsetPx = 0): { image: Float32Array; proximity: number; lane: number } {
  const r = new Rasteriser(I80_MAP, 'paper');
  const s = new Scene(4);
  const y = laneCentreY(I80_MAP, 2);
  const ego = s.add(1, { xPx: 800, yPx: y + egoYOffsetPx, dirX: 1, dirY: 0, speedPxPerS }, 28, 12);
  if (gapPx !== null) s.add(2, { xPx: 800 + 28 + gapPx, yPx: y, dirX: 1, dirY: 0, speedPxPerS }, 28, 12);
  const out = new Uint8Array(IMAGE_H * IMAGE_W * 3);
  const c = r.observe(s, ego, out);
  return { image: Float32Array.from(out, (v) => v / 255), proximity: c.proximity, lane: c.lane };
}

function ours(images: Float32Array[], speedPxPerS: number) {
  const n = images.length;
  const all = new Float32Array(n * IMAGE_H * IMAGE_W * 3);
  images.forEach((im, i) => all.set(im, i * im.length));
  const cars = egoSizesFromContext(all, n, 1, 3);
  const out = { proximity: [] as number[], lane: [] as number[], offroad: null as tf.Tensor | null, cars };
  tf.tidy(() => {
    const c = predictionCosts(tf.tensor4d(all, [n, IMAGE_H, IMAGE_W, 3]), tf.tensor2d(Array.from({ length: n }, () => [0, 0, speedPxPerS, 0])), cars, RAW);
    out.proximity = Array.from(c.proximity.dataSync());
    out.lane = Array.from(c.lane.dataSync());
    out.offroad = c.offroad;
  });
  return out;
}

test('on rendered scenes, a closer car ahead costs more, like the simulator cost; no car, no cost', () => {
  const speed = 80;
  const gaps = [200, 120, 80, 40, 20, 5];
  const scenes = gaps.map((g) => scene(g, speed));
  const c = ours(scenes.map((s) => s.image), speed);
  for (let i = 1; i < gaps.length; i++) {
    assert.ok(c.proximity[i]! >= c.proximity[i - 1]!, `ours: gap ${gaps[i]} costs ${c.proximity[i]}, gap ${gaps[i - 1]} ${c.proximity[i - 1]}`);
    assert.ok(scenes[i]!.proximity >= scenes[i - 1]!.proximity, `sim: gap ${gaps[i]}`);
  }
  assert.equal(c.proximity[0], 0, 'beyond the safe distance (1.5 s * 80 px/s + 6.5 px = 126.5 px)');
  assert.equal(scenes[0]!.proximity, 0);
  assert.ok(c.proximity[5]! > 0.6 && scenes[5]!.proximity > 0.9, `close: ours ${c.proximity[5]}, sim ${scenes[5]!.proximity}`);
  // Measured gap to the simulator's cost: the column profile peaks at 0.826 (the two centre
  // columns' tent value 11.48 stays below hi = 12, as in the reference's discrete mask), so on the
  // centre column the cost is 0.826 x the row part; the row part stays within 0.05 of the
  // simulator's cost up to a 40 px gap (the 4x downscale blurs the other car's edge). Ratios at
  // 80 px/s: 0.793 (5 px), 0.780 (20 px), 0.768 (40 px).
  const colPeak = Math.max(...proximityColProfile(3));
  close(colPeak, (12 * (1 - 1 / 23) - 9) / 3, 1e-6, 'column peak');
  const rowProfile = proximityRowProfile(7, speed / 4);
  for (let i = 0; i < gaps.length; i++) {
    let rowPart = 0;
    for (let r = 0; r < IMAGE_H; r++) rowPart = Math.max(rowPart, rowProfile[r]! * scenes[i]!.image[(r * IMAGE_W + 11) * 3 + 1]!);
    close(c.proximity[i]!, colPeak * rowPart, 1e-5, `gap ${gaps[i]}: centre column`);
    if (gaps[i]! <= 40) {
      const ratio = c.proximity[i]! / scenes[i]!.proximity;
      assert.ok(ratio > 0.76 && ratio < 0.8, `gap ${gaps[i]}: ours ${c.proximity[i]} / sim ${scenes[i]!.proximity} = ${ratio}`);
      close(rowPart, scenes[i]!.proximity, 0.05, `gap ${gaps[i]}: row part`);
    }
  }
  // An overlapping car: the simulator's cost is 1 (a collision), ours the column peak.
  const overlap = scene(-10, speed);
  assert.equal(overlap.proximity, 1);
  close(ours([overlap.image], speed).proximity[0]!, colPeak, 1e-5, 'overlap');
  assert.equal(c.offroad, null);
  // The ego's measured footprint: 28 x 12 px = 7 x 3 obs px.
  for (let i = 0; i < gaps.length; i++) {
    close(c.cars.lengthObsPx[i]!, 7, 0.5, 'length');
    close(c.cars.widthObsPx[i]!, 3, 0.5, 'width');
  }
  const empty = ours([scene(null, speed).image], speed);
  assert.equal(empty.proximity[0], 0);
  // A faster ego has a longer safe distance: the same gap costs more.
  const fast = ours([scenes[1]!.image], 200);
  assert.ok(fast.proximity[0]! > c.proximity[1]!, `fast ${fast.proximity[0]} vs ${c.proximity[1]}`);
});

test('lane cost: centred in the lane is cheap, on a marking is expensive (as in the simulator)', () => {
  const offsets = [0, 4, 8, 12];
  const scenes = offsets.map((o) => scene(null, 50, o));
  const c = ours(scenes.map((s) => s.image), 50);
  assert.ok(c.lane[3]! > c.lane[0]! + 0.3, `on the marking ${c.lane[3]} vs centred ${c.lane[0]}`);
  assert.ok(scenes[3]!.lane > scenes[0]!.lane + 0.3);
  for (let i = 1; i < offsets.length; i++) assert.ok(c.lane[i]! >= c.lane[i - 1]! - 1e-6, `offset ${offsets[i]}`);
});

test('costs are differentiable in the images; the speed that sizes the mask is detached', () => {
  const s = scene(30, 80);
  const cars: CarSizes = { lengthObsPx: Float32Array.of(7), widthObsPx: Float32Array.of(3) };
  const img = tf.tensor4d(s.image, [1, IMAGE_H, IMAGE_W, 3]);
  const st = tf.tensor2d([[0, 0, 80, 0]]);
  const [gImg, gSt] = tf.grads((im: tf.Tensor, x: tf.Tensor) => {
    const c = predictionCosts(im as tf.Tensor4D, x as tf.Tensor2D, cars, RAW);
    return tf.add(c.proximity.sum(), c.lane.sum());
  })([img, st]);
  const g = gImg!.dataSync();
  assert.ok(g.every(Number.isFinite));
  assert.ok(g.some((v) => v > 0), 'the masked maximum passes a gradient to its pixel');
  assert.deepEqual(Array.from(gSt!.dataSync()), [0, 0, 0, 0]);
  // stackedCosts: [N, 2] for 3 channels, [N, 3] with an off-road channel; tileCars repeats copy-major.
  const four = tf.zeros([2, IMAGE_H, IMAGE_W, 4]) as tf.Tensor4D;
  const two = tileCars(cars, 2);
  assert.deepEqual(Array.from(two.lengthObsPx), [7, 7]);
  assert.deepEqual(stackedCosts(four, tf.zeros([2, 4]) as tf.Tensor2D, two, RAW).shape, [2, 3]);
  assert.deepEqual(stackedCosts(img, st, cars, RAW).shape, [1, 2]);
  tf.dispose([img, st, gImg!, gSt!, four]);
});

test('car sizes fall back to the average car when the ego channel is empty', () => {
  const sizes = egoSizesFromContext(new Float32Array(IMAGE_H * IMAGE_W * 3 * 2), 1, 2, 3);
  close(sizes.lengthObsPx[0]!, 14.3 * 0.3048 * (24 / 3.7) / 4, 1e-4, 'length');
  close(sizes.widthObsPx[0]!, 6.4 * 0.3048 * (24 / 3.7) / 4, 1e-4, 'width');
});

test('the off-road cost reads the off-road channel (index 2), not the ego channel (index 3)', () => {
  // 4-channel frame: off-road values rise from the left edge (column j: j / 23), the ego channel
  // is 1 over the car's footprint, lanes and cars are empty.
  const img = new Float32Array(IMAGE_H * IMAGE_W * 4);
  for (let r = 0; r < IMAGE_H; r++) {
    for (let j = 0; j < IMAGE_W; j++) {
      img[(r * IMAGE_W + j) * 4 + 2] = j / 23;
      if (r >= 55 && r <= 61 && j >= 10 && j <= 13) img[(r * IMAGE_W + j) * 4 + 3] = 1;
    }
  }
  const cars: CarSizes = { lengthObsPx: Float32Array.of(7), widthObsPx: Float32Array.of(3) };
  const rows = laneRowProfile(7);
  const cols = laneColProfile();
  // max over the lane mask of (mask * j / 23), and the mask-weighted mean of (j / 23)^2 for the km cost below.
  let want = 0;
  for (let r = 0; r < IMAGE_H; r++) for (let j = 0; j < IMAGE_W; j++) want = Math.max(want, rows[r]! * cols[j]! * (j / 23));
  assert.ok(want > 0.3 && want < 0.7, `expected ${want}`);
  const got = tf.tidy(() => predictionCosts(tf.tensor4d(img, [1, IMAGE_H, IMAGE_W, 4]), tf.tensor2d([[0, 0, 50, 0]]), cars, RAW).offroad!.dataSync()[0]!);
  close(got, want, 1e-5, 'predictionCosts off-road');
  // The km cost with the ego where the frame is centred: a mask symmetric about the centre column
  // (11.5) averages (j / 23)^2 to at least (11.5 / 23)^2 = 0.25 (measured 0.261; the ego channel
  // gives 0.139).
  const kmOff = tf.tidy(() => {
    const pose = { x: tf.tensor1d([1000]), y: tf.tensor1d([100]), dx: tf.tensor1d([1]), dy: tf.tensor1d([0]), v: tf.tensor1d([80]) };
    return kmCosts(tf.tensor4d(img, [1, IMAGE_H, IMAGE_W, 4]), pose, pose, cars).offroad!.dataSync()[0]!;
  });
  assert.ok(kmOff >= 0.25 && kmOff < 0.3, `km off-road ${kmOff}`);
});

test('maskedMax equals tf.max of mask * values in value and gradient, ties included (a row with no car: every masked zero ties)', () => {
  tf.tidy(() => {
    const n = 3;
    const plane = IMAGE_H * IMAGE_W;
    const mask = new Float32Array(n * plane);
    const vals = new Float32Array(n * plane);
    for (let k = 0; k < n * plane; k++) {
      mask[k] = (k % 7) / 6;
      // Row 0: a smooth field; row 1: two equal peaks; row 2: all zero (every pixel ties at 0).
      const r = Math.floor(k / plane);
      vals[k] = r === 0 ? 0.5 + 0.5 * Math.sin(0.01 * k) : r === 1 ? ((k % plane === 100 || k % plane === 900) ? 0.9 : 0.1) : 0;
    }
    // Two equal peaks of row 1 under mask 1.
    for (const k of [plane + 104, plane + 909]) {
      vals[k] = 2;
      mask[k] = 1;
    }
    const m = tf.tensor3d(mask, [n, IMAGE_H, IMAGE_W]);
    const v = tf.tensor3d(vals, [n, IMAGE_H, IMAGE_W]);
    const dy = tf.tensor1d([1, -2, 0.5]);
    const ours = tf.grads((x: tf.Tensor) => tf.sum(tf.mul(maskedMax(m, x as tf.Tensor3D), dy)) as tf.Scalar)([v])[0]!.dataSync();
    const ref = tf.grads((x: tf.Tensor) => tf.sum(tf.mul(tf.max(tf.mul(m, x), [1, 2]), dy)) as tf.Scalar)([v])[0]!.dataSync();
    assert.deepEqual(Array.from(maskedMax(m, v).dataSync()), Array.from(tf.max(tf.mul(m, v), [1, 2]).dataSync()));
    let diff = 0;
    for (let k = 0; k < ours.length; k++) diff = Math.max(diff, Math.abs(ours[k]! - ref[k]!));
    assert.equal(diff, 0, 'gradients differ');
    // The ties got the gradient: both peaks of row 1, and every pixel of row 2 (times its mask).
    assert.equal(ours[plane + 104], -2);
    assert.equal(ours[plane + 909], -2);
    assert.ok(Math.abs(ours[2 * plane + 4]! - 0.5) < 1e-7, `row 2 tie under mask 1: ${ours[2 * plane + 4]}`);
  });
});
