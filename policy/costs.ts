/**
 * Differentiable costs on predicted observations (docs/method.md section 4), for policy learning: the
 * simulator's proximity and lane masks (sim/costs.ts) redrawn at the observation's scale 0.25,
 * applied to [N, 117, 24, C] images in [0, 1] (row 0 at the front, column 0 on the left).
 *
 * Units: "obs px" are observation pixels, 4 simulator pixels (1 m = 6.486 px = 1.62 obs px).
 *
 * Proximity: mask = outer(rows, cols); along each axis the tent t(i) = (1 - |linspace(-1, 1, n)[i]|) * n / 2
 *   (distance in obs px from the image edge) is clamped to [lo, hi] and rescaled to [0, 1]:
 *     rows: hi = ceil((117 - max(L - alpha, 0)) / 2), lo = max(hi - safe, 0),
 *           safe = 1.5 s * speed + 1.62 obs px (speed in obs px/s, from the predicted state);
 *     cols: hi = ceil((24 - max(W - alpha, 0)) / 2),  lo = ceil(24 / 2 - W);
 *   alpha = 1.62 obs px (1 m). cost = max(green * mask). The speed is detached from the gradient,
 *   so the policy cannot lower the cost by shrinking the mask (slowing down).
 * Lane: rows where the row tent reaches ceil((117 - L) / 2) (the car's length), times the lateral
 *   weight (max(t, 9) - 9) / (12 - 9) of a car 3 obs px wide; cost = max(red * mask).
 * Off-road (4-channel images only): max(lane mask * off-road channel (index 2)).
 * L and W are the ego's length and width in obs px (car-size.ts measures them from the images).
 */
import * as tf from '@tensorflow/tfjs';
import type { NormStats } from '../data/dataset-types.js';
import { IMAGE_DOWNSCALE, IMAGE_H, IMAGE_PX_PER_M, IMAGE_W } from '../data/layout.js';
import { hostOps } from '../worldmodel/backend.js';

/** Observation pixels per simulator pixel. */
export const OBS_SCALE = 1 / IMAGE_DOWNSCALE;
/** 1 m in obs px: the proximity footprint shrink (alpha) and the safe-distance margin. */
export const ALPHA_OBS_PX = IMAGE_PX_PER_M;
export const SAFE_MARGIN_OBS_PX = IMAGE_PX_PER_M;
export const SAFE_TIME_S = 1.5;
/** Half-width of the car that sizes the lane mask (a lane is 24 px = 6 obs px wide). */
export const LANE_CAR_WIDTH_OBS_PX = 3;

/** Ego footprints in obs px, one per image row of a cost call. */
export interface CarSizes {
  lengthObsPx: Float32Array;
  widthObsPx: Float32Array;
}

/** (1 - |linspace(-1, 1, n)[i]|) * n / 2 for i < n. */
export function tent(n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (1 - Math.abs(-1 + (2 * i) / (n - 1))) * (n / 2);
  return out;
}

const ROW_TENT = tent(IMAGE_H);
const COL_TENT = tent(IMAGE_W);

/** Safe distance ahead and behind, obs px, for a speed in obs px/s. */
export function safeDistanceObsPx(speedObsPxPerS: number): number {
  return Math.abs(speedObsPxPerS) * SAFE_TIME_S + SAFE_MARGIN_OBS_PX;
}

export function proximityRowBounds(lengthObsPx: number, speedObsPxPerS: number): { lo: number; hi: number } {
  const hi = Math.ceil((IMAGE_H - Math.max(lengthObsPx - ALPHA_OBS_PX, 0)) / 2);
  return { lo: Math.max(hi - safeDistanceObsPx(speedObsPxPerS), 0), hi };
}

export function proximityColBounds(widthObsPx: number): { lo: number; hi: number } {
  return { lo: Math.ceil(IMAGE_W / 2 - widthObsPx), hi: Math.ceil((IMAGE_W - Math.max(widthObsPx - ALPHA_OBS_PX, 0)) / 2) };
}

function clampRescale(t: number, lo: number, hi: number): number {
  return (Math.min(Math.max(t, lo), hi) - lo) / (hi - lo);
}

/** The proximity mask's row profile (117 values) for one car (plain numbers: tests, pictures). */
export function proximityRowProfile(lengthObsPx: number, speedObsPxPerS: number): Float32Array {
  const { lo, hi } = proximityRowBounds(lengthObsPx, speedObsPxPerS);
  return ROW_TENT.map((t) => clampRescale(t, lo, hi));
}

