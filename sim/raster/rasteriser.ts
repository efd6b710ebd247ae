/**
 * The car-centred observation (docs/method.md section 3), fast path. For an ego car the full-scale crop
 * is 468 x 96 px (72.2 m x 14.8 m), centred on the car centre (rear + dir * length / 2) and
 * rotated so the heading points up (row 0 at the front, column 0 on the left). The observation
 * is that crop downscaled by 4 with an antialiasing triangle filter: 117 x 24 pixels, HWC uint8.
 *
 * Channels ('paper', 3): R lane markings (1 px wide at full scale, intensity x4 after the
 * resize, clipped), G other cars (filled rotated rectangles of their true size), B the ego.
 * Variant 'offroad' (4): R lanes, G cars, B off-road area, A the ego.
 *
 * Instead of rendering the 44,928 full-scale pixels and filtering them, every shape is
 * scan-converted into runs of lit pixels (sim/raster/runs.ts) and each run is filtered at once
 * with cumulative filter weights; this gives the same pixels as the render-then-resize path
 * (sim/raster/naive.ts) up to floating-point rounding. The costs (sim/costs.ts) are read off
 * the same full-resolution runs.
 */
import { maskAt, maskMaxOver, laneWindowRows, laneWeightMaxOver, proximityColAxis, proximityRowAxis, type Costs } from '../costs.js';
import type { RoadMap } from '../map.js';
import type { Scene } from '../scene.js';
import { CROP_H, CROP_W } from '../units.js';
import { IMAGE_H, IMAGE_W } from '../../data/layout.js';
import { cumulativeTable, scatterTable, triangleTaps } from './filter.js';
import { RunLayer, RUNS_PER_ROW } from './runs.js';

export type ImageVariant = 'paper' | 'offroad';

export function variantChannels(v: ImageVariant): 3 | 4 {
  return v === 'paper' ? 3 : 4;
}

/** Gain applied to the lane channel after the resize (thin lines would be faint otherwise). */
export const LANE_GAIN = 4;

/** Radius (px) of the circle around the ego centre that contains the crop, plus a margin. */
const CROP_RADIUS = Math.hypot(CROP_H / 2, CROP_W / 2) + 2;
const HUGE = 1e5;

/** Image coordinates of the ego frame: centre, heading and right-hand vector. */
export interface EgoFrame {
  cx: number;
  cy: number;
  dx: number;
  dy: number;
}

export function egoFrame(scene: Scene, ego: number): EgoFrame {
  const dx = scene.dirX[ego]!;
  const dy = scene.dirY[ego]!;
  const L = scene.lengthPx[ego]!;
  return { cx: scene.x[ego]! + (dx * L) / 2, cy: scene.y[ego]! + (dy * L) / 2, dx, dy };
}

/** The four lit layers of one observation at full scale. */
export interface Layers {
  lanes: RunLayer;
  cars: RunLayer;
  ego: RunLayer;
  offroad: RunLayer;
}

export class Rasteriser {
  readonly channels: 3 | 4;
  readonly layers: Layers;
  private readonly xs = new Float64Array(4);
  private readonly ys = new Float64Array(4);
  private readonly rowOut: Int32Array;
  private readonly rowW: Float64Array;
  private readonly colCum: Float64Array;
  private readonly acc = new Float64Array(IMAGE_H * IMAGE_W);
  // Lower off-road area as convex pieces below each edge segment (world coordinates).
  private readonly lowerPieces: Array<[number, number, number, number]>;

  constructor(
    readonly map: RoadMap,
    readonly variant: ImageVariant = 'paper',
  ) {
    this.channels = variantChannels(variant);
    this.layers = {
      lanes: new RunLayer(CROP_H, CROP_W),
      cars: new RunLayer(CROP_H, CROP_W),
      ego: new RunLayer(CROP_H, CROP_W),
      offroad: new RunLayer(CROP_H, CROP_W),
    };
    const rows = scatterTable(triangleTaps(CROP_H, IMAGE_H), 2);
    this.rowOut = rows.outIdx;
    this.rowW = rows.outW;
    this.colCum = cumulativeTable(triangleTaps(CROP_W, IMAGE_W));
    const e = map.lowerEdge;
    const pts: Array<readonly [number, number]> = [[-HUGE, e[0]![1]], ...e, [HUGE, e[e.length - 1]![1]]];
    this.lowerPieces = [];
    for (let i = 0; i + 1 < pts.length; i++) this.lowerPieces.push([pts[i]![0], pts[i]![1], pts[i + 1]![0], pts[i + 1]![1]]);
  }

  /** Adds a world-space convex quad (corner arrays of 4) to a layer, in the ego's image frame. */
  private quad(layer: RunLayer, f: EgoFrame, wx: ArrayLike<number>, wy: ArrayLike<number>, rowMin = 0, rowMax = CROP_H): void {
    const { cx, cy, dx, dy } = f;
    for (let k = 0; k < 4; k++) {
      const qx = wx[k]! - cx;
      const qy = wy[k]! - cy;
      // right-hand vector is (-dy, dx)
      this.xs[k] = CROP_W / 2 + (-qx * dy + qy * dx);
      this.ys[k] = CROP_H / 2 - (qx * dx + qy * dy);
    }
    layer.addConvex(this.xs, this.ys, 4, rowMin, rowMax);
  }

