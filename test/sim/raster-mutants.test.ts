/**
 * Value tests for the rasteriser modules (sim/raster/runs.ts, rasteriser.ts) that pin behaviour
 * the broader tests of raster.test.ts leave open: touching runs, neighbouring rows, stale slots,
 * polygons given with spare array entries. Expected values are worked out by hand from the
 * documented rules (a pixel is lit when its centre is inside; runs merge when they overlap or touch).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunLayer, RUNS_PER_ROW } from '../../sim/raster/runs.js';
import { Rasteriser, type ImageVariant } from '../../sim/raster/rasteriser.js';
import { naiveObserve } from '../../sim/raster/naive.js';
import { I80_MAP, US101_MAP, type RoadMap, type Segment } from '../../sim/map.js';
import { Scene } from '../../sim/scene.js';
import { IMAGE_H, IMAGE_W } from '../../data/layout.js';

const runsOf = (L: RunLayer): number[][] => {
  const out: number[][] = [];
  L.forEachRun((r, s, e) => out.push([r, s, e]));
  return out;
};
const litCols = (L: RunLayer, r: number): number[] => {
  const bm = L.toBitmap();
  const out: number[] = [];
  for (let c = 0; c < L.width; c++) if (bm[r * L.width + c]) out.push(c);
  return out;
};

test('runs: a run that starts exactly where the last one ends is merged into it, not appended', () => {
  const L = new RunLayer(2, 40);
  L.addRun(0, 10, 12);
  L.addRun(0, 12, 15);
  assert.deepEqual(runsOf(L), [[0, 10, 15]]);
  assert.equal(L.counts[0], 1);
  L.addRun(0, 16, 18); // one pixel gap: a second run
  assert.deepEqual(runsOf(L), [[0, 10, 15], [0, 16, 18]]);
});

test('runs: inserting at the front of a row leaves a full neighbouring row untouched', () => {
  // Row 0 holds 32 runs [5k, 5k + 2); row 1 gets [50, 52) then [10, 12) (sorted in before it).
  const L = new RunLayer(2, 200);
  const row0: number[][] = [];
  for (let k = 0; k < RUNS_PER_ROW; k++) {
    L.addRun(0, 5 * k, 5 * k + 2);
    row0.push([0, 5 * k, 5 * k + 2]);
  }
  L.addRun(1, 50, 52);
  L.addRun(1, 10, 12);
  assert.deepEqual(runsOf(L), [...row0, [1, 10, 12], [1, 50, 52]]);
  L.addRun(1, 0, 3); // front again, the row-0 run before it starts at 155
  assert.deepEqual(runsOf(L).slice(RUNS_PER_ROW), [[1, 0, 3], [1, 10, 12], [1, 50, 52]]);
  assert.deepEqual(runsOf(L).slice(0, RUNS_PER_ROW), row0);
});

test('runs: the bitmap shows only the current runs, not what earlier (cleared or merged) runs left behind', () => {
  const L = new RunLayer(3, 40);
  L.addRun(1, 0, 3);
  L.addRun(1, 30, 35);
  L.clear();
  L.addRun(1, 10, 12);
  assert.deepEqual(litCols(L, 1), [10, 11]);
  // Three runs merged into one: the freed slots are not drawn.
  const M = new RunLayer(1, 40);
  M.addRun(0, 2, 4);
  M.addRun(0, 20, 22);
  M.addRun(0, 36, 38);
  M.addRun(0, 3, 21); // absorbs the first two: [2, 22), [36, 38)
  M.clear();
  M.addRun(0, 25, 26);
  assert.deepEqual(litCols(M, 0), [25]);
});

test('runs: addConvex uses only the first n vertices of longer arrays', () => {
  // Triangle (0, 0), (6, 0), (0, 6) given as n = 3 in arrays of 4 whose spare entry (7, 3) would,
  // as a fourth vertex, widen rows 3..5: the same rows as the bare triangle, row r lit for
  // columns c + 0.5 < 5.5 - r.
  const L = new RunLayer(8, 8);
  L.addConvex([0, 6, 0, 7], [0, 0, 6, 3], 3);
  assert.deepEqual(runsOf(L).sort((a, b) => a[0]! - b[0]!), [[0, 0, 5], [1, 0, 4], [2, 0, 3], [3, 0, 2], [4, 0, 1]]);
});

// ---- rasteriser.ts ----

/** A map with nothing on it unless given: no markings, the road edges far away, no painted areas. */
const bare = (markings: Segment[] = []): RoadMap => ({ ...I80_MAP, markings, lowerEdge: [[0, 1e4], [1, 1e4]], topPx: -1e4, offRoadAreas: [] });

