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
  /** Add a car (the last id) that enters lane 2 at frame 1 and stops for good at LocalY 200 m. */
  stopper?: boolean;
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
  if (opts.stopper) {
    const n = Math.round(durationS * 10) + 400;
    const v0 = speeds[2]!;
    const frames = new Int32Array(n);
    const localYM = new Float32Array(n);
    const speedMps = new Float32Array(n);
    let y = 20;
    let v = v0;
    // Brakes at 2 m/s^2 so as to stop at 200 m.
    const brakeAt = 200 - (v0 * v0) / (2 * 2);
    for (let k = 0; k < n; k++) {
      frames[k] = 1 + k;
      localYM[k] = y;
      speedMps[k] = v;
      if (y >= brakeAt) v = Math.max(0, v - 2 * 0.1);
      y += v * 0.1;
    }
    vehicles.push({ vehicleId: id++, frames, localXM: new Float32Array(n).fill(3.7 * 2.5), localYM, speedMps, accMps2: new Float32Array(n), lane: new Int16Array(n).fill(3), lengthM, widthM: 1.8, vClass: 2 });
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
