/**
 * Road maps as data (docs/method.md section 1). Everything is in screen pixels (SCALE = 6.486 px/m):
 * x along the road, y to the right; lane n of the main road occupies y in
 * [topPx + 24 n, topPx + 24 (n + 1)].
 *
 * A map gives: the screen size; the conversion from a track store's metric positions (front
 * centre, NGSIM Local_Y / Local_X) to the simulator's rear-centre position; the lane bands; the
 * lane markings drawn in the red channel of observations (1 px wide segments); the road edges
 * that define off-road (above `topPx`, or below the polyline `lowerEdge`), plus painted areas
 * between them that are off-road for the observations and costs (`offRoadAreas`: on I-80 the
 * gore between lane 6 and the on-ramp before the ramp joins, as the reference's map has it);
 * and the validity
 * window in which a car's states are recorded. (Per-slot black lists of vehicle ids are applied
 * by the importer, data/slots.ts.)
 */
import { LOOK_AHEAD_PX } from './units.js';
import { LANE_W_PX, MAP_X_OFFSET_PX, ROAD_TOP_PX } from '../data/layout.js';

export type Segment = readonly [x0: number, y0: number, x1: number, y1: number];
export type Point = readonly [x: number, y: number];

export interface RoadMap {
  name: 'i80' | 'us101';
  widthPx: number;
  heightPx: number;
  /** x = LocalY * SCALE - xOffsetPx - length (rear of the car). */
  xOffsetPx: number;
  /** y = LocalX * SCALE + topPx; also the top edge of lane 0. */
  topPx: number;
  /** Number of main lanes (bands of LANE_W_PX starting at topPx). */
  mainLanes: number;
  /** Index given to positions below the main lanes and above the lower edge (ramp / auxiliary lane). */
  rampLane: number;
  /** The ramp lane is a left/right neighbour of the last main lane only for x beyond this. */
  rampJoinXPx: number;
  markings: readonly Segment[];
  /** Lower road edge, a polyline in increasing x, extended flat beyond its ends. */
  lowerEdge: readonly Point[];
  /**
   * Convex quadrilaterals inside the road edges that count as off-road in the observation's
   * off-road channel and the off-road cost (not for ending an episode: isOffRoad keeps to the
   * edges, as the reference ends no episode there).
   */
  offRoadAreas: ReadonlyArray<readonly [Point, Point, Point, Point]>;
  /** States are recorded while rear > validMinXPx and front < validMaxXPx; arrival is rear > validMaxXPx. */
  validMinXPx: number;
  validMaxXPx: number;
}

const FAR = 300; // markings extend this far beyond the screen so crops near the ends see them

function i80(): RoadMap {
  const top = ROAD_TOP_PX; // 36
  const widthPx = 85 * LANE_W_PX; // 2040
  const bottom = top + 6 * LANE_W_PX; // 180
  const slope = 0.035;
  const markings: Segment[] = [];
  for (let n = 0; n < 6; n++) markings.push([-FAR, top + n * LANE_W_PX, widthPx + FAR, top + n * LANE_W_PX]);
  markings.push([-FAR, bottom, 18 * LANE_W_PX, bottom]);
  markings.push([0, bottom + 29, 18 * LANE_W_PX, bottom + 29 - slope * 18 * LANE_W_PX]);
  markings.push([18 * LANE_W_PX, bottom + 13, 31 * LANE_W_PX, bottom]);
  markings.push([0, bottom + 53, 60 * LANE_W_PX, bottom + 53 - slope * 60 * LANE_W_PX]);
  markings.push([60 * LANE_W_PX, bottom + 3, widthPx + FAR, bottom]);
  return {
    name: 'i80',
    widthPx,
    heightPx: 11 * LANE_W_PX,
    xOffsetPx: MAP_X_OFFSET_PX.i80,
    topPx: top,
    mainLanes: 6,
    rampLane: 6,
    rampJoinXPx: 18 * LANE_W_PX,
    markings,
    lowerEdge: [
      [0, bottom + 53],
      [60 * LANE_W_PX, bottom + 53 - slope * 60 * LANE_W_PX],
      [widthPx + FAR, bottom],
    ],
    // The ramp gore: from 2 px below the lane-6 edge to 1 px above the on-ramp marking, up to
    // where the ramp joins (x = 18 lane widths), as in the reference's machine drawing.
    offRoadAreas: [
      [
        [0, bottom + 2],
        [0, bottom + 28],
        [18 * LANE_W_PX, bottom + 28 - slope * 18 * LANE_W_PX],
        [18 * LANE_W_PX, bottom + 2],
      ],
    ],
    validMinXPx: LOOK_AHEAD_PX,
    validMaxXPx: widthPx - 1.75 * LOOK_AHEAD_PX,
  };
}

