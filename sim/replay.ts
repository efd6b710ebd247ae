/**
 * The replayed traffic of one recording (one time slot): every car's smoothed logged
 * trajectory (the "ghost") and the kinematic replay of its extracted actions (sim/kinematics.ts),
 * indexed by frame. Replays are deterministic, so they are computed once and shared by every
 * episode, observation and viewer that uses the slot. Positions are rear centres in px.
 *
 * A car with m smoothed points is present at frames firstFrame .. firstFrame + n - 1 with
 * n = m - 2; at each of those frames it has a state and the action it takes there.
 */
import type { TrackStore } from '../data/tracks.js';
import { extractTrajectory, type CarState } from './kinematics.js';
import type { RoadMap } from './map.js';
import { trackToPx, type PxTrack } from './tracks.js';

export interface ReplayCar {
  id: number;
  lengthPx: number;
  widthPx: number;
  firstFrame: number;
  /** Number of frames the car is present. */
  n: number;
  x: Float64Array;
  y: Float64Array;
  dirX: Float64Array;
  dirY: Float64Array;
  speed: Float64Array;
  /** Extracted, clipped actions: a px/s^2, b 1/px. */
  a: Float64Array;
  b: Float64Array;
  /** Smoothed logged rear-centre positions at the same frames. */
  ghostX: Float64Array;
  ghostY: Float64Array;
}

/** Builds the replay of one converted track. */
export function replayCar(t: PxTrack): ReplayCar {
  const e = extractTrajectory(t.x, t.y, t.m, t.lengthPx);
  return {
    id: t.vehicleId,
    lengthPx: t.lengthPx,
    widthPx: t.widthPx,
    firstFrame: t.firstFrame,
    n: e.n,
    x: e.x,
    y: e.y,
    dirX: e.dirX,
    dirY: e.dirY,
    speed: e.speed,
    a: e.a,
    b: e.b,
    ghostX: t.x.slice(0, e.n),
    ghostY: t.y.slice(0, e.n),
  };
}

/** The state of a replayed car at absolute frame `frame` (which must be one of its frames). */
export function replayState(car: ReplayCar, frame: number): CarState {
  const k = frame - car.firstFrame;
  return { xPx: car.x[k]!, yPx: car.y[k]!, dirX: car.dirX[k]!, dirY: car.dirY[k]!, speedPxPerS: car.speed[k]! };
}

export interface ReplayOptions {
  /** Time slot recorded with the replay (defaults to the store's). */
  slot?: string | null;
}

export class ReplayData {
  readonly cars: ReplayCar[];
  readonly firstFrame: number;
  readonly lastFrame: number;
  private readonly byIdMap = new Map<number, number>();
  // Cars present at each frame, as a CSR index over frames firstFrame..lastFrame.
  private readonly frameStart: Int32Array;
  private readonly frameCars: Int32Array;

  constructor(
    readonly map: RoadMap,
    cars: ReplayCar[],
    readonly slot: string | null = null,
  ) {
    this.cars = cars.filter((c) => c.n > 0);
    let first = Infinity;
    let last = -Infinity;
    this.cars.forEach((c, i) => {
      this.byIdMap.set(c.id, i);
      first = Math.min(first, c.firstFrame);
      last = Math.max(last, c.firstFrame + c.n - 1);
    });
    if (this.cars.length === 0) {
      first = 0;
      last = -1;
    }
    this.firstFrame = first;
    this.lastFrame = last;
    const nFrames = last - first + 1;
    const counts = new Int32Array(nFrames + 1);
    for (const c of this.cars) for (let k = 0; k < c.n; k++) counts[c.firstFrame - first + k + 1]!++;
    for (let f = 0; f < nFrames; f++) counts[f + 1]! += counts[f]!;
    this.frameStart = counts;
    this.frameCars = new Int32Array(counts[nFrames]!);
    const fill = counts.slice(0, nFrames);
    this.cars.forEach((c, i) => {
      for (let k = 0; k < c.n; k++) this.frameCars[fill[c.firstFrame - first + k]!++] = i;
    });
  }

  /**
   * Builds the replay of every usable vehicle of a track store. Black-listed vehicles are left
   * out by the importer (data/slots.ts), not here, so synthetic stores keep all their cars.
   */
  static fromTrackStore(map: RoadMap, store: TrackStore, opts: ReplayOptions = {}): ReplayData {
    const slot = opts.slot !== undefined ? opts.slot : store.manifest.slot;
    const cars: ReplayCar[] = [];
    for (const v of store.vehicles) {
      const t = trackToPx(map, v);
      if (t) cars.push(replayCar(t));
    }
    return new ReplayData(map, cars, slot);
  }

  car(id: number): ReplayCar | undefined {
    const i = this.byIdMap.get(id);
    return i === undefined ? undefined : this.cars[i];
  }

  indexOf(id: number): number {
    return this.byIdMap.get(id) ?? -1;
  }

  /** Indices (into `cars`) of the cars present at `frame`. */
  carsAt(frame: number): Int32Array {
    const f = frame - this.firstFrame;
    if (f < 0 || frame > this.lastFrame) return new Int32Array(0);
    return this.frameCars.subarray(this.frameStart[f]!, this.frameStart[f + 1]!);
  }
}
