/**
 * The three I-80 slots as synthetic scenarios: inflow demands (vehicles per hour per lane, for
 * the HOV lane, the five other mainline lanes and the on-ramp) and a downstream speed limit
 * beyond the study area that stands for the bottleneck downstream of the real site. Congestion
 * and its waves enter the study area from there, upstream at kinematic-wave speed:
 *   0400-0415 build-up: speeds fall from near 12 m/s to about 7-9 m/s, with slow oscillations;
 *   0500-0515 transition: slower and more variable traffic, occasional deep dips;
 *   0515-0530 full congestion: 3-6 m/s with stop-and-go waves every 1.5-3 minutes.
 * The numbers are ours, calibrated so that `ppuu data realism` matches the real 4:00-4:15 sample.
 */
import type { Rng } from '../../common/rng.js';
import type { I80Slot } from '../slots.js';
import type { DriverMix } from './drivers.js';

/** Piecewise-linear function of time given as [minute, value] knots. */
export type Profile = ReadonlyArray<readonly [number, number]>;

export function profileAt(p: Profile, minute: number): number {
  if (minute <= p[0]![0]) return p[0]![1];
  for (let i = 1; i < p.length; i++) {
    const [t1, v1] = p[i]!;
    if (minute <= t1) {
      const [t0, v0] = p[i - 1]!;
      return v0 + ((v1 - v0) * (minute - t0)) / (t1 - t0);
    }
  }
  return p[p.length - 1]![1];
}

export interface StopAndGo {
  /** Time between the starts of two dips, drawn uniformly in [min, max] s. */
  intervalS: readonly [number, number];
  /** Speed limit at the bottom of a dip, m/s, and the dip's length, s. */
  dipMps: number;
  dipS: number;
  /** Whether the middle of each dip is a full stop (a standing queue front), as in stop-and-go traffic. */
  stop: boolean;
}

export interface SlotScenario {
  slot: I80Slot;
  /** Global_Time (ms since the epoch) of frame 1: the slot's start on 2005-04-13, PDT. */
  startMs: number;
  /** Demand, veh/h per lane, over the slot's minutes. */
  hovVehPerH: Profile;
  mainVehPerH: Profile;
  rampVehPerH: Profile;
  /** Mean downstream speed limit, m/s, over minutes, for the HOV lane and the other lanes. */
  hovLimitMps: Profile;
  mainLimitMps: Profile;
  /**
   * Oscillation of the limit shared by all lanes (the waves of congested traffic): amplitude
   * (m/s) and period (s); each cycle's length varies by +-25 %.
   */
  waveMps: number;
  wavePeriodS: number;
  /** Random fluctuation of the limit: standard deviation (m/s) and correlation time (s). */
  fluctuationMps: number;
  fluctuationTauS: number;
  stopAndGo: StopAndGo | null;
  /** Speed of the traffic that fills the road at the start of the warm-up, m/s. */
  initialSpeedMps: number;
  mix: DriverMix;
}

const pdt = (h: number, m: number) => Date.UTC(2005, 3, 13, h + 7, m, 0);

const MIX: DriverMix = {
  classes: { motorcycle: 0.008, truck: 0.035 },
  hovShare: 0.18,
  v0MedianMps: 28,
  timeGapMedianS: 1.35,
  accMedianMps2: 1.8,
  noiseMps2: 0.6,
};

/** The 5:15 drivers: the same, with the weaker acceleration that lets stop-and-go waves grow. */
const MIX_JAM: DriverMix = { ...MIX, accMedianMps2: 1.1 };