function sceneOf(...cars: Array<[x: number, y: number, dirX: number, dirY: number, L: number, W: number, speed?: number]>): Scene {
  const s = new Scene();
  cars.forEach(([x, y, dirX, dirY, L, W, speed], i) => s.add(i, { xPx: x, yPx: y, dirX, dirY, speedPxPerS: speed ?? 0 }, L, W));
  return s;
}

/** Fast path against the pixel-by-pixel reference (sim/raster/naive.ts): pixels within 1 grey level, equal costs. */
function assertMatchesNaive(map: RoadMap, sc: Scene, variant: ImageVariant, what: string): Uint8Array {
  const R = new Rasteriser(map, variant);
  const fast = new Uint8Array(IMAGE_H * IMAGE_W * R.channels);
  const cf = R.observe(sc, 0, fast);
  const { image, costs } = naiveObserve(map, sc, 0, variant);
  let worst = 0;
  let at = -1;
  for (let p = 0; p < fast.length; p++) if (Math.abs(fast[p]! - image[p]!) > worst) [worst, at] = [Math.abs(fast[p]! - image[p]!), p];
  assert.ok(worst <= 1, `${what} (${variant}): pixel difference ${worst} at row ${Math.floor(at / R.channels / IMAGE_W)}, column ${Math.floor(at / R.channels) % IMAGE_W}, channel ${at % R.channels}`);
  for (const k of ['proximity', 'lane', 'offroad'] as const) assert.ok(Math.abs(cf[k] - costs[k]) < 1e-9, `${what} (${variant}) ${k}: ${cf[k]} vs ${costs[k]}`);
  return fast;
}

const channelSum = (img: Uint8Array, C: number, ch: number) => {
  let s = 0;
  for (let p = ch; p < img.length; p += C) s += img[p]!;
  return s;
};

