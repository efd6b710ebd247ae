import { test } from 'node:test';
import assert from 'node:assert/strict';
import { I80_MAP, type RoadMap } from '../../sim/map.js';
import { Rasteriser } from '../../sim/raster/rasteriser.js';
import { cumulativeTable, scatterTable, triangleTaps } from '../../sim/raster/filter.js';
import { RunLayer, RUNS_PER_ROW } from '../../sim/raster/runs.js';
import { Scene } from '../../sim/scene.js';
import { assertFastMatchesNaive } from './helpers/raster-agreement.js';
import { PROXIMITY_ALPHA_PX } from '../../sim/units.js';
import { IMAGE_H, IMAGE_W } from '../../data/layout.js';

const C3 = 3;
const px = (img: Uint8Array, r: number, c: number, ch: number, C = C3) => img[(r * IMAGE_W + c) * C + ch]!;

function egoScene(speed = 0, L = 30, W = 12, x = 1000, y = 96): Scene {
  const s = new Scene();
  s.add(0, { xPx: x, yPx: y, dirX: 1, dirY: 0, speedPxPerS: speed }, L, W);
  return s;
}

test('the fast path gives the same pixels and costs as render-then-resize (both variants)', () => {
  assertFastMatchesNaive({ seed: 7, trials: 6, cars: 25, xPx: [300, 1000], yPx: [20, 215], headingSd: 0.08, speedMax: 150, lengthPx: [20, 60], widthPx: [10, 16] });
});

test('lane markings land in the expected columns', () => {
  // Ego centred in lane 2 (y = 96), heading +x: the lines at y = 60, 84, 108, 132 are 36 and 12 px
  // left and right of the centre, i.e. full-scale columns 11, 35, 59, 83. Column c feeds output
  // column floor(c / 4) with weight 0.625 / 4 and the next one with 0.375 / 4; times 4 (gain)
  // and 255: 159.4 and 95.6.
  const R = new Rasteriser(I80_MAP);
  const img = new Uint8Array(IMAGE_H * IMAGE_W * 3);
  R.observe(egoScene(), 0, img);
  const expected = new Array(IMAGE_W).fill(0);
  for (const j of [2, 8, 14, 20]) {
    expected[j] = 159;
    expected[j + 1] = 96;
  }
  for (const r of [10, 58, 100]) {
    const row = Array.from({ length: IMAGE_W }, (_, c) => px(img, r, c, 0));
    assert.deepEqual(row, expected, `row ${r}`);
  }
  // The ego in blue at the centre, nothing in green.
  assert.equal(px(img, 58, 11, 2), 255);
  assert.equal(px(img, 58, 3, 2), 0);
  for (let p = 1; p < img.length; p += 3) assert.equal(img[p], 0);
});

test('a car straight ahead at a known gap gives the known proximity cost', () => {
  // Ego L = 30, W = 12, speed 100 px/s: safe = 1.5 * 100 + 6.486 = 156.486 px.
  // Row axis: hi = ceil((468 - (30 - 6.486)) / 2) = 223, lo = ceil(223 - 156.486) = 67.
  // Other car 20 px ahead of the ego's front: its rear is 15 + 20 = 35 px ahead of the centre,
  // so the nearest lit row has its centre 35.5 px ahead: row 234 - 35.5 - 0.5 = 198, whose tent
  // value is 198 * 468 / 467 = 198.424. Cost = (198.424 - 67) / (223 - 67) = 0.84246.
  const R = new Rasteriser(I80_MAP);
  const sc = egoScene(100);
  sc.add(1, { xPx: 1000 + 30 + 20, yPx: 96, dirX: 1, dirY: 0, speedPxPerS: 100 }, 30, 12);
  const c = R.observe(sc, 0, new Uint8Array(IMAGE_H * IMAGE_W * 3));
  assert.ok(Math.abs(c.proximity - (198 * 468 / 467 - 67) / 156) < 1e-9, `${c.proximity}`);
  // Continuous approximation: 1 - (35 - (30 - alpha) / 2) / 156.486.
  assert.ok(Math.abs(c.proximity - (1 - (35 - (30 - PROXIMITY_ALPHA_PX) / 2) / 156.486)) < 0.02);
  // Twice as far: lower; beyond the safe distance: zero.
  sc.x[1] = 1000 + 30 + 60;
  const c2 = R.observe(sc, 0, new Uint8Array(IMAGE_H * IMAGE_W * 3));
  assert.ok(c2.proximity < c.proximity && c2.proximity > 0);
  sc.x[1] = 1000 + 30 + 160;
  assert.equal(R.observe(sc, 0, new Uint8Array(IMAGE_H * IMAGE_W * 3)).proximity, 0);
});

