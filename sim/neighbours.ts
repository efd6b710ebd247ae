/**
 * The symbolic state of a car (docs/method.md section 2): seven rows (x, y, vx, vy) in px and px/s,
 * the ego first, then its neighbours behind and ahead in the left, current and right lanes:
 *
 *   0 ego, 1 left behind, 2 left ahead, 3 current behind, 4 current ahead, 5 right behind, 6 right ahead
 *
 * Lanes come from each car's lateral position (map.laneOf on the rear centre). "Ahead" and
 * "behind" compare front x: the nearest car whose front is beyond the ego's front, and the
 * nearest whose front is not. The ramp is a left/right neighbour lane only where it has joined
 * (front x beyond map.rampJoinXPx). A missing neighbour repeats the ego row with mask 0.
 */
import { STATE_DIM, STATE_ROWS } from '../data/layout.js';
import { laneOf, type RoadMap } from './map.js';
import type { Scene } from './scene.js';

/**
 * Writes the 7 x 4 state of scene car `ego` into states[offset .. offset + 28) and its mask into
 * masks[maskOffset .. maskOffset + 7).
 */
export function neighbourState(
  map: RoadMap,
  scene: Scene,
  ego: number,
  states: Float32Array,
  offset: number,
  masks: Uint8Array,
  maskOffset: number,
): void {
  const egoLane = Math.max(0, laneOf(map, scene.y[ego]!));
  const egoFront = scene.x[ego]! + scene.dirX[ego]! * scene.lengthPx[ego]!;
  const last = map.mainLanes - 1;
  const joined = egoFront > map.rampJoinXPx;
  let left = -2;
  let right = -2;
  if (egoLane === map.rampLane) {
    if (joined) left = last;
  } else {
    if (egoLane > 0) left = egoLane - 1;
    if (egoLane < last) right = egoLane + 1;
    else if (joined) right = map.rampLane;
  }
  const lanes = [left, egoLane, right];
  const best = new Int32Array(STATE_ROWS - 1).fill(-1);
  const bestFront = new Float64Array(STATE_ROWS - 1);
  for (let j = 0; j < scene.n; j++) {
    if (j === ego) continue;
    const lane = Math.max(0, laneOf(map, scene.y[j]!));
    const slot = lanes.indexOf(lane);
    if (slot < 0) continue;
    const front = scene.x[j]! + scene.dirX[j]! * scene.lengthPx[j]!;
    if (front > egoFront) {
      const r = slot * 2 + 1;
      if (best[r]! < 0 || front < bestFront[r]!) {
        best[r] = j;
        bestFront[r] = front;
      }
    } else {
      const r = slot * 2;
      if (best[r]! < 0 || front > bestFront[r]!) {
        best[r] = j;
        bestFront[r] = front;
      }
    }
  }
  const row = (i: number, o: number) => {
    const v = scene.speed[i]!;
    states[o] = scene.x[i]!;
    states[o + 1] = scene.y[i]!;
    states[o + 2] = scene.dirX[i]! * v;
    states[o + 3] = scene.dirY[i]! * v;
  };
  row(ego, offset);
  masks[maskOffset] = 1;
  for (let r = 0; r < STATE_ROWS - 1; r++) {
    const j = best[r]!;
    row(j >= 0 ? j : ego, offset + (r + 1) * STATE_DIM);
    masks[maskOffset + r + 1] = j >= 0 ? 1 : 0;
  }
}
