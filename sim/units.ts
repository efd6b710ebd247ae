/**
 * Simulator units and constants (docs/method.md sections 1-3). The simulator works in screen pixels:
 * one lane width (3.7 m) is 24 px, so SCALE = 24 / 3.7 = 6.486 px/m. Time steps are 0.1 s
 * (one NGSIM frame). x grows along the road (direction of travel), y grows to the right
 * (down on the screen); lane 0 is the leftmost lane.
 */

export const LANE_W_PX = 24;
export const LANE_W_M = 3.7;
/** Pixels per metre. */
export const SCALE_PX_PER_M = LANE_W_PX / LANE_W_M;
export const FOOT_M = 0.3048;
/** Simulation step, seconds (one NGSIM frame). */
export const DT_S = 0.1;
/** Forward rolling-mean window (frames) applied to logged positions. */
export const SMOOTHING_WINDOW = 15;

/** How far ahead a car looks: 130 km/h for one second, in px (234.2 px = 36.1 m). */
export const LOOK_AHEAD_PX = ((130 * 1000) / 3600) * SCALE_PX_PER_M;
/** Half the lateral extent of the observation: two lane widths. */
export const LOOK_SIDEWAYS_PX = 2 * LANE_W_PX;

/** Observation image: 117 rows (front at row 0) x 24 columns (left at column 0). */
export const OBS_H = 117;
export const OBS_W = 24;
/** Downscale factor from the full-scale crop (468 x 96 px) to the observation. */
export const OBS_DOWNSCALE = 4;
export const CROP_H = OBS_H * OBS_DOWNSCALE;
export const CROP_W = OBS_W * OBS_DOWNSCALE;

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