test('collision registers only once the other car is inside the footprint shrunk by alpha', () => {
  const R = new Rasteriser(I80_MAP);
  const img = new Uint8Array(IMAGE_H * IMAGE_W * 3);
  const sc = egoScene(100);
  // Overlapping the ego's front by 1 px: nearest row 219, (219.47 - 67) / 156 = 0.977.
  sc.add(1, { xPx: 1000 + 30 - 1, yPx: 96, dirX: 1, dirY: 0, speedPxPerS: 100 }, 30, 12);
  const touch = R.observe(sc, 0, img).proximity;
  assert.ok(touch > 0.95 && touch <= 0.99, `${touch}`);
  // Overlapping by 5 px (more than alpha / 2 = 3.24 px): inside the plateau, cost 1.
  sc.x[1] = 1000 + 30 - 5;
  assert.equal(R.observe(sc, 0, img).proximity, 1);
});

test('a car in the next lane costs 0 at speed 0 and > 0 once the safe distance reaches it', () => {
  const R = new Rasteriser(I80_MAP);
  const img = new Uint8Array(IMAGE_H * IMAGE_W * 3);
  // Other car 16 px to the right (its centre past the lane line 12 px away), 60 px ahead of the front.
  const at = (speed: number) => {
    const sc = egoScene(speed);
    sc.add(1, { xPx: 1000 + 30 + 60, yPx: 96 + 16, dirX: 1, dirY: 0, speedPxPerS: speed }, 30, 12);
    return R.observe(sc, 0, img).proximity;
  };
  assert.equal(at(0), 0); // safe distance 6.5 px
  assert.equal(at(30), 0); // 51.5 px: still short of the 60 px gap plus the 3.2 px margin
  const fast = at(80); // 126.5 px
  assert.ok(fast > 0.05 && fast < 0.5, `${fast}`);
  // Lateral factor: columns axis hi = ceil((96 - 5.514) / 2) = 46, lo = 36; nearest lit column
  // centre 10.5 px right of the centre -> column 58, tent (1 - |-1 + 116 / 95|) * 48 = 37.39.
  // Row factor: nearest row centre 75.5 px ahead -> row 158, tent 158.338; lo = ceil(223 - 126.486) = 97.
  const expected = ((158 * 468) / 467 - 97) / (223 - 97) * ((1 - Math.abs(-1 + 116 / 95)) * 48 - 36) / (46 - 36);
  assert.ok(Math.abs(fast - expected) < 1e-9, `${fast} vs ${expected}`);
});

const EMPTY_MAP: RoadMap = { ...I80_MAP, markings: [], lowerEdge: [[0, 1e4], [1, 1e4]], topPx: -1e4 };

test('rotating the whole scene by 90 degrees leaves the image unchanged', () => {
  const R = new Rasteriser(EMPTY_MAP);
  const a = new Scene();
  a.add(0, { xPx: 500, yPx: 500, dirX: 1, dirY: 0, speedPxPerS: 50 }, 30, 12);
  a.add(1, { xPx: 560, yPx: 508, dirX: Math.cos(0.2), dirY: Math.sin(0.2), speedPxPerS: 50 }, 28, 11);
  a.add(2, { xPx: 420, yPx: 480, dirX: 1, dirY: 0, speedPxPerS: 50 }, 40, 14);
  // Rotate by +90 degrees about (0, 0): (x, y) -> (-y, x), headings likewise.
  const b = new Scene();
  for (let i = 0; i < a.n; i++) b.add(i, { xPx: -a.y[i]!, yPx: a.x[i]!, dirX: -a.dirY[i]!, dirY: a.dirX[i]!, speedPxPerS: 50 }, a.lengthPx[i]!, a.widthPx[i]!);
  const ia = new Uint8Array(IMAGE_H * IMAGE_W * 3);
  const ib = new Uint8Array(IMAGE_H * IMAGE_W * 3);
  const ca = R.observe(a, 0, ia);
  const cb = R.observe(b, 0, ib);
  let worst = 0;
  for (let p = 0; p < ia.length; p++) worst = Math.max(worst, Math.abs(ia[p]! - ib[p]!));
  assert.ok(worst <= 1, `difference ${worst}`);
  assert.ok(ia.some((v, p) => p % 3 === 1 && v > 0), 'other cars are visible');
  assert.ok(Math.abs(ca.proximity - cb.proximity) < 1e-6);
});

