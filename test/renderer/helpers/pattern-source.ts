/**
 * A test pattern EpisodeSource: `cars` cars spread over the six I-80 lanes, each at its own
 * constant speed, car 0 bot-driven and focused. Positions are closed-form in the frame index, so
 * tests know exactly where each car is without the simulator.
 */
import { I80_MAP } from '../../../sim/map.js';
import { LANE_W_PX, SCALE_PX_PER_M } from '../../../data/layout.js';
import { roadDrawing } from '../../../renderer/server/road-drawing.js';
import type { EpisodeSource } from '../../../renderer/server/episode-source.js';
import type { ViewerFrame } from '../../../renderer/protocol/types.js';
import { CAR_CONTROLLED, CAR_FOCUS } from '../../../renderer/protocol/types.js';

export interface PatternOptions {
  cars: number;
  frames: number;
  /** Frame at which the episode "ends" (reason 'pattern end'), default frames. */
  endAt?: number;
  observation?: boolean;
}

export function patternCar(i: number, frame: number): { xPx: number; yPx: number; speedPxPerS: number; lengthPx: number; widthPx: number } {
  const lane = i % 6;
  const slot = Math.floor(i / 6);
  const speedPxPerS = (8 + ((i * 7) % 11)) * SCALE_PX_PER_M; // 8..18 m/s
  const lengthPx = 4.5 * SCALE_PX_PER_M;
  const start = (slot * 61 + lane * 17 + (i === 0 ? 600 : 0)) % 2000;
  const xPx = (start + speedPxPerS * 0.1 * frame) % 2040;
  return { xPx, yPx: I80_MAP.topPx + (lane + 0.5) * LANE_W_PX, speedPxPerS, lengthPx, widthPx: 1.8 * SCALE_PX_PER_M };
}

export function patternSource(opts: PatternOptions): EpisodeSource {
  const frames: ViewerFrame[] = [];
  const total = opts.endAt ?? opts.frames;
  const obs = opts.observation ?? true;
  return {
    description: {
      episodes: [{ label: 'pattern', egoIds: [0], seed: 0 }],
      road: roadDrawing(I80_MAP),
      dtS: 0.1,
      pxPerM: SCALE_PX_PER_M,
      maxFrames: opts.frames,
      observation: obs ? { heightPx: 117, widthPx: 24, channels: 3 } : null,
      costNames: ['proximity', 'lane'],
      imagination: null,
    },
    get total() {
      return frames.length >= total ? total : null;
    },
    get ended() {
      return frames.length >= total ? { atFrame: total - 1, reason: 'pattern end' } : null;
    },
    async frame(i: number) {
      if (i >= total) return null;
      for (let k = frames.length; k <= i; k++) {
        const n = opts.cars;
        const cols = {
          id: new Int32Array(n),
          xPx: new Float32Array(n),
          yPx: new Float32Array(n),
          dirX: new Float32Array(n).fill(1),
          dirY: new Float32Array(n),
          lengthPx: new Float32Array(n),
          widthPx: new Float32Array(n),
          flags: new Uint8Array(n),
        };
        for (let c = 0; c < n; c++) {
          const p = patternCar(c, k);
          cols.id[c] = c;
          cols.xPx[c] = p.xPx;
          cols.yPx[c] = p.yPx;
          cols.lengthPx[c] = p.lengthPx;
          cols.widthPx[c] = p.widthPx;
        }
        cols.flags[0] = CAR_CONTROLLED | CAR_FOCUS;
        const o = obs ? new Uint8Array(117 * 24 * 3) : null;
        if (o) for (let r = 0; r < 117; r++) o[(r * 24 + ((k + r) % 24)) * 3 + 1] = 255;
        const ego = patternCar(0, k);
        frames.push({
          index: k,
          frameId: 1000 + k,
          timeS: k * 0.1,
          status: 'pattern',
          cars: cols,
          ghosts: { ...cols, id: cols.id.subarray(0, 1), xPx: new Float32Array([ego.xPx - 10]), yPx: new Float32Array([ego.yPx + 6]), dirX: cols.dirX.subarray(0, 1), dirY: cols.dirY.subarray(0, 1), lengthPx: cols.lengthPx.subarray(0, 1), widthPx: cols.widthPx.subarray(0, 1), flags: new Uint8Array(1) },
          ego: { id: 0, speedPxPerS: ego.speedPxPerS, costs: { proximity: 0.1, lane: 0.2 } },
          observation: o,
          imagined: null,
        });
      }
      return frames[i]!;
    },
  };
}
