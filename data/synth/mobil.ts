/**
 * MOBIL lane changes (Kesting, Treiber, Helbing 2007): change lane when the own advantage plus
 * `politeness` times the others' (the new and the old follower) exceeds a threshold, and only
 * if the new follower would not have to brake harder than `safeDecMps2` and both gaps stay
 * above a minimum (the safe-gap rule). Accelerations are in m/s^2, gaps in m.
 */

export interface MobilParams {
  politeness: number;
  /** Minimum advantage, m/s^2. */
  thresholdMps2: number;
  /** Largest deceleration imposed on the new follower (and on oneself), m/s^2. */
  safeDecMps2: number;
  /** Smallest bumper-to-bumper gap accepted ahead and behind, m. */
  minGapM: number;
}

export interface MobilInput {
  /** Own acceleration now and after the change. */
  selfNow: number;
  selfAfter: number;
  /** New follower (in the target lane): now, and after the change; NaN if there is none. */
  newFollowerNow: number;
  newFollowerAfter: number;
  /** Old follower (in the current lane): now, and after the change; NaN if there is none. */
  oldFollowerNow: number;
  oldFollowerAfter: number;
  /** Bumper-to-bumper gaps in the target lane, to the new leader and from the new follower. */
  gapAheadM: number;
  gapBehindM: number;
  /** Extra incentive for this target (keep-right, HOV preference, must-merge), m/s^2. */
  biasMps2: number;
}

/** Whether the change is safe (gaps and braking imposed). */
export function mobilSafe(i: MobilInput, p: MobilParams): boolean {
  if (i.gapAheadM < p.minGapM || i.gapBehindM < p.minGapM) return false;
  if (i.selfAfter < -p.safeDecMps2) return false;
  return Number.isNaN(i.newFollowerAfter) || i.newFollowerAfter >= -p.safeDecMps2;
}

/** The MOBIL incentive (m/s^2) of the change; change when it is above 0 and the change is safe. */
export function mobilIncentive(i: MobilInput, p: MobilParams): number {
  const dNew = Number.isNaN(i.newFollowerAfter) ? 0 : i.newFollowerAfter - i.newFollowerNow;
  const dOld = Number.isNaN(i.oldFollowerAfter) ? 0 : i.oldFollowerAfter - i.oldFollowerNow;
  return i.selfAfter - i.selfNow + p.politeness * (dNew + dOld) - p.thresholdMps2 + i.biasMps2;
}