test('turning the ego by 90 degrees rotates the other cars in its image', () => {
  const R = new Rasteriser(EMPTY_MAP);
  const img = new Uint8Array(IMAGE_H * IMAGE_W * 3);
  // Box of the green pixels: rows and columns spanned.
  const box = () => {
    let r0 = IMAGE_H, r1 = -1, c0 = IMAGE_W, c1 = -1;
    for (let r = 0; r < IMAGE_H; r++) for (let c = 0; c < IMAGE_W; c++) if (px(img, r, c, 1) > 0) {
      r0 = Math.min(r0, r); r1 = Math.max(r1, r); c0 = Math.min(c0, c); c1 = Math.max(c1, c);
    }
    return { r0, r1, c0, c1 };
  };
  // Ego heading +x, centre (515, 500); a car ahead: rear 25 px in front of the centre.
  const a = new Scene();
  a.add(0, { xPx: 500, yPx: 500, dirX: 1, dirY: 0, speedPxPerS: 0 }, 30, 12);
  a.add(1, { xPx: 540, yPx: 500, dirX: 1, dirY: 0, speedPxPerS: 0 }, 40, 12);
  R.observe(a, 0, img);
  const ahead = box();
  assert.ok(ahead.r1 < IMAGE_H / 2 - 5, 'above the centre');
  assert.ok(ahead.c0 >= 9 && ahead.c1 <= 14, 'centred laterally');
  // Same world, ego turned to head +y (same centre): +x is now on its left.
  const b = new Scene();
  b.add(0, { xPx: 515, yPx: 485, dirX: 0, dirY: 1, speedPxPerS: 0 }, 30, 12);
  b.add(1, { xPx: 540, yPx: 500, dirX: 1, dirY: 0, speedPxPerS: 0 }, 40, 12);
  R.observe(b, 0, img);
  const left = box();
  assert.ok(left.c1 < IMAGE_W / 2 - 2, 'left of the centre');
  assert.ok(left.r0 <= IMAGE_H / 2 && left.r1 >= IMAGE_H / 2 - 2, 'level with the centre');
  // The long side (40 px = 10 output pixels) now runs across the image instead of along it.
  assert.ok(ahead.r1 - ahead.r0 > ahead.c1 - ahead.c0);
  assert.ok(left.c1 - left.c0 > left.r1 - left.r0);
});

test('off-road variant puts the area above the road in blue and the ego in the fourth channel', () => {
  const R = new Rasteriser(I80_MAP, 'offroad');
  const img = new Uint8Array(IMAGE_H * IMAGE_W * 4);
  // Ego in lane 0 (y = 48): the road edge at y = 36 is 12 px left, full-scale column 35.
  const c = R.observe(egoScene(0, 30, 12, 1000, 48), 0, img);
  assert.equal(img[(58 * IMAGE_W + 0) * 4 + 2], 255); // far left: off-road
  assert.equal(img[(58 * IMAGE_W + 20) * 4 + 2], 0); // right: road
  assert.equal(img[(58 * IMAGE_W + 11) * 4 + 3], 255); // ego
  assert.equal(img[(58 * IMAGE_W + 11) * 4 + 2], 0);
  // Off-road are the full-scale columns < 36, all outside the lane-cost window [36, 60): cost 0.
  assert.equal(c.offroad, 0);
  const c2 = R.observe(egoScene(0, 30, 12, 1000, 44), 0, img);
  // Road edge now 8 px left: columns < 40 are off-road, window weight at column 39: 1 - |-1 + 6 / 23|.
  assert.ok(Math.abs(c2.offroad - (1 - Math.abs(-1 + 6 / 23))) < 1e-9, `${c2.offroad}`);
});