/** The proximity mask's column profile (24 values). */
export function proximityColProfile(widthObsPx: number): Float32Array {
  const { lo, hi } = proximityColBounds(widthObsPx);
  return COL_TENT.map((t) => clampRescale(t, lo, hi));
}

/** The lane mask's row profile: 1 over the rows the car's length covers, else 0. */
export function laneRowProfile(lengthObsPx: number): Float32Array {
  const hi = Math.ceil((IMAGE_H - lengthObsPx) / 2);
  return ROW_TENT.map((t) => (Math.min(t, hi) === hi ? 1 : 0));
}

/** The lane mask's column profile: (max(t, 9) - 9) / (12 - 9). */
export function laneColProfile(): Float32Array {
  const lo = Math.ceil(IMAGE_W / 2 - LANE_CAR_WIDTH_OBS_PX);
  const hi = Math.ceil(IMAGE_W / 2);
  return COL_TENT.map((t) => (Math.max(t, lo) - lo) / (hi - lo));
}

const LANE_COLS = laneColProfile();

/** Lane masks [N, 117, 24] (constants: they depend only on the car lengths). */
export function laneMasks(cars: CarSizes): tf.Tensor3D {
  const n = cars.lengthObsPx.length;
  const out = new Float32Array(n * IMAGE_H * IMAGE_W);
  for (let k = 0; k < n; k++) {
    const rows = laneRowProfile(cars.lengthObsPx[k]!);
    for (let r = 0; r < IMAGE_H; r++) {
      if (rows[r] === 0) continue;
      out.set(LANE_COLS, (k * IMAGE_H + r) * IMAGE_W);
    }
  }
  return tf.tensor3d(out, [n, IMAGE_H, IMAGE_W]);
}

