/**
 * Finds overlapping vehicles in a track store: at each frame every vehicle is a rectangle
 * [front - length, front] x [centre - width / 2, centre + width / 2] (Local_Y x Local_X, m);
 * two rectangles that intersect by more than `toleranceM` in both directions overlap.
 * Used to check the synthetic traffic (no two vehicles ever overlap).
 */
import type { TrackStore } from '../tracks.js';

export interface Overlap {
  frame: number;
  a: number;
  b: number;
  /** Longitudinal and lateral intersection, m. */
  dyM: number;
  dxM: number;
}

export function findOverlaps(store: TrackStore, toleranceM = 0.01, limit = 100): { overlaps: Overlap[]; count: number } {
  let minF = Infinity;
  let maxF = -Infinity;
  for (const v of store.vehicles) {
    if (v.frames.length === 0) continue;
    minF = Math.min(minF, v.frames[0]!);
    maxF = Math.max(maxF, v.frames[v.frames.length - 1]!);
  }
  const overlaps: Overlap[] = [];
  let count = 0;
  if (!Number.isFinite(minF)) return { overlaps, count };
  // Rows of each frame: (vehicle index, row index), bucketed by frame.
  const nF = maxF - minF + 1;
  const counts = new Int32Array(nF + 1);
  for (const v of store.vehicles) for (const f of v.frames) counts[f - minF + 1]!++;
  for (let i = 1; i <= nF; i++) counts[i]! += counts[i - 1]!;
  const fill = counts.slice(0, nF);
  const vi = new Int32Array(counts[nF]!);
  const ri = new Int32Array(counts[nF]!);
  store.vehicles.forEach((v, k) => {
    for (let r = 0; r < v.frames.length; r++) {
      const slot = fill[v.frames[r]! - minF]!++;
      vi[slot] = k;
      ri[slot] = r;
    }
  });
  for (let f = 0; f < nF; f++) {
    const s = counts[f]!;
    const e = counts[f + 1]!;
    const idx = Array.from({ length: e - s }, (_, i) => s + i);
    const front = (j: number) => store.vehicles[vi[j]!]!.localYM[ri[j]!]!;
    idx.sort((p, q) => front(p) - front(q));
    for (let i = 0; i < idx.length; i++) {
      const a = store.vehicles[vi[idx[i]!]!]!;
      const ya = front(idx[i]!);
      const xa = a.localXM[ri[idx[i]!]!]!;
      // Later vehicles have fronts ahead of a's; they overlap a only if their rear is behind a's front.
      for (let j = i + 1; j < idx.length; j++) {
        const b = store.vehicles[vi[idx[j]!]!]!;
        const yb = front(idx[j]!);
        if (yb - 25 > ya) break; // no vehicle is longer than 25 m
        const dy = ya - (yb - b.lengthM);
        if (dy <= toleranceM) continue;
        const dx = (a.widthM + b.widthM) / 2 - Math.abs(xa - b.localXM[ri[idx[j]!]!]!);
        if (dx <= toleranceM) continue;
        count++;
        if (overlaps.length < limit) overlaps.push({ frame: f + minF, a: a.vehicleId, b: b.vehicleId, dyM: Math.min(dy, a.lengthM, b.lengthM), dxM: dx });
      }
    }
  }
  return { overlaps, count };
}
