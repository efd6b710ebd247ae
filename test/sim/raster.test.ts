import { test } from 'node:test';
import assert from 'node:assert/strict';
import { I80_MAP, type RoadMap } from '../../sim/map.js';
import { Rasteriser } from '../../sim/raster/rasteriser.js';
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
