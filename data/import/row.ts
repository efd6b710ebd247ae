/**
 * One trajectory row in the store's units, as every reader produces it, and the checks that
 * every row passes whatever its source format: numeric fields, integer ids, plausible ranges.
 * Readers reuse one TrajectoryRow object per file (no allocation per row).
 */

export interface TrajectoryRow {
  vehicleId: number;
  frame: number;
  /** Front centre, m: lateral from the left road edge, longitudinal from the entry edge. */
  localXM: number;
  localYM: number;
  /** NaN where the source has no such column. */
  speedMps: number;
  accMps2: number;
  lane: number;
  lengthM: number;
  widthM: number;
  vClass: number;
  /** Neighbour columns (NGSIM): 0 = none; NaN where the source has none. */
  preceding: number;
  spaceHeadwayM: number;
  timeHeadwayS: number;
  /** Global_Time in ms since the epoch, NaN where the source has none. */
  globalTimeMs: number;
}

export function emptyRow(): TrajectoryRow {
  return {
    vehicleId: NaN, frame: NaN, localXM: NaN, localYM: NaN, speedMps: NaN, accMps2: NaN, lane: 0,
    lengthM: NaN, widthM: NaN, vClass: 0, preceding: NaN, spaceHeadwayM: NaN, timeHeadwayS: NaN, globalTimeMs: NaN,
  };
}

/** Field names used in messages, in the order conflicts are compared. */
export type RowField = 'vehicleId' | 'frame' | 'localX' | 'localY' | 'speed' | 'acceleration' | 'lane' | 'length' | 'width' | 'vClass';

/** Why a row was skipped (keys of the import summary's `badRows`). */
export type BadRowReason = 'columnCount' | 'nonNumeric' | 'outOfRange' | 'conflictingDuplicate';
export const BAD_ROW_REASONS: readonly BadRowReason[] = ['columnCount', 'nonNumeric', 'outOfRange', 'conflictingDuplicate'];

const MAX_ID = 2 ** 31 - 1;

/**
 * Returns the first range problem of a row as [field, what is wrong], or null when it is fine.
 * Ranges are wide on purpose (any highway or arterial site fits); they catch unit mix-ups,
 * sentinel values and corrupted digits, not unusual driving.
 */
export function rangeProblem(r: TrajectoryRow): [RowField, string] | null {
  if (!Number.isInteger(r.vehicleId) || r.vehicleId < 0 || r.vehicleId > MAX_ID) return ['vehicleId', `must be an integer in [0, ${MAX_ID}], got ${r.vehicleId}`];
  if (!Number.isInteger(r.frame) || r.frame < 0 || r.frame > MAX_ID) return ['frame', `must be an integer in [0, ${MAX_ID}], got ${r.frame}`];
  if (!(Math.abs(r.localXM) <= 1000)) return ['localX', `must be within +-1000 m, got ${r.localXM} m`];
  if (!(r.localYM >= -1000 && r.localYM <= 100000)) return ['localY', `must be in [-1000, 100000] m, got ${r.localYM} m`];
  if (!Number.isNaN(r.speedMps) && !(r.speedMps >= -1 && r.speedMps <= 100)) return ['speed', `must be in [-1, 100] m/s, got ${r.speedMps} m/s`];
  if (!Number.isNaN(r.accMps2) && !(Math.abs(r.accMps2) <= 50)) return ['acceleration', `must be within +-50 m/s^2, got ${r.accMps2} m/s^2`];
  if (!Number.isInteger(r.lane) || r.lane < 0 || r.lane > 99) return ['lane', `must be an integer in [0, 99], got ${r.lane}`];
  if (!Number.isNaN(r.lengthM) && !(r.lengthM > 0 && r.lengthM <= 50)) return ['length', `must be in (0, 50] m, got ${r.lengthM} m`];
  if (!Number.isNaN(r.widthM) && !(r.widthM > 0 && r.widthM <= 10)) return ['width', `must be in (0, 10] m, got ${r.widthM} m`];
  if (!Number.isInteger(r.vClass) || r.vClass < 0 || r.vClass > 9) return ['vClass', `must be an integer in [0, 9], got ${r.vClass}`];
  return null;
}