/**
 * US-101 (five main lanes, an auxiliary lane between the on-ramp and the off-ramp). Markings
 * follow the reference simulator's drawing; the lower edge is an approximation of the ramp edges.
 */
function us101(): RoadMap {
  const top = ROAD_TOP_PX;
  const widthPx = 125 * LANE_W_PX; // 3000
  const bottom = top + 5 * LANE_W_PX; // 156
  const slope = 0.07;
  const L = LANE_W_PX;
  const markings: Segment[] = [];
  for (let n = 0; n <= 5; n++) markings.push([-FAR, top + n * L, widthPx + FAR, top + n * L]);
  markings.push([22 * L, bottom + L, 90 * L, bottom + L]);
  markings.push([0, bottom + 35, 20 * L, bottom + 35 - slope * 20 * L]);
  markings.push([15 * L, bottom + 35, 22 * L, bottom + 35 - slope * 7 * L]);
  markings.push([92 * L, bottom, 112 * L, bottom + slope * 20 * L]);
  markings.push([90 * L, bottom + L, 97 * L, bottom + L + slope * 7 * L]);
  return {
    name: 'us101',
    widthPx,
    heightPx: 9 * L,
    xOffsetPx: MAP_X_OFFSET_PX.us101,
    topPx: top,
    mainLanes: 5,
    rampLane: 5,
    rampJoinXPx: 22 * L,
    markings,
    lowerEdge: [
      [15 * L, bottom + 35],
      [22 * L, bottom + 35 - slope * 7 * L],
      [90 * L, bottom + L],
      [97 * L, bottom + L + slope * 7 * L],
    ],
    offRoadAreas: [],
    validMinXPx: LOOK_AHEAD_PX,
    validMaxXPx: widthPx - 1.75 * LOOK_AHEAD_PX,
  };
}

export const I80_MAP: RoadMap = i80();
export const US101_MAP: RoadMap = us101();

const MAPS: Record<string, RoadMap> = { i80: I80_MAP, us101: US101_MAP };

/** The map called `name`, or undefined. */
export function findMap(name: string): RoadMap | undefined {
  return MAPS[name];
}

/** y of the lower road edge at x (linear between polyline points, flat beyond the ends). */
export function lowerEdgeY(map: RoadMap, xPx: number): number {
  const e = map.lowerEdge;
  if (xPx <= e[0]![0]) return e[0]![1];
  for (let i = 1; i < e.length; i++) {
    const [x1, y1] = e[i]!;
    if (xPx <= x1) {
      const [x0, y0] = e[i - 1]!;
      return y0 + ((y1 - y0) * (xPx - x0)) / (x1 - x0);
    }
  }
  return e[e.length - 1]![1];
}

/** True when a car whose rear centre is at (x, y) has left the road (above lane 0 or below the lower edge). */
export function isOffRoad(map: RoadMap, xPx: number, yPx: number): boolean {
  return yPx < map.topPx || yPx > lowerEdgeY(map, xPx);
}

/** True when (x, y) lies in one of the map's off-road areas (inside the road edges). */
export function inOffRoadArea(map: RoadMap, xPx: number, yPx: number): boolean {
  for (const q of map.offRoadAreas) {
    let pos = false;
    let neg = false;
    for (let k = 0; k < 4; k++) {
      const [x0, y0] = q[k]!;
      const [x1, y1] = q[(k + 1) % 4]!;
      const cross = (x1 - x0) * (yPx - y0) - (y1 - y0) * (xPx - x0);
      if (cross > 0) pos = true;
      else if (cross < 0) neg = true;
    }
    if (!(pos && neg)) return true;
  }
  return false;
}

/** True when the observation's off-road channel covers (x, y): beyond the road edges or in an off-road area. */
export function isOffRoadPixel(map: RoadMap, xPx: number, yPx: number): boolean {
  return yPx < map.topPx || yPx > lowerEdgeY(map, xPx) || inOffRoadArea(map, xPx, yPx);
}

/**
 * Lane index of a lateral position: 0..mainLanes-1 for the main lanes, `rampLane` below them,
 * -1 above the road.
 */
export function laneOf(map: RoadMap, yPx: number): number {
  if (yPx < map.topPx) return -1;
  const n = Math.floor((yPx - map.topPx) / LANE_W_PX);
  return n < map.mainLanes ? n : map.rampLane;
}

/** y of the centre of main lane n. */
export function laneCentreY(map: RoadMap, lane: number): number {
  return map.topPx + (Math.min(lane, map.mainLanes - 1) + 0.5) * LANE_W_PX;
}
