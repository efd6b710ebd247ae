/**
 * Vehicle classes and heterogeneous drivers of the synthetic traffic. Sizes follow the NGSIM
 * I-80 vehicles (cars about 4.5 m by 1.8 m, trucks and buses 8-20 m by 2.5 m, motorcycles
 * about 2.2 m by 0.9 m); each driver draws a desired speed, time gap, maximum acceleration,
 * comfortable deceleration, jam gap, politeness and driving noise.
 */
import type { Rng } from '../../common/rng.js';
import type { IdmParams } from './idm.js';

/** NGSIM v_Class codes. */
export const MOTORCYCLE = 1;
export const CAR = 2;
export const TRUCK = 3;

export interface ClassShares {
  motorcycle: number;
  truck: number;
}

export interface Driver extends IdmParams {
  vClass: number;
  lengthM: number;
  widthM: number;
  politeness: number;
  /** May use the HOV lane (lane 1). */
  hov: boolean;
  /** Standard deviation (m/s^2) and correlation time (s) of the driver's acceleration noise. */
  noiseMps2: number;
  noiseTauS: number;
  /** Lane-change manoeuvre duration, s. */
  laneChangeS: number;
}

export interface DriverMix {
  classes: ClassShares;
  /** Share of vehicles allowed in the HOV lane. */
  hovShare: number;
  /** Median desired speed of cars, m/s. */
  v0MedianMps: number;
  /** Median desired time gap, s. */
  timeGapMedianS: number;
  /** Median maximum acceleration of cars, m/s^2 (lower values make congested traffic less stable). */
  accMedianMps2: number;
  /** Typical acceleration-noise level, m/s^2. */
  noiseMps2: number;
}

const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** Draws one vehicle and its driver. */
export function drawDriver(rng: Rng, mix: DriverMix): Driver {
  const u = rng.next();
  const vClass = u < mix.classes.motorcycle ? MOTORCYCLE : u < mix.classes.motorcycle + mix.classes.truck ? TRUCK : CAR;
  let lengthM: number;
  let widthM: number;
  if (vClass === MOTORCYCLE) {
    lengthM = clamp(rng.normal(2.2, 0.15), 1.8, 2.6);
    widthM = clamp(rng.normal(0.9, 0.08), 0.7, 1.1);
  } else if (vClass === TRUCK) {
    lengthM = rng.next() < 0.6 ? clamp(rng.normal(10, 1.5), 7, 13) : clamp(rng.normal(16.5, 2), 13, 22);
    widthM = clamp(rng.normal(2.5, 0.05), 2.35, 2.6);
  } else {
    lengthM = clamp(rng.normal(4.6, 0.55), 3.6, 6.2);
    widthM = clamp(rng.normal(1.85, 0.1), 1.6, 2.15);
  }
  const truck = vClass === TRUCK;
  const timeGapS = clamp(mix.timeGapMedianS * Math.exp(rng.normal(0, 0.4)), 0.6, 3.5) * (truck ? 1.15 : 1);
  return {
    vClass,
    lengthM,
    widthM,
    v0Mps: clamp(rng.normal(mix.v0MedianMps, 3), 20, 36) * (truck ? 0.88 : 1),
    timeGapS,
    accMps2: truck ? clamp(rng.normal(mix.accMedianMps2 / 2, 0.15), 0.4, 1.3) : clamp(rng.normal(mix.accMedianMps2, 0.35), 0.7, 2.8),
    decMps2: truck ? clamp(rng.normal(1.5, 0.2), 1.0, 2.0) : clamp(rng.normal(2.0, 0.35), 1.2, 3.0),
    jamGapM: clamp(rng.normal(1.1, 0.3), 0.5, 2.0),
    politeness: rng.uniform(0, 0.5),
    hov: !truck && rng.next() < mix.hovShare,
    noiseMps2: mix.noiseMps2 * clamp(Math.exp(rng.normal(0, 0.35)), 0.4, 2.2),
    noiseTauS: rng.uniform(0.4, 0.9),
    laneChangeS: truck ? rng.uniform(4.5, 6.0) : rng.uniform(3.0, 5.0),
  };
}