test('rasteriser: shapes near the ends of the road and at the edges of the crop match the reference', () => {
  // Ego centre (1015, 96), heading +x. A marking at 45 degrees through the centre whose ends are
  // far outside the crop (visible, though both ends are more than the crop radius away), and a
  // short one across the front-left corner of the crop only: perpendicular to the corner's
  // direction (233.5, -47.5) / 238.28 at 238 px from the centre, so that it lights the corner
  // pixel (centre 238.28 px away) and nothing nearer.
  const n = [233.5 / Math.hypot(233.5, 47.5), -47.5 / Math.hypot(233.5, 47.5)];
  const foot = [1015 + 238 * n[0]!, 96 + 238 * n[1]!];
  const corner: Segment = [foot[0]! - 20 * n[1]!, foot[1]! + 20 * n[0]!, foot[0]! + 20 * n[1]!, foot[1]! - 20 * n[0]!];
  const diag: Segment = [515, -404, 1515, 596];
  for (const m of [[diag], [corner]]) {
    const img = assertMatchesNaive(bare(m), sceneOf([1000, 96, 1, 0, 30, 12]), 'paper', `marking ${m[0]!.map((v) => v.toFixed(1))}`);
    assert.ok(channelSum(img, 3, 0) > 0, 'the marking is visible');
  }
  // The corner marking lights the first image pixel: full-scale pixel (0, 0) alone has weight
  // (0.625 / 3.5)^2 there, times 4 x 255 = 32.5; its neighbours (0, 1), (1, 0) are lit too.
  const R = new Rasteriser(bare([corner]));
  const img = new Uint8Array(IMAGE_H * IMAGE_W * 3);
  R.observe(sceneOf([1000, 96, 1, 0, 30, 12]), 0, img);
  assert.ok(img[0]! >= 32, `${img[0]}`);
  // The road's ends and edges, in both variants (off-road layer drawn over the whole crop or the
  // lane-cost window): the top-left end of I-80 (the crop reaches x < 0), its gore at the start,
  // the flat extensions of US-101's lower edge before its first and after its last point, and an
  // ego turned to face down the screen, far above I-80, whose crop reaches the lower edge (placed
  // off the half-pixel grid: with this heading a marking whose band edges fall exactly on pixel
  // centres is given the row above by one path and the row below by the other).
  const cases: Array<[string, RoadMap, Scene]> = [
    ['I-80 start, lane 0', I80_MAP, sceneOf([0, 40, 1, 0, 30, 12], [60, 52, 1, 0, 20, 10])],
    ['I-80 start, gore', I80_MAP, sceneOf([135, 195, 1, 0, 30, 12])],
    ['US-101 before the lower edge', US101_MAP, sceneOf([285, 180, 1, 0, 30, 12])],
    ['US-101 after the lower edge', US101_MAP, sceneOf([2385, 180, 1, 0, 30, 12])],
    ['I-80 heading down, above the road', I80_MAP, sceneOf([1400, -40.3, 0, 1, 30, 12])],
  ];
  for (const [what, map, sc] of cases) {
    for (const v of ['paper', 'offroad'] as const) {
      const img = assertMatchesNaive(map, sc, v, what);
      if (v === 'offroad') assert.ok(channelSum(img, 4, 2) > 0, `${what}: off-road visible`);
    }
  }
});

test('rasteriser: a car lit only in the first (or last) two full-scale rows gives the known front (back) image row', () => {
  // Ego rear (1000, 96), L = 30: centre x = 1015; full-scale row r has its centre at x = 1248.5 - r.
  // Car rear at 1247 (heading +x, W = 16, y in [88, 104)): rows 0 and 1, columns 40..55.
  // Image row 0 takes rows 0, 1 with weights (0.625 + 0.875) / 3.5 = 3 / 7 and row 1 nothing.
  // Columns: output j weighs c in [4j - 2, 4j + 6) with (0.125, 0.375, ..., 0.125) / 4: j = 11, 12
  // are covered fully (1), j = 10, 13 by 3.5 / 4, j = 9, 14 by 0.5 / 4.
  const colW = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0.125, 0.875, 1, 1, 0.875, 0.125, 0, 0, 0, 0, 0, 0, 0, 0, 0];
  const want = colW.map((w) => Math.round(255 * (3 / 7) * w)); // 14, 96, 109, 109, 96, 14
  const R = new Rasteriser(bare());
  const img = new Uint8Array(IMAGE_H * IMAGE_W * 3);
  const row = (r: number, ch: number) => Array.from({ length: IMAGE_W }, (_, c) => img[(r * IMAGE_W + c) * 3 + ch]!);
  const zeroRows = (except: number) => {
    for (let r = 0; r < IMAGE_H; r++) if (r !== except) assert.deepEqual(row(r, 1), new Array(IMAGE_W).fill(0), `row ${r}`);
  };
  R.observe(sceneOf([1000, 96, 1, 0, 30, 12], [1247, 96, 1, 0, 20, 16]), 0, img);
  assert.deepEqual(row(0, 1), want);
  zeroRows(0);
  // Behind: a car whose front is at x = 783 covers the centres 782.5 and 781.5, rows 466 and 467.
  R.observe(sceneOf([1000, 96, 1, 0, 30, 12], [763, 96, 1, 0, 20, 16]), 0, img);
  assert.deepEqual(row(IMAGE_H - 1, 1), want);
  zeroRows(IMAGE_H - 1);
  // The same two scenes turned by 90 degrees (x -> y, heading +y): the same image rows.
  R.observe(sceneOf([96, 1000, 0, 1, 30, 12], [96, 1247, 0, 1, 20, 16]), 0, img);
  assert.deepEqual(row(0, 1), want);
  zeroRows(0);
  R.observe(sceneOf([96, 1000, 0, 1, 30, 12], [96, 763, 0, 1, 20, 16]), 0, img);
  assert.deepEqual(row(IMAGE_H - 1, 1), want);
  zeroRows(IMAGE_H - 1);
});

