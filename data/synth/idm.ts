/**
 * Intelligent Driver Model (Treiber, Hennecke, Helbing 2000): the longitudinal acceleration
 * (m/s^2) of a driver at speed v (m/s) with desired speed v0, behind a leader at bumper-to-bumper
 * gap s (m) closing at dv = v - v_leader (m/s):
 *   a_IDM = a [1 - (v / v0)^4 - (s*(v, dv) / s)^2],  s* = s0 + max(0, v T + v dv / (2 sqrt(a b))).
 * Above the desired speed (a lowered limit ahead) the free term becomes a braking of at most b,
 * -b [1 - (v0 / v)^4], instead of the original formula's unbounded one.
 */

export interface IdmParams {
  /** Desired speed, m/s. */
  v0Mps: number;
  /** Desired time gap, s. */
  timeGapS: number;
  /** Maximum acceleration, m/s^2. */
  accMps2: number;
  /** Comfortable deceleration, m/s^2 (positive). */
  decMps2: number;
  /** Jam distance (bumper to bumper at standstill), m. */
  jamGapM: number;
}

/** Desired gap s*(v, dv), m. */
export function idmDesiredGapM(vMps: number, dvMps: number, p: IdmParams): number {
  return p.jamGapM + Math.max(0, vMps * p.timeGapS + (vMps * dvMps) / (2 * Math.sqrt(p.accMps2 * p.decMps2)));
}

/** Free-road term: accelerate towards v0, brake (at most b) above it. */
export function idmFreeAccMps2(vMps: number, v0Mps: number, p: IdmParams): number {
  if (vMps <= v0Mps) return p.accMps2 * (1 - (vMps / v0Mps) ** 4);
  return -p.decMps2 * (1 - (v0Mps / vMps) ** 4);
}

/**
 * IDM acceleration behind a leader (gapM, dvMps) or on a free road (gapM = Infinity), with the
 * desired speed `v0Mps` (the driver's own, or lower where a limit applies).
 */
export function idmAccMps2(vMps: number, v0Mps: number, gapM: number, dvMps: number, p: IdmParams): number {
  const free = idmFreeAccMps2(vMps, v0Mps, p);
  if (!Number.isFinite(gapM)) return free;
  const s = idmDesiredGapM(vMps, dvMps, p) / Math.max(gapM, 0.05);
  return free - p.accMps2 * s * s;
}
