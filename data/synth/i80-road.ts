/**
 * Geometry of the synthetic I-80 study area in NGSIM local coordinates (metres): Local_Y is
 * longitudinal from the entry edge, Local_X lateral from the left road edge, both at a
 * vehicle's front centre. Six mainline lanes of 12 ft (lane 1 leftmost, the HOV lane), and the
 * Powell St on-ramp (lane 7) on the right, which joins lane 6 inside the area.
 *
 * The ramp follows the simulator's I-80 drawing (docs/method.md section 1, in px at 24 px per 3.7 m with
 * x = Local_Y * SCALE - 470): its lower edge is y_px = 233 - 0.035 x_px, its upper line runs
 * from y_px = 209 at x = 0 to the end of the solid line at x = 18 lane widths, then a merge line
 * reaches the lane-6 edge at x = 31 lane widths. In metres that is a lower edge at
 * Local_X = 32.91 - 0.035 Local_Y, merging allowed from Local_Y = 139.1 m (x = 432 px), and the
 * auxiliary lane narrowing to nothing near Local_Y = 300 m.
 */
import { FOOT_M, LANE_W_PX, MAP_X_OFFSET_PX, ROAD_TOP_PX, SCALE_PX_PER_M } from '../layout.js';

export const LANE_WIDTH_M = 12 * FOOT_M;
export const MAINLINE_LANES = 6;
export const RAMP_LANE = 7;
export const HOV_LANE = 1;
/** Study area length: 1,650 ft. */
export const STUDY_LENGTH_M = 1650 * FOOT_M;
/** Right edge of lane 6 (Local_X), m. */
export const MAINLINE_RIGHT_EDGE_M = MAINLINE_LANES * LANE_WIDTH_M;

/** The simulator's I-80 frame (data/layout.ts), used to place the ramp. */
const X_OFFSET_PX = MAP_X_OFFSET_PX.i80;
const pxToLocalY = (xPx: number) => (xPx + X_OFFSET_PX) / SCALE_PX_PER_M;
const pxToLocalX = (yPx: number) => (yPx - ROAD_TOP_PX) / SCALE_PX_PER_M;

/** Local_Y where the solid line between ramp and lane 6 ends (merging allowed after it). */
export const RAMP_MERGE_START_M = pxToLocalY(18 * LANE_W_PX);
/** Local_Y where the merge line meets the lane-6 edge. */
export const RAMP_JOIN_M = pxToLocalY(31 * LANE_W_PX);

/** Lower (right) edge of the ramp, Local_X in m at longitudinal position `yM`. */
export function rampLowerEdgeM(yM: number): number {
  const xPx = yM * SCALE_PX_PER_M - X_OFFSET_PX;
  return Math.max(MAINLINE_RIGHT_EDGE_M, pxToLocalX(233 - 0.035 * xPx));
}

/** Upper (left) boundary of the ramp lane, Local_X in m. */
export function rampUpperEdgeM(yM: number): number {
  const xPx = yM * SCALE_PX_PER_M - X_OFFSET_PX;
  if (yM < RAMP_MERGE_START_M) return pxToLocalX(209 - 0.035 * xPx);
  if (yM < RAMP_JOIN_M) {
    const u = (xPx - 18 * LANE_W_PX) / (13 * LANE_W_PX);
    return Math.max(MAINLINE_RIGHT_EDGE_M, pxToLocalX(180 + 13 * (1 - u)));
  }
  return MAINLINE_RIGHT_EDGE_M;
}

/**
 * Lateral position of a ramp vehicle of width `widthM` whose front is at `yM`: the middle of the
 * ramp lane, kept 0.25 m inside the lower edge and 0.15 m right of lane 6 as the lane narrows.
 */
export function rampCentreM(yM: number, widthM: number): number {
  const lower = rampLowerEdgeM(yM);
  const mid = (rampUpperEdgeM(yM) + lower) / 2;
  return Math.max(MAINLINE_RIGHT_EDGE_M + widthM / 2 + 0.15, Math.min(mid, lower - widthM / 2 - 0.25));
}

/** Local_Y where a ramp vehicle of width `widthM` no longer fits beside lane 6 (it must have merged). */
export function rampEndM(widthM: number): number {
  // Lower edge - right edge of lane 6 = widthM + 0.4 m, solved on the lower edge's line.
  const needX = MAINLINE_RIGHT_EDGE_M + widthM + 0.4;
  const xPx = (233 - (needX * SCALE_PX_PER_M + ROAD_TOP_PX)) / 0.035;
  return pxToLocalY(xPx);
}

/** Centre of mainline lane `lane` (1..6), Local_X in m. */
export function laneCentreM(lane: number): number {
  return (lane - 0.5) * LANE_WIDTH_M;
}

/** The NGSIM Lane_ID of a lateral position: 1..6 by 12-ft bands, 7 right of lane 6. */
export function laneOfLocalX(xM: number): number {
  if (xM >= MAINLINE_RIGHT_EDGE_M) return RAMP_LANE;
  return Math.min(MAINLINE_LANES, Math.max(1, Math.floor(xM / LANE_WIDTH_M) + 1));
}

/** Lateral centre of `lane` for a vehicle of width `widthM` at `yM` (the ramp bends). */
export function laneCentreAtM(lane: number, yM: number, widthM: number): number {
  return lane === RAMP_LANE ? rampCentreM(yM, widthM) : laneCentreM(lane);
}