  private readonly wx = new Float64Array(4);
  private readonly wy = new Float64Array(4);

  /** Adds the rectangle of a car (rear centre x, y; heading; size) to a layer. */
  private car(layer: RunLayer, f: EgoFrame, x: number, y: number, dx: number, dy: number, L: number, W: number): void {
    const hx = (-dy * W) / 2; // half width along the right-hand vector
    const hy = (dx * W) / 2;
    const { wx, wy } = this;
    wx[0] = x - hx;
    wy[0] = y - hy;
    wx[1] = x + hx;
    wy[1] = y + hy;
    wx[2] = x + hx + dx * L;
    wy[2] = y + hy + dy * L;
    wx[3] = x - hx + dx * L;
    wy[3] = y - hy + dy * L;
    this.quad(layer, f, wx, wy);
  }

  /** Scan-converts the lanes, the other cars, the ego and (where needed) the off-road area of scene car `ego`. */
  drawLayers(scene: Scene, ego: number): EgoFrame {
    const f = egoFrame(scene, ego);
    const { lanes, cars, ego: egoLayer, offroad } = this.layers;
    lanes.clear();
    cars.clear();
    egoLayer.clear();
    offroad.clear();
    const { wx, wy } = this;

    // Lane markings: 1 px wide segments.
    for (const [x0, y0, x1, y1] of this.map.markings) {
      const len = Math.hypot(x1 - x0, y1 - y0);
      const tx = (x1 - x0) / len;
      const ty = (y1 - y0) / len;
      // Distance from the crop centre to the segment.
      const t = Math.max(0, Math.min(len, (f.cx - x0) * tx + (f.cy - y0) * ty));
      if (Math.hypot(x0 + tx * t - f.cx, y0 + ty * t - f.cy) > CROP_RADIUS) continue;
      const nx = -ty * 0.5;
      const ny = tx * 0.5;
      wx[0] = x0 + nx;
      wy[0] = y0 + ny;
      wx[1] = x1 + nx;
      wy[1] = y1 + ny;
      wx[2] = x1 - nx;
      wy[2] = y1 - ny;
      wx[3] = x0 - nx;
      wy[3] = y0 - ny;
      this.quad(lanes, f, wx, wy);
    }

    // Other cars.
    for (let j = 0; j < scene.n; j++) {
      if (j === ego) continue;
      const L = scene.lengthPx[j]!;
      if (Math.abs(scene.x[j]! - f.cx) > CROP_RADIUS + L || Math.abs(scene.y[j]! - f.cy) > CROP_RADIUS + L) continue;
      this.car(cars, f, scene.x[j]!, scene.y[j]!, scene.dirX[j]!, scene.dirY[j]!, L, scene.widthPx[j]!);
    }

    // The ego.
    this.car(egoLayer, f, scene.x[ego]!, scene.y[ego]!, f.dx, f.dy, scene.lengthPx[ego]!, scene.widthPx[ego]!);

    // Off-road: the whole crop for the 4-channel image, else only the lane-cost window.
    let rMin = 0;
    let rMax = CROP_H;
    if (this.channels === 3) {
      const w = laneWindowRows(scene.lengthPx[ego]!);
      rMin = Math.max(0, w.r0);
      rMax = Math.min(CROP_H, w.r0 + w.count);
    }
    const top = this.map.topPx;
    if (f.cy - CROP_RADIUS < top) {
      wx[0] = -HUGE; wy[0] = -HUGE;
      wx[1] = HUGE; wy[1] = -HUGE;
      wx[2] = HUGE; wy[2] = top;
      wx[3] = -HUGE; wy[3] = top;
      this.quad(offroad, f, wx, wy, rMin, rMax);
    }
    for (const [x0, y0, x1, y1] of this.lowerPieces) {
      if (x1 < f.cx - CROP_RADIUS || x0 > f.cx + CROP_RADIUS || Math.min(y0, y1) > f.cy + CROP_RADIUS) continue;
      wx[0] = x0; wy[0] = y0;
      wx[1] = x1; wy[1] = y1;
      wx[2] = x1; wy[2] = HUGE;
      wx[3] = x0; wy[3] = HUGE;
      this.quad(offroad, f, wx, wy, rMin, rMax);
    }
    // Painted off-road areas (the I-80 ramp gore) whose bounding box meets the crop.
    for (const q of this.map.offRoadAreas) {
      let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
      for (let k = 0; k < 4; k++) {
        wx[k] = q[k]![0];
        wy[k] = q[k]![1];
        x0 = Math.min(x0, wx[k]!);
        x1 = Math.max(x1, wx[k]!);
        y0 = Math.min(y0, wy[k]!);
        y1 = Math.max(y1, wy[k]!);
      }
      if (x1 < f.cx - CROP_RADIUS || x0 > f.cx + CROP_RADIUS || y1 < f.cy - CROP_RADIUS || y0 > f.cy + CROP_RADIUS) continue;
      this.quad(offroad, f, wx, wy, rMin, rMax);
    }
    return f;
  }

