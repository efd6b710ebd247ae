/**
 * Fidelity of the kinematic replay: each track is driven from its first state with its own
 * extracted actions (sim/kinematics.ts) and compared with its smoothed logged positions; the
 * figure per track is the largest distance (m) between the two over the track. The summary gives
 * the median and 95th percentile of that figure over tracks (linear interpolation between
 * order statistics, as numpy's default percentile).
 */
import type { VehicleTrack } from '../data/tracks.js';
import { extractTrajectory } from './kinematics.js';
import type { RoadMap } from './map.js';
import { trackToPx } from './tracks.js';
import { SCALE_PX_PER_M } from '../data/layout.js';

export interface TrackFidelity {
  vehicleId: number;
  steps: number;
  maxDeviationM: number;
  meanDeviationM: number;
}

export interface FidelityReport {
  tracks: number;
  skipped: number;
  medianMaxDeviationM: number;
  p95MaxDeviationM: number;
  maxMaxDeviationM: number;
  perTrack: TrackFidelity[];
}

export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Deviation of one track's replay from its smoothed log; null when the track is too short. */
export function trackFidelity(map: RoadMap, track: VehicleTrack): TrackFidelity | null {
  const t = trackToPx(map, track);
  if (!t) return null;
  const e = extractTrajectory(t.x, t.y, t.m, t.lengthPx);
  if (e.n === 0) return null;
  let max = 0;
  let sum = 0;
  for (let k = 0; k < e.n; k++) {
    const d = Math.hypot(e.x[k]! - t.x[k]!, e.y[k]! - t.y[k]!);
    if (d > max) max = d;
    sum += d;
  }
  return { vehicleId: track.vehicleId, steps: e.n, maxDeviationM: max / SCALE_PX_PER_M, meanDeviationM: sum / e.n / SCALE_PX_PER_M };
}

export function fidelity(map: RoadMap, tracks: readonly VehicleTrack[]): FidelityReport {
  const perTrack: TrackFidelity[] = [];
  let skipped = 0;
  for (const v of tracks) {
    const f = trackFidelity(map, v);
    if (f) perTrack.push(f);
    else skipped++;
  }
  const sorted = perTrack.map((p) => p.maxDeviationM).sort((a, b) => a - b);
  return {
    tracks: perTrack.length,
    skipped,
    medianMaxDeviationM: percentile(sorted, 0.5),
    p95MaxDeviationM: percentile(sorted, 0.95),
    maxMaxDeviationM: sorted.length ? sorted[sorted.length - 1]! : NaN,
    perTrack,
  };
}