test('rasteriser: a scene reused after clear() draws only its current cars', () => {
  const R = new Rasteriser(bare());
  const img = new Uint8Array(IMAGE_H * IMAGE_W * 3);
  const sc = sceneOf([1000, 96, 1, 0, 30, 12], [1040, 96, 1, 0, 30, 12, 0]);
  R.observe(sc, 0, img);
  assert.ok(channelSum(img, 3, 1) > 0, 'the other car is drawn');
  sc.clear();
  sc.add(0, { xPx: 1000, yPx: 96, dirX: 1, dirY: 0, speedPxPerS: 100 }, 30, 12);
  const c = R.observe(sc, 0, img);
  assert.equal(channelSum(img, 3, 1), 0);
  assert.equal(c.proximity, 0);
});

test('rasteriser: observe writes exactly its image at the offset given', () => {
  // Three image slots filled with 7; observing into the middle one leaves the others as they were.
  for (const variant of ['paper', 'offroad'] as const) {
    const R = new Rasteriser(I80_MAP, variant);
    const size = IMAGE_H * IMAGE_W * R.channels;
    const buf = new Uint8Array(3 * size).fill(7);
    // Lanes reach the last image row, the ego does not: both ways of writing a row are used.
    R.observe(sceneOf([1000, 96, 1, 0, 30, 12]), 0, buf, size);
    assert.ok(buf.subarray(0, size).every((v) => v === 7), `${variant}: slot before`);
    assert.ok(buf.subarray(2 * size).every((v) => v === 7), `${variant}: slot after`);
    const alone = new Uint8Array(size);
    R.observe(sceneOf([1000, 96, 1, 0, 30, 12]), 0, alone);
    assert.deepEqual(buf.subarray(size, 2 * size), alone);
  }
});

test('rasteriser: the lane cost reads the rows of its window and not the row after it', () => {
  // Ego rear (1000, 96), L = 30: window rows [219, 249). Full-scale row r has its centre at
  // x = 1248.5 - r, so a marking across the road at x = 999.5 (band [999, 1000)) lights row 249
  // only, one at x = 1000.5 row 248 only; both span columns 32..63, over the whole window
  // (columns 36..59), whose largest weight is 1 - 1 / 23.
  const sc = sceneOf([1000, 96, 1, 0, 30, 12]);
  const after = new Rasteriser(bare([[999.5, 80, 999.5, 112]]));
  assert.equal(after.observe(sc, 0, new Uint8Array(IMAGE_H * IMAGE_W * 3)).lane, 0);
  const last = new Rasteriser(bare([[1000.5, 80, 1000.5, 112]]));
  assert.ok(Math.abs(last.observe(sc, 0, new Uint8Array(IMAGE_H * IMAGE_W * 3)).lane - 22 / 23) < 1e-12);
  // The same for the off-road cost: an off-road area covering only row 249, then only row 248.
  const area = (x0: number, x1: number): RoadMap => ({ ...bare(), offRoadAreas: [[[x0, 80], [x0, 112], [x1, 112], [x1, 80]]] });
  assert.equal(new Rasteriser(area(999, 1000)).observe(sc, 0, new Uint8Array(IMAGE_H * IMAGE_W * 3)).offroad, 0);
  assert.ok(Math.abs(new Rasteriser(area(1000, 1001)).observe(sc, 0, new Uint8Array(IMAGE_H * IMAGE_W * 3)).offroad - 22 / 23) < 1e-12);
  for (const m of [[999.5, 80, 999.5, 112], [1000.5, 80, 1000.5, 112]] as Segment[]) assertMatchesNaive(bare([m]), sc, 'paper', `marking at x = ${m[0]}`);
});
