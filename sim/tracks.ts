/**
 * From an imported vehicle track (data/tracks.ts: metric front-centre positions, 10 Hz) to the
 * simulator's logged trajectory in pixels (docs/method.md section 1):
 *
 *   x = LocalY * SCALE - xOffset - length   (rear of the car)
 *   y = LocalX * SCALE + topPx              (lateral centre)
 *
 * Only rows whose front is on screen (LocalY * SCALE - xOffset in [0, width]) are kept, and of
 * those the longest run of consecutive frames; tracks with fewer than 16 such rows are dropped.
 * Positions are smoothed with a forward rolling mean over 15 frames, so a track of N rows gives
 * N - 14 smoothed points, the first one at the track's first kept frame.
 */
import type { VehicleTrack } from '../data/tracks.js';
import type { RoadMap } from './map.js';
import { SMOOTHING_WINDOW } from './units.js';
import { SCALE_PX_PER_M } from '../data/layout.js';

/** Sizes used when the source has none (e.g. the US-101 sample tracks). */
export const DEFAULT_LENGTH_M = 4.5;
export const DEFAULT_WIDTH_M = 1.8;
/** Tracks with fewer kept rows than this are dropped. */
export const MIN_TRACK_ROWS = 16;

export interface PxTrack {
  vehicleId: number;
  lengthPx: number;
  widthPx: number;
  /** Frame id of smoothed point 0. */
  firstFrame: number;
  /** Number of smoothed points. */
  m: number;
  /** Smoothed rear-centre positions, px. */
  x: Float64Array;
  y: Float64Array;
}

/** Car size in px (defaults where the source has none or an implausible value). */
export function carSizePx(track: Pick<VehicleTrack, 'lengthM' | 'widthM'>): { lengthPx: number; widthPx: number } {
  const l = Number.isFinite(track.lengthM) && track.lengthM > 0.5 ? track.lengthM : DEFAULT_LENGTH_M;
  const w = Number.isFinite(track.widthM) && track.widthM > 0.3 ? track.widthM : DEFAULT_WIDTH_M;
  return { lengthPx: l * SCALE_PX_PER_M, widthPx: w * SCALE_PX_PER_M };
}

/** Forward rolling mean: out[k] = mean(v[k .. k + w - 1]), for k = 0 .. n - w. */
export function forwardRollingMean(v: ArrayLike<number>, start: number, count: number, window: number): Float64Array {
  const m = count - window + 1;
  if (m <= 0) return new Float64Array(0);
  const out = new Float64Array(m);
  let sum = 0;
  for (let i = 0; i < window; i++) sum += v[start + i]!;
  out[0] = sum / window;
  for (let k = 1; k < m; k++) {
    sum += v[start + k + window - 1]! - v[start + k - 1]!;
    out[k] = sum / window;
  }
  return out;
}

/** Converts one imported track; null when too few rows remain on screen. */
export function trackToPx(map: RoadMap, track: VehicleTrack): PxTrack | null {
  const { lengthPx, widthPx } = carSizePx(track);
  const n = track.frames.length;
  // Longest run of consecutive frames whose front is on screen.
  let bestStart = 0;
  let bestLen = 0;
  let runStart = -1;
  for (let i = 0; i <= n; i++) {
    let ok = false;
    if (i < n) {
      const front = track.localYM[i]! * SCALE_PX_PER_M - map.xOffsetPx;
      ok = front >= 0 && front <= map.widthPx && Number.isFinite(track.localXM[i]!);
      if (ok && runStart >= 0 && track.frames[i]! !== track.frames[i - 1]! + 1) {
        // A gap in frames ends the run.
        if (i - runStart > bestLen) {
          bestLen = i - runStart;
          bestStart = runStart;
        }
        runStart = i;
      }
    }
    if (ok && runStart < 0) runStart = i;
    if (!ok && runStart >= 0) {
      if (i - runStart > bestLen) {
        bestLen = i - runStart;
        bestStart = runStart;
      }
      runStart = -1;
    }
  }
  if (bestLen < MIN_TRACK_ROWS) return null;
  const rawX = new Float64Array(bestLen);
  const rawY = new Float64Array(bestLen);
  for (let i = 0; i < bestLen; i++) {
    rawX[i] = track.localYM[bestStart + i]! * SCALE_PX_PER_M - map.xOffsetPx - lengthPx;
    rawY[i] = track.localXM[bestStart + i]! * SCALE_PX_PER_M + map.topPx;
  }
  const x = forwardRollingMean(rawX, 0, bestLen, SMOOTHING_WINDOW);
  const y = forwardRollingMean(rawY, 0, bestLen, SMOOTHING_WINDOW);
  return { vehicleId: track.vehicleId, lengthPx, widthPx, firstFrame: track.frames[bestStart]!, m: x.length, x, y };
}
