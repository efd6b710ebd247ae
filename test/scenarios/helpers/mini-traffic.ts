/**
 * A small deterministic track store for scenario and viewer tests: cars entering the I-80
 * study area every `headwayS` seconds in each of the six main lanes, each lane at its own
 * constant speed (so nobody collides), written in the track store's metric format.
 */
import type { TrackStore, VehicleTrack } from '../../../data/tracks.js';

export interface MiniTrafficOptions {
  durationS?: number;
  headwayS?: number;
  /** Lane speeds, m/s, lanes 0..5. */
  laneSpeedsMps?: number[];
}

export function miniTraffic(opts: MiniTrafficOptions = {}): TrackStore {
  const durationS = opts.durationS ?? 40;
  const headwayS = opts.headwayS ?? 4;
  const speeds = opts.laneSpeedsMps ?? [14, 13, 12, 11, 10, 9];
  const vehicles: VehicleTrack[] = [];
  let id = 1;
  const lengthM = 4.5;
  for (let t0 = 0; t0 < durationS; t0 += headwayS) {
    for (let lane = 0; lane < 6; lane++) {
      const v = speeds[lane]!;
      const firstFrame = 1 + Math.round((t0 + lane * 0.7) * 10);
      // From the entry edge to past the end of the screen (LocalY 0 .. 400 m).
      const n = Math.floor(400 / v / 0.1);
      const frames = new Int32Array(n);
      const localXM = new Float32Array(n);
      const localYM = new Float32Array(n);
      const speedMps = new Float32Array(n).fill(v);
      const accMps2 = new Float32Array(n);
      const laneCol = new Int16Array(n).fill(lane + 1);
      for (let k = 0; k < n; k++) {
        frames[k] = firstFrame + k;
        localXM[k] = 3.7 * (lane + 0.5);
        localYM[k] = 20 + v * 0.1 * k;
      }
      vehicles.push({ vehicleId: id++, frames, localXM, localYM, speedMps, accMps2, lane: laneCol, lengthM, widthM: 1.8, vClass: 2 });
    }
  }
  return {
    manifest: {
      format: 'ppuu-tracks',
      version: 1,
      map: 'i80',
      slot: null,
      sources: [{ file: 'mini-traffic', format: 'test' }],
      summary: {},
      writtenBy: 'test',
      vehicles: [],
    },
    vehicles,
  };
}