test('triangle taps of a downscale by 4: stretched bilinear weights, each output normalised to 1; scatter and cumulative tables', () => {
  const t = triangleTaps(8, 2);
  assert.equal(t.nIn, 8);
  assert.equal(t.nOut, 2);
  // Output 0 (centre 2): 1 - |c + 0.5 - 2| / 4 for c < 6, sum 3.5; output 1 (centre 6) mirrored, from c = 2.
  const w0 = [0.625, 0.875, 0.875, 0.625, 0.375, 0.125, 0, 0].map((w) => w / 3.5);
  const w1 = [0, 0, 0.125, 0.375, 0.625, 0.875, 0.875, 0.625].map((w) => w / 3.5);
  const near = (got: ArrayLike<number>, want: number[], what: string) =>
    assert.ok(want.length === got.length && want.every((w, i) => Math.abs(got[i]! - w) < 1e-12), `${what}: ${Array.from(got)} vs ${want}`);
  near(t.weights, [...w0, ...w1], 'weights');
  // At the edges the weights that exist are renormalised: 5 inputs to 2 outputs (f = 2.5).
  const e = triangleTaps(5, 2);
  const raw0 = [0.7, 0.9, 0.5, 0.1, 0].map((v) => v / 2.2); // centre 1.25: 1 - |c + 0.5 - 1.25| / 2.5
  const raw1 = [0, 0.1, 0.5, 0.9, 0.7].map((v) => v / 2.2);
  near(e.weights, [...raw0, ...raw1], 'edge weights');
  const s = scatterTable(t);
  assert.equal(s.maxPer, 2);
  assert.deepEqual(Array.from(s.outIdx), [0, -1, 0, -1, 0, 1, 0, 1, 0, 1, 0, 1, 1, -1, 1, -1]);
  near(s.outW, [w0[0]!, 0, w0[1]!, 0, w0[2]!, w1[2]!, w0[3]!, w1[3]!, w0[4]!, w1[4]!, w0[5]!, w1[5]!, w1[6]!, 0, w1[7]!, 0], 'scatter weights');
  assert.throws(() => scatterTable(t, 1), /input 2 feeds more than 1 outputs/);
  const cum = cumulativeTable(t);
  const prefix = (w: number[]) => w.reduce((acc, v) => [...acc, acc.at(-1)! + v], [0]);
  near(cum, [...prefix(w0), ...prefix(w1)], 'cumulative');
  assert.ok(Math.abs(cum[8]! - 1) < 1e-12 && Math.abs(cum[17]! - 1) < 1e-12);
});

test('run layers: runs merge when they overlap or touch, stay sorted, clear, and refuse a 33rd disjoint run', () => {
  const L = new RunLayer(4, 40);
  const runs = () => {
    const out: number[][] = [];
    L.forEachRun((r, s, e) => out.push([r, s, e]));
    return out;
  };
  L.addRun(2, 10, 12);
  L.addRun(2, 20, 22); // right of every run: appended
  L.addRun(2, 0, 3); // left of every run: inserted first
  L.addRun(1, 5, 6);
  assert.deepEqual(runs(), [[2, 0, 3], [2, 10, 12], [2, 20, 22], [1, 5, 6]]);
  L.addRun(2, 12, 20); // touches both neighbours: one run
  assert.deepEqual(runs(), [[2, 0, 3], [2, 10, 22], [1, 5, 6]]);
  L.addRun(2, 4, 6); // between: sorted in
  L.addRun(2, 1, 2); // inside a run: nothing changes
  L.addRun(2, 2, 5); // overlaps [0, 3) and [4, 6): merged into [0, 6)
  assert.deepEqual(runs(), [[2, 0, 6], [2, 10, 22], [1, 5, 6]]);
  L.addRun(2, 23, 30);
  L.addRun(2, 22, 23); // closes the gap: [10, 30)
  assert.deepEqual(runs(), [[2, 0, 6], [2, 10, 30], [1, 5, 6]]);
  const bm = L.toBitmap();
  assert.equal(bm.length, 160);
  const lit = (r: number) => Array.from(bm.subarray(r * 40, r * 40 + 40)).map((v, c) => (v ? c : -1)).filter((c) => c >= 0);
  assert.deepEqual(lit(2), [0, 1, 2, 3, 4, 5, ...Array.from({ length: 20 }, (_, i) => 10 + i)]);
  assert.deepEqual(lit(1), [5]);
  assert.deepEqual(lit(0), []);
  assert.equal(L.nTouched, 2);
  L.clear();
  assert.equal(L.nTouched, 0);
  assert.deepEqual(runs(), []);
  assert.ok(L.toBitmap().every((v) => v === 0));
  L.addRun(2, 7, 8);
  assert.deepEqual(runs(), [[2, 7, 8]], 'a cleared row starts empty');
  // 32 disjoint runs fit in a row; a 33rd, appended or inserted, does not.
  const W = new RunLayer(1, 200);
  for (let k = 0; k < RUNS_PER_ROW; k++) W.addRun(0, 10 + 5 * k, 12 + 5 * k);
  assert.throws(() => W.addRun(0, 190, 191), /too many runs in row 0/);
  assert.throws(() => W.addRun(0, 0, 1), /too many runs in row 0/);
  W.addRun(0, 11, 13); // merging keeps the count
  assert.equal(W.counts[0], RUNS_PER_ROW);
});

