/**
 * Test helper: small hand-built traffic in the track-store format (metric front-centre
 * positions, 10 Hz): cars entering the I-80 study area in each lane at the lane's own constant
 * speed, spaced by a fixed time headway, so that no two cars ever overlap; optionally one car
 * changes lanes smoothly.
 */
import { join } from 'node:path';
import { LANE_W_M } from '../../../data/layout.js';
import { writeTrackStore } from '../../../data/track-store.js';
import type { TrackStore, VehicleTrack } from '../../../data/tracks.js';
import { tempDir } from '../../helpers/temp.js';

export interface TrafficOptions {
  /** Cars per lane. */
  perLane?: number;
  lanes?: number[];
  /** Entry spacing in seconds. */
  headwayS?: number;
  /** Lane speeds m/s (index = lane). */
  speedsMps?: number[];
  /** Id of a car that moves one lane to the right half way, if any. */
  laneChanger?: number | null;
  slot?: string | null;
}

const ENTRY_Y_M = 70;
const EXIT_Y_M = 400;

export function makeTrack(vehicleId: number, firstFrame: number, ys: number[], xs: number[], lengthM = 4.5, widthM = 1.8): VehicleTrack {
  const n = ys.length;
  return {
    vehicleId,
    frames: Int32Array.from({ length: n }, (_, i) => firstFrame + i),
    localXM: Float32Array.from(xs),
    localYM: Float32Array.from(ys),
    speedMps: new Float32Array(n).fill(NaN),
    accMps2: new Float32Array(n).fill(NaN),
    lane: new Int16Array(n),
    lengthM,
    widthM,
    vClass: 2,
  };
}

export function makeTraffic(opts: TrafficOptions = {}): TrackStore {
  const perLane = opts.perLane ?? 2;
  const lanes = opts.lanes ?? [0, 1, 2, 3, 4, 5];
  const headway = opts.headwayS ?? 4;
  const speeds = opts.speedsMps ?? [14, 13, 12, 11, 10, 9];
  const vehicles: VehicleTrack[] = [];
  let id = 1;
  for (const lane of lanes) {
    for (let j = 0; j < perLane; j++) {
      const v = speeds[lane]!;
      const first = 1000 + Math.round(j * headway * 10) + lane * 3;
      const n = Math.ceil(((EXIT_Y_M - ENTRY_Y_M) / v) * 10);
      const ys: number[] = [];
      const xs: number[] = [];
      for (let i = 0; i < n; i++) {
        ys.push(ENTRY_Y_M + v * i * 0.1);
        let x = (lane + 0.5) * LANE_W_M;
        if (id === opts.laneChanger) {
          // Smooth move of one lane to the right between 40 % and 60 % of the track.
          const s = Math.min(1, Math.max(0, (i / n - 0.4) / 0.2));
          x += LANE_W_M * (3 * s * s - 2 * s * s * s);
        }
        xs.push(x);
      }
      vehicles.push(makeTrack(id++, first, ys, xs, 4.5 + (id % 3) * 0.3, 1.8));
    }
  }
  return {
    manifest: {
      format: 'ppuu-tracks',
      version: 1,
      map: 'i80',
      slot: opts.slot === undefined ? '0400-0415' : opts.slot,
      sources: [{ file: 'test', format: 'test' }],
      summary: {},
      writtenBy: 'test',
      vehicles: [],
    },
    vehicles,
  };
}

/** Writes a traffic store to a new temp folder and returns its path. */
export async function writeTraffic(opts: TrafficOptions = {}, dir?: string): Promise<string> {
  const out = dir ?? join(tempDir('ppuu-traffic-'), 'tracks');
  await writeTrackStore(out, makeTraffic(opts));
  return out;
}
