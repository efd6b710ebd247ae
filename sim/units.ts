/**
 * The simulator's own constants (docs/method.md sections 1-4): look-ahead, crop, action clipping,
 * cost and collision thresholds, context frames. The shared layout (time step, scale, image size,
 * state and action dimensions, frames of reference) is data/layout.ts.
 */
import { IMAGE_DOWNSCALE, IMAGE_H, IMAGE_W, LANE_W_PX, SCALE_PX_PER_M } from '../data/layout.js';

/** Forward rolling-mean window (frames) applied to logged positions. */
export const SMOOTHING_WINDOW = 15;

/** How far ahead a car looks: 130 km/h for one second, in px (234.2 px = 36.1 m). */
export const LOOK_AHEAD_PX = ((130 * 1000) / 3600) * SCALE_PX_PER_M;
/** Half the lateral extent of the observation: two lane widths. */
export const LOOK_SIDEWAYS_PX = 2 * LANE_W_PX;

/** The full-scale crop (468 x 96 px) that is downscaled to the observation image. */
export const CROP_H = IMAGE_H * IMAGE_DOWNSCALE;
export const CROP_W = IMAGE_W * IMAGE_DOWNSCALE;

/** Action clipping (docs/method.md section 2): |a| <= 40 px/s^2, |b| <= 0.01 * min((25 / length_px)^2, 1). */
export const MAX_ACCEL_PX_PER_S2 = 40;
export const MAX_STEER_BASE = 0.01;

/** Proximity cost: safe distance = 1.5 s * speed + 1 m; footprint shrunk by alpha = 1 m. */
export const SAFE_TIME_S = 1.5;
export const SAFE_MARGIN_PX = 1 * SCALE_PX_PER_M;
export const PROXIMITY_ALPHA_PX = 1 * SCALE_PX_PER_M;
/** Proximity above this is a collision. */
export const COLLISION_THRESHOLD = 0.99;

/** Number of context frames a policy sees (docs/method.md section 7). */
export const CONTEXT_FRAMES = 20;

/** Metres from pixels. */
export function pxToM(px: number): number {
  return px / SCALE_PX_PER_M;
}
