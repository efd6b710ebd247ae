/**
 * The I-80 ramp gore (sim/map.ts offRoadAreas): the strip between the lane-6 edge (y = 180 px)
 * and the on-ramp marking, before the ramp joins (x < 432 px), is off-road in the observation's
 * off-road channel and in the off-road cost, as in the reference's map; past the join it is
 * road; the fast rasteriser agrees with render-then-resize there; episodes do not end in it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { I80_MAP, inOffRoadArea, isOffRoad, isOffRoadPixel } from '../../sim/map.js';
import { Rasteriser } from '../../sim/raster/rasteriser.js';
import { Scene } from '../../sim/scene.js';
import { assertFastMatchesNaive } from './helpers/raster-agreement.js';
import { IMAGE_H, IMAGE_W } from '../../data/layout.js';

function egoAt(x: number, y: number): Scene {
  const s = new Scene();
  s.add(0, { xPx: x, yPx: y, dirX: 1, dirY: 0, speedPxPerS: 0 }, 30, 12);
  return s;
}

const blue = (img: Uint8Array, r: number, c: number) => img[(r * IMAGE_W + c) * 4 + 2]!;

test('the gore is off-road in the channel for x < 432 px, road past the join', () => {
  assert.equal(inOffRoadArea(I80_MAP, 250, 190), true);
  assert.equal(inOffRoadArea(I80_MAP, 250, 181), false, 'the lane-6 edge itself is road');
  assert.equal(inOffRoadArea(I80_MAP, 250, 202), false, 'the ramp below its marking is road');
  assert.equal(inOffRoadArea(I80_MAP, 500, 190), false, 'past the join');
  assert.equal(isOffRoadPixel(I80_MAP, 250, 190), true);
  assert.equal(isOffRoad(I80_MAP, 250, 190), false, 'episodes end at the road edges only');
  const R = new Rasteriser(I80_MAP, 'offroad');
  const img = new Uint8Array(IMAGE_H * IMAGE_W * 4);
  // Ego in lane 6 (y = 170) at x = 250: the gore spans y 182..199 there, observation columns 15..19.
  R.observe(egoAt(250, 170), 0, img);
  const row = Math.floor(IMAGE_H / 2);
  assert.equal(blue(img, row, 17), 255, 'gore beside the ego');
  assert.equal(blue(img, row, 13), 0, 'lane 6 is road');
  // At x = 700 the crop (x 466..934) does not reach the gore.
  R.observe(egoAt(700, 170), 0, img);
  assert.equal(blue(img, row, 17), 0);
});

test('a car in the gore has an off-road cost (it had none before the gore existed)', () => {
  for (const variant of ['paper', 'offroad'] as const) {
    const R = new Rasteriser(I80_MAP, variant);
    const img = new Uint8Array(IMAGE_H * IMAGE_W * R.channels);
    const inGore = R.observe(egoAt(250, 192), 0, img);
    assert.ok(inGore.offroad > 0.5, `${variant}: ${inGore.offroad}`);
    const pastJoin = R.observe(egoAt(700, 192), 0, img);
    assert.equal(pastJoin.offroad, 0, variant);
  }
});

test('near the gore the fast rasteriser gives the pixels and costs of render-then-resize', () => {
  assertFastMatchesNaive({ seed: 13, trials: 5, cars: 12, xPx: [200, 650], yPx: [165, 215], headingSd: 0.1, speedMax: 120, lengthPx: [20, 50], widthPx: [10, 14] });
});
