/**
 * Built-in controllers: `replay` (the car's own logged actions; no action once the log ends),
 * `no-action` (a = b = 0: constant speed and heading, the paper's baseline) and `idm`
 * (Intelligent Driver Model on the car ahead in the current lane, plus a lane-keeping
 * steering law).
 */
import { laneCentreY, laneOf } from '../map.js';
import { DT_S, SCALE_PX_PER_M } from '../../data/layout.js';
import type { Controller, ControllerBatch } from './controller.js';

export function replayController(): Controller {
  return {
    name: 'replay',
    act(batch: ControllerBatch): Float32Array {
      const out = new Float32Array(batch.n * 2);
      batch.episodes.forEach((e, i) => {
        if (e.loggedAction) {
          out[i * 2] = e.loggedAction[0];
          out[i * 2 + 1] = e.loggedAction[1];
        }
      });
      return out;
    },
  };
}

export function noActionController(): Controller {
  return { name: 'no-action', act: (batch) => new Float32Array(batch.n * 2) };
}

export interface IdmParams {
  desiredSpeedMps: number;
  timeGapS: number;
  minGapM: number;
  maxAccelMps2: number;
  comfortDecelMps2: number;
  /** Lateral gain: heading aimed at atan(gain * offset), offset in px. */
  lateralGainPerPx: number;
  maxHeadingRad: number;
}

export const DEFAULT_IDM: IdmParams = {
  desiredSpeedMps: 25,
  timeGapS: 1.5,
  minGapM: 2,
  maxAccelMps2: 1.5,
  comfortDecelMps2: 2,
  lateralGainPerPx: 0.02,
  maxHeadingRad: 0.05,
};

/**
 * IDM along x on the nearest car ahead in the current lane (neighbour row 4); steering turns the
 * heading a third of the way per step towards atan(gain * (lane centre - y)), capped.
 */
export function idmController(p: IdmParams = DEFAULT_IDM): Controller {
  const S = SCALE_PX_PER_M;
  const v0 = p.desiredSpeedMps * S;
  const s0 = p.minGapM * S;
  const aMax = p.maxAccelMps2 * S;
  const bComf = p.comfortDecelMps2 * S;
  return {
    name: 'idm',
    act(batch: ControllerBatch): Float32Array {
      const out = new Float32Array(batch.n * 2);
      batch.episodes.forEach((e, i) => {
        const v = e.state.speedPxPerS;
        let a = aMax * (1 - (Math.max(v, 0) / v0) ** 4);
        if (e.mask[4]) {
          const leaderX = e.neighbours[16]!;
          const leaderVx = e.neighbours[18]!;
          const gap = Math.max(leaderX - (e.state.xPx + e.state.dirX * e.lengthPx), 0.1);
          const dv = v * e.state.dirX - leaderVx;
          const sStar = s0 + Math.max(0, v * p.timeGapS + (v * dv) / (2 * Math.sqrt(aMax * bComf)));
          a -= aMax * (sStar / gap) ** 2;
        }
        const lane = laneOf(batch.map, e.state.yPx);
        const target = laneCentreY(batch.map, lane < 0 ? 0 : lane >= batch.map.mainLanes ? batch.map.mainLanes - 1 : lane);
        const wanted = Math.max(-p.maxHeadingRad, Math.min(p.maxHeadingRad, Math.atan(p.lateralGainPerPx * (target - e.state.yPx))));
        const heading = Math.atan2(e.state.dirY, e.state.dirX);
        const turn = (wanted - heading) / 3;
        // b > 0 turns left (heading angle decreases, y is down): turn = -b * v * dt.
        const b = v > 1 ? -turn / (v * DT_S) : 0;
        out[i * 2] = a;
        out[i * 2 + 1] = b;
      });
      return out;
    },
  };
}