export const SLOT_SCENARIOS: Record<I80Slot, SlotScenario> = {
  '0400-0415': {
    slot: '0400-0415',
    startMs: pdt(16, 0),
    hovVehPerH: [[0, 2200], [15, 2200]],
    mainVehPerH: [[0, 2200], [15, 2200]],
    rampVehPerH: [[0, 300], [15, 300]],
    hovLimitMps: [[0, 23], [15, 23]],
    mainLimitMps: [[0, 16.5], [15, 16.5]],
    waveMps: 2,
    wavePeriodS: 150,
    fluctuationMps: 1.2,
    fluctuationTauS: 30,
    stopAndGo: { intervalS: [90, 180], dipMps: 3, dipS: 20, stop: false },
    initialSpeedMps: 11,
    mix: MIX,
  },
  '0500-0515': {
    slot: '0500-0515',
    startMs: pdt(17, 0),
    hovVehPerH: [[0, 2200], [15, 2200]],
    mainVehPerH: [[0, 2200], [15, 2200]],
    rampVehPerH: [[0, 350], [15, 350]],
    hovLimitMps: [[0, 19], [15, 17]],
    mainLimitMps: [[0, 14], [15, 12.5]],
    waveMps: 2.5,
    wavePeriodS: 150,
    fluctuationMps: 1.2,
    fluctuationTauS: 30,
    stopAndGo: { intervalS: [120, 240], dipMps: 1.5, dipS: 20, stop: false },
    initialSpeedMps: 8,
    mix: MIX,
  },
  '0515-0530': {
    slot: '0515-0530',
    startMs: pdt(17, 15),
    hovVehPerH: [[0, 2200], [15, 2200]],
    mainVehPerH: [[0, 2200], [15, 2200]],
    rampVehPerH: [[0, 350], [15, 350]],
    hovLimitMps: [[0, 15], [15, 14]],
    mainLimitMps: [[0, 12], [15, 11.5]],
    waveMps: 2,
    wavePeriodS: 120,
    fluctuationMps: 1,
    fluctuationTauS: 30,
    stopAndGo: { intervalS: [100, 160], dipMps: 0.3, dipS: 40, stop: true },
    initialSpeedMps: 6,
    mix: MIX_JAM,
  },
};

/**
 * The downstream speed limit of each lane over time: the scenario's mean, plus a fluctuation
 * shared by all lanes (an Ornstein-Uhlenbeck process) and a smaller per-lane one, with
 * stop-and-go dips (a cosine-shaped drop to dipMps) where the scenario has them.
 */
export class DownstreamLimit {
  private shared = 0;
  private phase: number;
  private periodS: number;
  private readonly perLane = new Float64Array(8);
  private nextDipS: number;
  private dipStartS = -Infinity;

  constructor(
    private readonly sc: SlotScenario,
    private readonly rng: Rng,
    startS: number,
  ) {
    this.nextDipS = sc.stopAndGo ? startS + rng.uniform(0, sc.stopAndGo.intervalS[1]) : Infinity;
    this.phase = rng.uniform(0, 2 * Math.PI);
    this.periodS = sc.wavePeriodS * rng.uniform(0.75, 1.25);
  }

  /** Advances the random parts by dt seconds to time tS. */
  step(tS: number, dtS: number): void {
    const tau = this.sc.fluctuationTauS;
    const k = Math.sqrt((2 * dtS) / tau);
    this.shared += (-this.shared * dtS) / tau + this.sc.fluctuationMps * k * this.rng.normal();
    for (let l = 1; l <= 7; l++) this.perLane[l]! += (-this.perLane[l]! * dtS) / tau + 0.5 * this.sc.fluctuationMps * k * this.rng.normal();
    this.phase += (2 * Math.PI * dtS) / this.periodS;
    if (this.phase >= 2 * Math.PI) {
      this.phase -= 2 * Math.PI;
      this.periodS = this.sc.wavePeriodS * this.rng.uniform(0.75, 1.25);
    }
    const sg = this.sc.stopAndGo;
    if (sg && tS >= this.nextDipS) {
      this.dipStartS = this.nextDipS;
      this.nextDipS += this.rng.uniform(sg.intervalS[0], sg.intervalS[1]);
    }
  }

  /** Whether the downstream queue front stands still at time tS (the middle half of a stopping dip). */
  stoppedAt(tS: number): boolean {
    const sg = this.sc.stopAndGo;
    if (!sg || !sg.stop) return false;
    const u = (tS - this.dipStartS) / sg.dipS;
    return u >= 0.25 && u <= 0.75;
  }

  /** Speed limit (m/s) of `lane` at time tS (minutes since the slot's start = tS / 60). */
  limitMps(lane: number, tS: number): number {
    const minute = tS / 60;
    const mean = profileAt(lane === 1 ? this.sc.hovLimitMps : this.sc.mainLimitMps, minute);
    let v = mean + this.sc.waveMps * Math.sin(this.phase) + this.shared + this.perLane[lane]!;
    const sg = this.sc.stopAndGo;
    if (sg) {
      const u = (tS - this.dipStartS) / sg.dipS;
      if (u >= 0 && u <= 1) {
        const depth = 0.5 - 0.5 * Math.cos(2 * Math.PI * u);
        v = v + (sg.dipMps - v) * depth * (lane === 1 ? 0.6 : 1);
      }
    }
    return Math.max(0.3, v);
  }
}
