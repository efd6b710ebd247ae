/**
 * Units that trajectory files use and their factors to the store's SI units (m, m/s, m/s^2, s).
 * NGSIM raw files are in feet (FOOT_M, data/layout.ts).
 */
import { FOOT_M } from './layout.js';

export type LengthUnit = 'm' | 'ft' | 'cm' | 'km' | 'mi';
export type SpeedUnit = 'm/s' | 'ft/s' | 'km/h' | 'mph';
export type AccelerationUnit = 'm/s2' | 'ft/s2';
export type TimeUnit = 's' | 'ms';

/** Metres per unit. */
export const LENGTH_TO_M: Record<LengthUnit, number> = { m: 1, ft: FOOT_M, cm: 0.01, km: 1000, mi: 1609.344 };
/** Metres per second per unit. */
export const SPEED_TO_MPS: Record<SpeedUnit, number> = { 'm/s': 1, 'ft/s': FOOT_M, 'km/h': 1 / 3.6, mph: 0.44704 };
/** Metres per second squared per unit. */
export const ACCELERATION_TO_MPS2: Record<AccelerationUnit, number> = { 'm/s2': 1, 'ft/s2': FOOT_M };
/** Seconds per unit. */
export const TIME_TO_S: Record<TimeUnit, number> = { s: 1, ms: 0.001 };
