/**
 * Cost masks at full resolution (docs/method.md section 4), on the car-centred crop of CROP_H x CROP_W
 * = 468 x 96 px (row 0 at the front, column 0 on the left, the ego's centre at the crop centre).
 * These follow the reference simulator's discrete definitions:
 *
 * Proximity: a separable mask, rows (longitudinal) x columns (lateral). Along each axis a tent
 *   t(i) = (1 - |linspace(-1, 1, N)[i]|) * N / 2 (distance in px from the crop's nearer end) is
 *   clamped to [lo, hi] and rescaled to [0, 1], with
 *     rows:    hi = ceil((468 - max(L - alpha, 0)) / 2), lo = max(ceil(hi - safe), 0)
 *     columns: hi = ceil((96 - max(W - alpha, 0)) / 2),  lo = ceil(96 / 2 - W)
 *   where alpha = 1 m, safe = 1.5 s * speed + 1 m. So the mask is 1 over the ego footprint
 *   shrunk by alpha and falls linearly to 0 at the safe distance ahead / behind and at one car
 *   width sideways. proximity = max(green * mask) / 255 over other cars; > 0.99 is a collision.
 *
 * Lane: over the window of floor(L) rows from ceil((468 - L) / 2) and the 24 central columns,
 *   the lateral triangle 1 - |linspace(-1, 1, 24)| times the red channel, max / 255.
 * Off-road: the same window and weights over the off-road area.
 */
import { CROP_H, CROP_W, PROXIMITY_ALPHA_PX, SAFE_MARGIN_PX, SAFE_TIME_S } from './units.js';
import { LANE_W_PX } from '../data/layout.js';

export interface Costs {
  proximity: number;
  lane: number;
  offroad: number;
}

export const COST_NAMES = ['proximity', 'lane', 'offroad'] as const;

/** Safe distance in px for a car at this speed: 1.5 s * speed + 1 m. */
export function safeDistancePx(speedPxPerS: number): number {
  return Math.abs(speedPxPerS) * SAFE_TIME_S + SAFE_MARGIN_PX;
}

/** Parameters of one axis of the proximity mask. */
export interface MaskAxis {
  n: number;
  lo: number;
  hi: number;
}

/** Longitudinal (row) axis of the proximity mask for an ego of this length and speed. */
export function proximityRowAxis(lengthPx: number, speedPxPerS: number): MaskAxis {
  const hi = Math.ceil((CROP_H - Math.max(lengthPx - PROXIMITY_ALPHA_PX, 0)) / 2);
  const lo = Math.max(Math.ceil(hi - safeDistancePx(speedPxPerS)), 0);
  return { n: CROP_H, lo, hi };
}

/** Lateral (column) axis of the proximity mask for an ego of this width. */
export function proximityColAxis(widthPx: number): MaskAxis {
  const hi = Math.ceil((CROP_W - Math.max(widthPx - PROXIMITY_ALPHA_PX, 0)) / 2);
  const lo = Math.ceil(CROP_W / 2 - widthPx);
  return { n: CROP_W, lo, hi };
}

/** Mask value at index i of an axis. */
export function maskAt(ax: MaskAxis, i: number): number {
  const lin = -1 + (2 * i) / (ax.n - 1);
  let t = (1 - Math.abs(lin)) * (ax.n / 2);
  if (t > ax.hi) t = ax.hi;
  if (t < ax.lo) t = ax.lo;
  return (t - ax.lo) / (ax.hi - ax.lo);
}

/**
 * Largest mask value over indices [s, e) of an axis: the mask is symmetric and grows towards the
 * centre, so it is reached at the index nearest the centre.
 */
export function maskMaxOver(ax: MaskAxis, s: number, e: number): number {
  const c = (ax.n - 1) / 2;
  const i = e - 1 < c ? e - 1 : s > c ? s : Math.floor(c);
  return maskAt(ax, i);
}

/** Rows [r0, r0 + count) of the lane-cost window. */
export function laneWindowRows(lengthPx: number): { r0: number; count: number } {
  return { r0: Math.ceil((CROP_H - lengthPx) / 2), count: Math.floor(lengthPx) };
}

/** First column of the lane-cost window (LANE_W_PX columns wide). */
export const LANE_WINDOW_C0 = (CROP_W - LANE_W_PX) / 2;

/** Lane weight of column c of the crop (0 outside the window). */
export function laneWeight(c: number): number {
  const k = c - LANE_WINDOW_C0;
  if (k < 0 || k >= LANE_W_PX) return 0;
  return 1 - Math.abs(-1 + (2 * k) / (LANE_W_PX - 1));
}

/** Largest lane weight over columns [s, e). */
export function laneWeightMaxOver(s: number, e: number): number {
  const lo = Math.max(s, LANE_WINDOW_C0);
  const hi = Math.min(e, LANE_WINDOW_C0 + LANE_W_PX);
  if (lo >= hi) return 0;
  const c = LANE_WINDOW_C0 + (LANE_W_PX - 1) / 2;
  const i = hi - 1 < c ? hi - 1 : lo > c ? lo : Math.floor(c);
  return laneWeight(i);
}