  /** Costs of scene car `ego` from the layers drawn by drawLayers. */
  layerCosts(scene: Scene, ego: number): Costs {
    const L = scene.lengthPx[ego]!;
    const rowAx = proximityRowAxis(L, scene.speed[ego]!);
    const colAx = proximityColAxis(scene.widthPx[ego]!);
    const w = laneWindowRows(L);
    let proximity = 0;
    {
      const { starts, ends, counts, touched, nTouched } = this.layers.cars;
      for (let t = 0; t < nTouched; t++) {
        const r = touched[t]!;
        const mr = maskAt(rowAx, r);
        if (mr <= proximity) continue;
        for (let k = 0; k < counts[r]!; k++) {
          const v = mr * maskMaxOver(colAx, starts[r * RUNS_PER_ROW + k]!, ends[r * RUNS_PER_ROW + k]!);
          if (v > proximity) proximity = v;
        }
      }
    }
    const windowMax = (layer: RunLayer): number => {
      const { starts, ends, counts } = layer;
      let m = 0;
      const r1 = Math.min(CROP_H, w.r0 + w.count);
      for (let r = Math.max(0, w.r0); r < r1; r++) {
        for (let k = 0; k < counts[r]!; k++) {
          const v = laneWeightMaxOver(starts[r * RUNS_PER_ROW + k]!, ends[r * RUNS_PER_ROW + k]!);
          if (v > m) m = v;
        }
      }
      return m;
    };
    return { proximity, lane: windowMax(this.layers.lanes), offroad: windowMax(this.layers.offroad) };
  }

  /** Filters a layer into channel `ch` of the HWC image at out[offset ..]. */
  private flush(layer: RunLayer, gain: number, out: Uint8Array, offset: number, ch: number): void {
    const acc = this.acc;
    acc.fill(0);
    const { rowOut, rowW, colCum } = this;
    const stride = CROP_W + 1;
    const { starts, ends, counts, touched, nTouched } = layer;
    let iMin = IMAGE_H;
    let iMax = -1;
    for (let t = 0; t < nTouched; t++) {
      const r = touched[t]!;
      const i0 = rowOut[r * 2]!;
      const i1 = rowOut[r * 2 + 1]!;
      const w0 = rowW[r * 2]!;
      const w1 = rowW[r * 2 + 1]!;
      if (i0 < iMin) iMin = i0;
      if (i1 > iMax) iMax = i1;
      if (i0 > iMax) iMax = i0;
      const b0 = i0 * IMAGE_W;
      const b1 = i1 * IMAGE_W;
      const n = counts[r]!;
      const rb = r * RUNS_PER_ROW;
      for (let k = 0; k < n; k++) {
        const s = starts[rb + k]!;
        const e = ends[rb + k]!;
        let jLo = ((s - 6) >> 2) + 1;
        let jHi = (e + 1) >> 2;
        if (jLo < 0) jLo = 0;
        if (jHi > IMAGE_W - 1) jHi = IMAGE_W - 1;
        if (i1 >= 0) {
          for (let j = jLo, c = jLo * stride; j <= jHi; j++, c += stride) {
            const v = colCum[c + e]! - colCum[c + s]!;
            acc[b0 + j]! += w0 * v;
            acc[b1 + j]! += w1 * v;
          }
        } else {
          for (let j = jLo, c = jLo * stride; j <= jHi; j++, c += stride) acc[b0 + j]! += w0 * (colCum[c + e]! - colCum[c + s]!);
        }
      }
    }
    const C = this.channels;
    const scale = 255 * gain;
    // Rows outside [iMin, iMax] are zero; write them without rounding work.
    for (let i = 0; i < IMAGE_H; i++) {
      const base = i * IMAGE_W;
      if (i < iMin || i > iMax) {
        for (let j = 0; j < IMAGE_W; j++) out[offset + (base + j) * C + ch] = 0;
        continue;
      }
      for (let j = 0; j < IMAGE_W; j++) {
        const v = (acc[base + j]! * scale + 0.5) | 0;
        out[offset + (base + j) * C + ch] = v > 255 ? 255 : v;
      }
    }
  }

  /**
   * Renders the observation of scene car `ego` into out[offset .. offset + 117 * 24 * C) (HWC) and
   * returns its costs.
   */
  observe(scene: Scene, ego: number, out: Uint8Array, offset = 0): Costs {
    this.drawLayers(scene, ego);
    const costs = this.layerCosts(scene, ego);
    const { lanes, cars, ego: egoLayer, offroad } = this.layers;
    this.flush(lanes, LANE_GAIN, out, offset, 0);
    this.flush(cars, 1, out, offset, 1);
    if (this.channels === 3) {
      this.flush(egoLayer, 1, out, offset, 2);
    } else {
      this.flush(offroad, 1, out, offset, 2);
      this.flush(egoLayer, 1, out, offset, 3);
    }
    return costs;
  }
}