test('run layers: a convex polygon lights the pixels whose centres it contains, clipped to the layer and the row range', () => {
  const rows = (L: RunLayer) => {
    const out: number[][] = [];
    L.forEachRun((r, s, e) => out.push([r, s, e]));
    return out.sort((a, b) => a[0]! - b[0]!);
  };
  // Rectangle x in [1.2, 4.7), y in [0.8, 3.6): rows 1..3 (centres 1.5..3.5), columns 1..4.
  const a = new RunLayer(6, 8);
  a.addConvex([1.2, 4.7, 4.7, 1.2], [0.8, 0.8, 3.6, 3.6], 4);
  assert.deepEqual(rows(a), [[1, 1, 5], [2, 1, 5], [3, 1, 5]]);
  // A triangle (0, 0), (6, 0), (0, 6): row r spans x < 6 - (r + 0.5), lit columns c + 0.5 < 5.5 - r.
  const t = new RunLayer(8, 8);
  t.addConvex([0, 6, 0], [0, 0, 6], 3);
  assert.deepEqual(rows(t), [[0, 0, 5], [1, 0, 4], [2, 0, 3], [3, 0, 2], [4, 0, 1]]);
  // Vertex order does not matter.
  const t2 = new RunLayer(8, 8);
  t2.addConvex([0, 0, 6], [6, 0, 0], 3);
  assert.deepEqual(rows(t2), rows(t));
  // Clipped: columns to [0, 8), rows to [rowMin, rowMax) and to the layer.
  const c = new RunLayer(5, 8);
  c.addConvex([-3, 11, 11, -3], [-2, -2, 9, 9], 4, 1, 3);
  assert.deepEqual(rows(c), [[1, 0, 8], [2, 0, 8]]);
  const full = new RunLayer(5, 8);
  full.addConvex([-3, 11, 11, -3], [-2, -2, 9, 9], 4);
  assert.deepEqual(rows(full), [0, 1, 2, 3, 4].map((r) => [r, 0, 8]));
  // Entirely left, right, above or below the layer, or thinner than a pixel centre: nothing.
  const none = new RunLayer(5, 8);
  none.addConvex([-4, 0, 0, -4], [0, 0, 4, 4], 4);
  none.addConvex([8, 12, 12, 8], [0, 0, 4, 4], 4);
  none.addConvex([1, 5, 5, 1], [-4, -4, 0.4, 0.4], 4);
  none.addConvex([1, 5, 5, 1], [4.6, 4.6, 9, 9], 4);
  none.addConvex([2.6, 3.4, 3.4, 2.6], [0, 0, 4, 4], 4);
  assert.deepEqual(rows(none), []);
  // A diamond: row r (centre y = r + 0.5) spans [4 - h, 4 + h) with h = min(y, 8 - y).
  const d = new RunLayer(8, 8);
  d.addConvex([4, 8, 4, 0], [0, 4, 8, 4], 4);
  assert.deepEqual(rows(d), [[0, 3, 4], [1, 2, 5], [2, 1, 6], [3, 0, 7], [4, 0, 7], [5, 1, 6], [6, 2, 5], [7, 3, 4]]);
});
