/**
 * Test helper: random scenes on I-80, observed by the fast rasteriser and by render-then-resize
 * (sim/raster/naive.ts), in both image variants; asserts pixels within 1 grey level and equal
 * costs. The scene's cars are drawn from the ranges given (positions, heading spread, speed,
 * length and width in px).
 */
import assert from 'node:assert/strict';
import { Rng } from '../../../common/rng.js';
import { I80_MAP } from '../../../sim/map.js';
import { naiveObserve } from '../../../sim/raster/naive.js';
import { Rasteriser } from '../../../sim/raster/rasteriser.js';
import { Scene } from '../../../sim/scene.js';
import { IMAGE_H, IMAGE_W } from '../../../data/layout.js';

export interface SceneRanges {
  seed: number;
  trials: number;
  cars: number;
  xPx: [number, number];
  yPx: [number, number];
  headingSd: number;
  speedMax: number;
  lengthPx: [number, number];
  widthPx: [number, number];
}

export function assertFastMatchesNaive(r: SceneRanges): void {
  const rng = new Rng(r.seed);
  for (const variant of ['paper', 'offroad'] as const) {
    const R = new Rasteriser(I80_MAP, variant);
    for (let trial = 0; trial < r.trials; trial++) {
      const sc = new Scene();
      for (let i = 0; i < r.cars; i++) {
        const ang = rng.normal(0, r.headingSd);
        sc.add(i, { xPx: rng.uniform(...r.xPx), yPx: rng.uniform(...r.yPx), dirX: Math.cos(ang), dirY: Math.sin(ang), speedPxPerS: rng.uniform(0, r.speedMax) }, rng.uniform(...r.lengthPx), rng.uniform(...r.widthPx));
      }
      const fast = new Uint8Array(IMAGE_H * IMAGE_W * R.channels);
      const cf = R.observe(sc, 0, fast);
      const { image, costs } = naiveObserve(I80_MAP, sc, 0, variant);
      let worst = 0;
      for (let p = 0; p < fast.length; p++) worst = Math.max(worst, Math.abs(fast[p]! - image[p]!));
      assert.ok(worst <= 1, `${variant} trial ${trial}: pixel difference ${worst}`);
      for (const k of ['proximity', 'lane', 'offroad'] as const) assert.ok(Math.abs(cf[k] - costs[k]) < 1e-9, `${k}: ${cf[k]} vs ${costs[k]}`);
    }
  }
}
