/**
 * One dataset episode from a replayed car (the state-action-cost data the world model and the
 * policy learn from): every frame of the longest run of consecutive frames at which the car is
 * in the validity window (rear beyond validMinXPx, front before validMaxXPx), with
 *   images[t]  the car-centred observation (HWC uint8),
 *   states[t]  the 7 x 4 symbolic state and masks[t] its mask,
 *   actions[t] the extracted action taken at t (a px/s^2, b 1/px),
 *   costs[t]   proximity, lane, off-road (sim/costs.ts),
 *   frames[t]  the absolute frame id,
 * images, states and costs of the same instant (the car's replayed state at that frame).
 */
import { COST_NAMES } from './costs.js';
import { neighbourState } from './neighbours.js';
import type { Rasteriser } from './raster/rasteriser.js';
import type { ReplayCar, ReplayData } from './replay.js';
import { Scene } from './scene.js';
import { ACTION_DIM, IMAGE_H, IMAGE_W, STATE_DIM, STATE_ROWS } from '../data/layout.js';

export interface EpisodeArrays {
  length: number;
  images: Uint8Array;
  states: Float32Array;
  masks: Uint8Array;
  actions: Float32Array;
  costs: Float32Array;
  frames: Int32Array;
}

/** [first, end) step indices of the longest run of valid frames of a replayed car (end = first when none). */
export function validRange(data: ReplayData, car: ReplayCar): [number, number] {
  const m = data.map;
  let best: [number, number] = [0, 0];
  let start = -1;
  for (let k = 0; k <= car.n; k++) {
    const ok = k < car.n && car.x[k]! > m.validMinXPx && car.x[k]! + car.dirX[k]! * car.lengthPx < m.validMaxXPx;
    if (ok && start < 0) start = k;
    if (!ok && start >= 0) {
      if (k - start > best[1] - best[0]) best = [start, k];
      start = -1;
    }
  }
  return best;
}

/** Builds the episode of car `id`; null when it has no valid frame. */
export function buildEpisode(data: ReplayData, id: number, rasteriser: Rasteriser, scene = new Scene(256)): EpisodeArrays | null {
  const car = data.car(id);
  if (!car) throw new Error(`vehicle ${id} is not in the replayed slot`);
  const [k0, k1] = validRange(data, car);
  const T = k1 - k0;
  if (T <= 0) return null;
  const C = rasteriser.channels;
  const obs = IMAGE_H * IMAGE_W * C;
  const K = COST_NAMES.length;
  const ep: EpisodeArrays = {
    length: T,
    images: new Uint8Array(T * obs),
    states: new Float32Array(T * STATE_ROWS * STATE_DIM),
    masks: new Uint8Array(T * STATE_ROWS),
    actions: new Float32Array(T * ACTION_DIM),
    costs: new Float32Array(T * K),
    frames: new Int32Array(T),
  };
  for (let t = 0; t < T; t++) {
    const k = k0 + t;
    const frame = car.firstFrame + k;
    scene.fromReplay(data, frame);
    const ego = scene.indexOf(id);
    const c = rasteriser.observe(scene, ego, ep.images, t * obs);
    neighbourState(data.map, scene, ego, ep.states, t * STATE_ROWS * STATE_DIM, ep.masks, t * STATE_ROWS);
    ep.actions[t * ACTION_DIM] = car.a[k]!;
    ep.actions[t * ACTION_DIM + 1] = car.b[k]!;
    ep.costs[t * K] = c.proximity;
    ep.costs[t * K + 1] = c.lane;
    ep.costs[t * K + 2] = c.offroad;
    ep.frames[t] = frame;
  }
  return ep;
}