/** x, with no gradient flowing back through it. */
export const detach = tf.customGrad(((x: tf.Tensor) => ({ value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as unknown as Parameters<typeof tf.customGrad>[0]) as <T extends tf.Tensor>(x: T) => T;

/** Speed in obs px/s from standardised ego states [N, 4] (x, y, vx, vy), detached. */
export function speedObsPxPerS(states: tf.Tensor2D, stats: NormStats): tf.Tensor1D {
  const s = detach(states);
  const vx = tf.add(tf.mul(tf.slice(s, [0, 2], [-1, 1]), stats.stateStd[2]!), stats.stateMean[2]!);
  const vy = tf.add(tf.mul(tf.slice(s, [0, 3], [-1, 1]), stats.stateStd[3]!), stats.stateMean[3]!);
  return tf.reshape(tf.mul(tf.sqrt(tf.add(tf.square(vx), tf.square(vy))), OBS_SCALE), [-1]) as tf.Tensor1D;
}

/** Proximity masks [N, 117, 24] for speeds [N] in obs px/s (treated as constants). */
export function proximityMasks(cars: CarSizes, speed: tf.Tensor1D): tf.Tensor3D {
  const n = cars.lengthObsPx.length;
  const hi = new Float32Array(n);
  const cols = new Float32Array(n * IMAGE_W);
  for (let k = 0; k < n; k++) {
    hi[k] = proximityRowBounds(cars.lengthObsPx[k]!, 0).hi;
    cols.set(proximityColProfile(cars.widthObsPx[k]!), k * IMAGE_W);
  }
  // Every operand at full [n, 117] shape: tfjs's Maximum / Minimum gradients do not reduce broadcast axes.
  const full = (x: tf.Tensor) => tf.tile(x, [1, IMAGE_H]) as tf.Tensor2D;
  const maxX = full(tf.tensor2d(hi, [n, 1]));
  const safe = tf.add(tf.mul(tf.reshape(tf.abs(speed), [n, 1]), SAFE_TIME_S), SAFE_MARGIN_OBS_PX);
  const minX = tf.relu(tf.sub(maxX, full(safe)));
  const rowTent = tf.tile(tf.tensor2d(ROW_TENT, [1, IMAGE_H]), [n, 1]);
  const rows = detach(tf.div(tf.sub(tf.minimum(tf.maximum(rowTent, minX), maxX), minX), tf.sub(maxX, minX)));
  return tf.mul(tf.reshape(rows, [n, IMAGE_H, 1]), tf.reshape(tf.tensor2d(cols, [n, IMAGE_W]), [n, 1, IMAGE_W])) as tf.Tensor3D;
}

function channel(images: tf.Tensor4D, c: number): tf.Tensor3D {
  const [n, h, w] = images.shape;
  return tf.reshape(tf.slice(images, [0, 0, 0, c], [-1, -1, -1, 1]), [n, h, w]);
}

/**
 * max over each row of mask * values ([N, H, W] -> [N]); the gradient reaches `values` only (the
 * masks are detached: zero gradient). On host backends one pass with the gradient of tf.max written out (dy
 * at every position equal to the row's maximum, ties included, times the mask): tfjs's own
 * gradient compares the whole tensor with the broadcast maxima, which on wasm took half of the
 * uncertainty term's time (policy/README.md).
 */
export function maskedMax(mask: tf.Tensor3D, values: tf.Tensor3D): tf.Tensor1D {
  if (!hostOps()) return tf.max(tf.mul(mask, values), [1, 2]) as tf.Tensor1D;
  const op = tf.customGrad(((mk: tf.Tensor3D, v: tf.Tensor3D, save: tf.GradSaveFunc) => {
    const m = mk.dataSync() as Float32Array;
    const x = v.dataSync() as Float32Array;
    const [n, h, w] = v.shape;
    const plane = h * w;
    const max = new Float32Array(n);
    for (let r = 0; r < n; r++) {
      let best = -Infinity;
      for (let k = r * plane; k < (r + 1) * plane; k++) {
        const y = Math.fround(m[k]! * x[k]!);
        if (y > best) best = y;
      }
      max[r] = best;
    }
    save([v]);
    return {
      value: tf.tensor1d(max),
      gradFunc: (dy: tf.Tensor1D, saved: tf.Tensor[]) => {
        const vals = saved[0]!.dataSync() as Float32Array;
        const d = dy.dataSync();
        const g = new Float32Array(n * plane);
        for (let r = 0; r < n; r++) {
          for (let k = r * plane; k < (r + 1) * plane; k++) if (Math.fround(m[k]! * vals[k]!) === max[r]) g[k] = d[r]! * m[k]!;
        }
        return [tf.zerosLike(mk), tf.tensor3d(g, [n, h, w])];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (mk: tf.Tensor3D, v: tf.Tensor3D) => tf.Tensor1D;
  return op(mask, values);
}

export interface PredictionCosts {
  /** [N] each. */
  proximity: tf.Tensor1D;
  lane: tf.Tensor1D;
  /** Null for 3-channel images (no off-road channel). */
  offroad: tf.Tensor1D | null;
}

/**
 * Costs of predicted frames: images [N, 117, 24, C] in [0, 1], standardised states [N, 4]
 * (the speed that sizes the proximity mask), the ego sizes of each row.
 */
export function predictionCosts(images: tf.Tensor4D, states: tf.Tensor2D, cars: CarSizes, stats: NormStats): PredictionCosts {
  if (cars.lengthObsPx.length !== images.shape[0]) throw new Error(`costs: ${images.shape[0]} images but ${cars.lengthObsPx.length} car sizes`);
  const lane = laneMasks(cars);
  return {
    proximity: maskedMax(proximityMasks(cars, speedObsPxPerS(states, stats)), channel(images, 1)),
    lane: maskedMax(lane, channel(images, 0)),
    offroad: images.shape[3] >= 4 ? maskedMax(lane, channel(images, 2)) : null,
  };
}

/** The costs as [N, nCosts] (proximity, lane, then off-road where the images have it): the uncertainty's cost function. */
export function stackedCosts(images: tf.Tensor4D, states: tf.Tensor2D, cars: CarSizes, stats: NormStats): tf.Tensor2D {
  const c = predictionCosts(images, states, cars, stats);
  return tf.stack(c.offroad ? [c.proximity, c.lane, c.offroad] : [c.proximity, c.lane], 1) as tf.Tensor2D;
}

/** Car sizes repeated `k` times (rows of k copies, copy-major). */
export function tileCars(cars: CarSizes, k: number): CarSizes {
  const n = cars.lengthObsPx.length;
  const l = new Float32Array(n * k);
  const w = new Float32Array(n * k);
  for (let c = 0; c < k; c++) {
    l.set(cars.lengthObsPx, c * n);
    w.set(cars.widthObsPx, c * n);
  }
  return { lengthObsPx: l, widthObsPx: w };
}
