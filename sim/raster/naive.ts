/**
 * The naive observation path, kept as the reference for the fast rasteriser and as the
 * benchmark baseline: render the 468 x 96 crop at full scale pixel by pixel (each pixel centre
 * mapped to the road and tested against every shape), then resize it by 4 with the triangle
 * filter (two separable passes), then apply the lane gain. Costs are computed on the
 * full-scale image with the masks of sim/costs.ts, pixel by pixel.
 */
import { laneWeight, laneWindowRows, maskAt, proximityColAxis, proximityRowAxis, type Costs } from '../costs.js';
import { isOffRoadPixel, type RoadMap } from '../map.js';
import type { Scene } from '../scene.js';
import { CROP_H, CROP_W } from '../units.js';
import { IMAGE_H, IMAGE_W } from '../../data/layout.js';
import { triangleTaps } from './filter.js';
import { egoFrame, LANE_GAIN, variantChannels, type ImageVariant } from './rasteriser.js';

/** Full-scale layers as 0/1 bitmaps, CROP_H x CROP_W each. */
export interface FullScale {
  lanes: Uint8Array;
  cars: Uint8Array;
  ego: Uint8Array;
  offroad: Uint8Array;
}

export function renderFullScale(map: RoadMap, scene: Scene, ego: number): FullScale {
  const f = egoFrame(scene, ego);
  const out: FullScale = {
    lanes: new Uint8Array(CROP_H * CROP_W),
    cars: new Uint8Array(CROP_H * CROP_W),
    ego: new Uint8Array(CROP_H * CROP_W),
    offroad: new Uint8Array(CROP_H * CROP_W),
  };
  const rx = -f.dy;
  const ry = f.dx;
  const inCar = (j: number, qx: number, qy: number) => {
    const px = qx - scene.x[j]!;
    const py = qy - scene.y[j]!;
    const u = px * scene.dirX[j]! + py * scene.dirY[j]!;
    const v = -px * scene.dirY[j]! + py * scene.dirX[j]!;
    const hw = scene.widthPx[j]! / 2;
    return u >= 0 && u < scene.lengthPx[j]! && v >= -hw && v < hw;
  };
  for (let r = 0; r < CROP_H; r++) {
    const u = CROP_H / 2 - (r + 0.5);
    for (let c = 0; c < CROP_W; c++) {
      const v = c + 0.5 - CROP_W / 2;
      const qx = f.cx + u * f.dx + v * rx;
      const qy = f.cy + u * f.dy + v * ry;
      const p = r * CROP_W + c;
      for (const [x0, y0, x1, y1] of map.markings) {
        const len = Math.hypot(x1 - x0, y1 - y0);
        const tx = (x1 - x0) / len;
        const ty = (y1 - y0) / len;
        const along = (qx - x0) * tx + (qy - y0) * ty;
        const across = -(qx - x0) * ty + (qy - y0) * tx;
        if (along >= 0 && along < len && across >= -0.5 && across < 0.5) {
          out.lanes[p] = 1;
          break;
        }
      }
      for (let j = 0; j < scene.n; j++) {
        if (j !== ego && inCar(j, qx, qy)) {
          out.cars[p] = 1;
          break;
        }
      }
      if (inCar(ego, qx, qy)) out.ego[p] = 1;
      if (isOffRoadPixel(map, qx, qy)) out.offroad[p] = 1;
    }
  }
  return out;
}

/** Resizes a CROP_H x CROP_W layer (values 0/1) to IMAGE_H x IMAGE_W with the triangle filter. */
export function downscaleLayer(layer: Uint8Array): Float64Array {
  const th = triangleTaps(CROP_H, IMAGE_H);
  const tw = triangleTaps(CROP_W, IMAGE_W);
  const tmp = new Float64Array(CROP_H * IMAGE_W);
  for (let r = 0; r < CROP_H; r++) {
    for (let j = 0; j < IMAGE_W; j++) {
      let s = 0;
      for (let c = 0; c < CROP_W; c++) s += tw.weights[j * CROP_W + c]! * layer[r * CROP_W + c]!;
      tmp[r * IMAGE_W + j] = s;
    }
  }
  const out = new Float64Array(IMAGE_H * IMAGE_W);
  for (let i = 0; i < IMAGE_H; i++) {
    for (let j = 0; j < IMAGE_W; j++) {
      let s = 0;
      for (let r = 0; r < CROP_H; r++) s += th.weights[i * CROP_H + r]! * tmp[r * IMAGE_W + j]!;
      out[i * IMAGE_W + j] = s;
    }
  }
  return out;
}

/** Costs from full-scale layers, pixel by pixel. */
export function fullScaleCosts(full: FullScale, lengthPx: number, widthPx: number, speedPxPerS: number): Costs {
  const rowAx = proximityRowAxis(lengthPx, speedPxPerS);
  const colAx = proximityColAxis(widthPx);
  let proximity = 0;
  for (let r = 0; r < CROP_H; r++) {
    for (let c = 0; c < CROP_W; c++) {
      if (full.cars[r * CROP_W + c]) proximity = Math.max(proximity, maskAt(rowAx, r) * maskAt(colAx, c));
    }
  }
  const w = laneWindowRows(lengthPx);
  let lane = 0;
  let offroad = 0;
  for (let r = Math.max(0, w.r0); r < Math.min(CROP_H, w.r0 + w.count); r++) {
    for (let c = 0; c < CROP_W; c++) {
      const lw = laneWeight(c);
      if (full.lanes[r * CROP_W + c]) lane = Math.max(lane, lw);
      if (full.offroad[r * CROP_W + c]) offroad = Math.max(offroad, lw);
    }
  }
  return { proximity, lane, offroad };
}

/** The whole naive path: full-scale render, resize, gain; image HWC uint8 and costs. */
export function naiveObserve(map: RoadMap, scene: Scene, ego: number, variant: ImageVariant = 'paper'): { image: Uint8Array; costs: Costs } {
  const full = renderFullScale(map, scene, ego);
  const C = variantChannels(variant);
  const layers = C === 3 ? [full.lanes, full.cars, full.ego] : [full.lanes, full.cars, full.offroad, full.ego];
  const image = new Uint8Array(IMAGE_H * IMAGE_W * C);
  layers.forEach((layer, ch) => {
    const small = downscaleLayer(layer);
    const gain = ch === 0 ? LANE_GAIN : 1;
    for (let p = 0; p < IMAGE_H * IMAGE_W; p++) image[p * C + ch] = Math.min(255, Math.round(small[p]! * 255 * gain));
  });
  const costs = fullScaleCosts(full, scene.lengthPx[ego]!, scene.widthPx[ego]!, scene.speed[ego]!);
  return { image, costs };
}
