/**
 * Microscopic traffic simulation of the I-80 study area at 10 Hz: IDM car following, MOBIL lane
 * changes with a safe-gap rule, the on-ramp merging into lane 6, heterogeneous drivers and
 * vehicle classes, inflow at the upstream end and a downstream speed limit that sends
 * congestion waves back through the study area (slot-scenarios.ts).
 *
 * Road: Local_Y from ROAD_START_M (upstream, vehicles enter there) to ROAD_END_M; the study area
 * [0, STUDY_LENGTH_M] is what gets recorded. Positions are of the front centre (m), speeds m/s,
 * accelerations m/s^2. A vehicle changing lane occupies both lanes until the manoeuvre ends,
 * so followers in both keep their distance; a final pass over each lane, front to back, keeps
 * every bumper-to-bumper gap at least MIN_GAP_M (no two vehicles ever overlap).
 */
import { Rng } from '../../common/rng.js';
import { DT_S } from '../layout.js';
import { drawDriver, type Driver } from './drivers.js';
import { idmAccMps2 } from './idm.js';
import {
  HOV_LANE, laneCentreAtM, MAINLINE_LANES, RAMP_LANE, RAMP_MERGE_START_M, rampEndM, STUDY_LENGTH_M,
} from './i80-road.js';
import { mobilIncentive, mobilSafe, type MobilParams } from './mobil.js';
import { DownstreamLimit, profileAt, type SlotScenario } from './slot-scenarios.js';

export const ROAD_START_M = -200;
/** The downstream limit takes effect between these positions (beyond the study area). */
const LIMIT_FROM_M = STUDY_LENGTH_M + 60;
const LIMIT_FULL_M = STUDY_LENGTH_M + 140;
export const ROAD_END_M = STUDY_LENGTH_M + 340;
/** Where the queue front stands during the stops of stop-and-go traffic (mainline lanes). */
const STOP_LINE_M = STUDY_LENGTH_M + 100;
/** Smallest bumper-to-bumper gap the final pass allows, m. */
export const MIN_GAP_M = 0.3;
const MAX_DEC_MPS2 = 8;
const LANES = 7;

export interface SimVehicle {
  /** Creation order (internal). */
  key: number;
  /** NGSIM Vehicle_ID, given when the vehicle first enters the study area (0 before). */
  id: number;
  d: Driver;
  /** Front position (Local_Y), m; speed m/s; applied acceleration m/s^2 over the last step. */
  y: number;
  v: number;
  acc: number;
  yPrev: number;
  /** Lane the vehicle drives in (1..7) and, during a lane change, the lane it leaves (else 0). */
  lane: number;
  fromLane: number;
  /** Lane the current manoeuvre started from (0 when none): sets the lateral path. */
  lcFromLane: number;
  lcElapsedS: number;
  /** Lateral front-centre position (Local_X), m. */
  x: number;
  wanderM: number;
  noiseMps2: number;
  nextDecisionS: number;
  /** Per-step scratch: desired speed here, noise-free IDM acceleration, index in lane lists. */
  v0Here: number;
  accIdm: number;
  idx: Int32Array;
}

export interface SimStats {
  inserted: number;
  laneChanges: number;
  merges: number;
  /** Times the final pass had to pull a vehicle back behind its leader. */
  gapClamps: number;
  /** Vehicles still waiting at the upstream end when the run ended (unserved demand). */
  queued: number;
}

const smooth = (u: number) => u * u * (3 - 2 * u);
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

export class TrafficSim {
  readonly vehicles: SimVehicle[] = [];
  readonly stats: SimStats = { inserted: 0, laneChanges: 0, merges: 0, gapClamps: 0, queued: 0 };
  /** Vehicles occupying each lane (1..7), ordered by y ascending; rebuilt every step. */
  private readonly lanes: SimVehicle[][] = Array.from({ length: LANES + 1 }, () => []);
  private readonly queue = new Int32Array(LANES + 1);
  private readonly nextArrivalS = new Float64Array(LANES + 1);
  private readonly limit: DownstreamLimit;
  private nextKey = 0;
  tS: number;

  constructor(
    readonly sc: SlotScenario,
    private readonly rng: Rng,
    startS: number,
  ) {
    this.tS = startS;
    this.limit = new DownstreamLimit(sc, rng, startS);
    for (let l = 1; l <= LANES; l++) this.nextArrivalS[l] = startS + this.interArrivalS(l, startS);
    this.fill();
  }

  private demandVehPerH(lane: number, tS: number): number {
    const minute = Math.max(0, tS / 60);
    if (lane === RAMP_LANE) return profileAt(this.sc.rampVehPerH, minute);
    return profileAt(lane === HOV_LANE ? this.sc.hovVehPerH : this.sc.mainVehPerH, minute);
  }

  private interArrivalS(lane: number, tS: number): number {
    const rate = this.demandVehPerH(lane, tS) / 3600;
    // Arrivals a little more regular than Poisson (platoons from upstream signals are smoothed).
    return rate > 0 ? (0.5 + 0.5 * -Math.log(1 - this.rng.next())) / rate : Infinity;
  }

  private newVehicle(lane: number, y: number, v: number): SimVehicle {
    const d = drawDriver(this.rng, this.sc.mix);
    if (lane === HOV_LANE) d.hov = true;
    const veh: SimVehicle = {
      key: this.nextKey++, id: 0, d, y, v, acc: 0, yPrev: y, lane, fromLane: 0, lcFromLane: 0, lcElapsedS: 0,
      x: laneCentreAtM(lane, y, d.widthM), wanderM: 0, noiseMps2: 0,
      nextDecisionS: this.tS + this.rng.uniform(0, 1), v0Here: d.v0Mps, accIdm: 0, idx: new Int32Array(2),
    };
    this.vehicles.push(veh);
    this.stats.inserted++;
    return veh;
  }

  /** Fills the road at the start with traffic near equilibrium at the scenario's initial speed. */
  private fill(): void {
    for (let lane = 1; lane <= LANES; lane++) {
      const v = lane === HOV_LANE ? this.sc.initialSpeedMps * 1.4 : this.sc.initialSpeedMps;
      let y = lane === RAMP_LANE ? RAMP_MERGE_START_M - 10 : ROAD_END_M - 20;
      while (y > ROAD_START_M + 30) {
        const veh = this.newVehicle(lane, y, v);
        const gap = veh.d.jamGapM + v * veh.d.timeGapS * (lane === RAMP_LANE ? 3 : 1.1);
        y -= veh.d.lengthM + gap + this.rng.uniform(0, 4);
      }
    }
  }

  private rebuildLanes(): void {
    for (let l = 1; l <= LANES; l++) this.lanes[l]!.length = 0;
    for (const v of this.vehicles) {
      this.lanes[v.lane]!.push(v);
      if (v.fromLane) this.lanes[v.fromLane]!.push(v);
    }
    for (let l = 1; l <= LANES; l++) {
      const list = this.lanes[l]!;
      list.sort((a, b) => a.y - b.y || a.key - b.key);
      for (let i = 0; i < list.length; i++) {
        const v = list[i]!;
        v.idx[v.lane === l ? 0 : 1] = i;
      }
    }
  }

  /** The next vehicle ahead in `lane`'s list (undefined when none, or when v joined the lane this step). */
  private leaderIn(v: SimVehicle, lane: number): SimVehicle | undefined {
    const list = this.lanes[lane]!;
    const i = v.idx[v.lane === lane ? 0 : 1]!;
    return i >= 0 && list[i] === v ? list[i + 1] : undefined;
  }

  /** Noise-free IDM acceleration of `f` behind `lead` (free road when undefined). */
  private accBehind(f: SimVehicle, lead: SimVehicle | undefined, fY = f.y): number {
    if (!lead) return idmAccMps2(f.v, f.v0Here, Infinity, 0, f.d);
    return idmAccMps2(f.v, f.v0Here, lead.y - lead.d.lengthM - fY, f.v - lead.v, f.d);
  }

  /** Acceleration of `v` in its lane(s), with the ramp's end (and a stopped queue front) as standing obstacles. */
  private laneAcc(v: SimVehicle, stopped: boolean): number {
    let a = this.accBehind(v, this.leaderIn(v, v.lane));
    if (stopped && v.lane !== HOV_LANE && v.lane !== RAMP_LANE) {
      // Only drivers who can still stop without hard braking heed it.
      const gap = STOP_LINE_M - v.y;
      if (gap > (v.v * v.v) / (2 * 4) + 1) a = Math.min(a, idmAccMps2(v.v, v.v0Here, gap, v.v, v.d));
    }
    if (v.fromLane) a = Math.min(a, this.accBehind(v, this.leaderIn(v, v.fromLane)));
    if (v.lane === RAMP_LANE) {
      // The ramp's end is a standing obstacle, heeded only in its last 60 m (drivers keep their
      // speed while they look for a gap, as on real ramps).
      const gap = rampEndM(v.d.widthM) - v.y;
      if (gap < 60) a = Math.min(a, idmAccMps2(v.v, v.v0Here, gap, v.v, v.d));
    }
    return a;
  }

  /**
   * Zipper merging: a cooperative lane-6 driver (politeness above 0.1) lets a ramp vehicle that
   * wants to merge in ahead of it, by following it as if it were already in lane 6.
   */
  private yieldToMerging(): void {
    const lane6 = this.lanes[MAINLINE_LANES]!;
    for (const r of this.lanes[RAMP_LANE]!) {
      if (r.lane !== RAMP_LANE || r.lcFromLane || r.y - r.d.lengthM < RAMP_MERGE_START_M) continue;
      // The lane-6 vehicle nearest behind the ramp vehicle's rear.
      let lo = 0;
      let hi = lane6.length;
      const rear = r.y - r.d.lengthM;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (lane6[mid]!.y < rear - 0.5) lo = mid + 1;
        else hi = mid;
      }
      const v = lane6[lo - 1];
      if (!v || v.lane !== MAINLINE_LANES || v.d.politeness <= 0.1 || rear - v.y > 25) continue;
      v.accIdm = Math.min(v.accIdm, this.accBehind(v, r));
    }
  }

  private insertArrivals(): void {
    for (let lane = 1; lane <= LANES; lane++) {
      while (this.tS >= this.nextArrivalS[lane]!) {
        this.queue[lane]!++;
        this.nextArrivalS[lane]! += this.interArrivalS(lane, this.tS);
      }
      if (this.queue[lane]! === 0) continue;
      const list = this.lanes[lane]!;
      const last = list[0];
      const gap = last ? last.y - last.d.lengthM - ROAD_START_M : Infinity;
      const vIn = Math.min(last ? last.v + 1 : 16, 16);
      // The driver drawn decides the gap it accepts; a refused one stays queued and is redrawn later.
      const mark = this.rng.next();
      const need = 2 + vIn * (1.0 + 0.4 * mark);
      if (gap < need) continue;
      const veh = this.newVehicle(lane, ROAD_START_M, Math.min(vIn, 16));
      veh.v = Math.min(veh.v, veh.d.v0Mps);
      this.queue[lane]!--;
    }
  }

  /** Considers a lane change for `v` (MOBIL), starting one when worthwhile and safe. */
  private decide(v: SimVehicle, pending: Array<[number, SimVehicle]>): void {
    const targets: number[] = [];
    if (v.lane === RAMP_LANE) {
      if (v.y - v.d.lengthM < RAMP_MERGE_START_M) return;
      targets.push(MAINLINE_LANES);
    } else {
      if (v.lane > 1 && (v.lane - 1 !== HOV_LANE || v.d.hov)) targets.push(v.lane - 1);
      if (v.lane < MAINLINE_LANES) targets.push(v.lane + 1);
    }
    const ramp = v.lane === RAMP_LANE;
    const urgency = ramp ? clamp((v.y - RAMP_MERGE_START_M) / (rampEndM(v.d.widthM) - RAMP_MERGE_START_M), 0, 1) : 0;
    const p: MobilParams = {
      politeness: v.d.politeness,
      thresholdMps2: ramp ? 0 : 0.4,
      safeDecMps2: ramp ? 2.5 + 3 * urgency : 2,
      minGapM: ramp ? 0.8 + 1.2 * (1 - urgency) : 2,
    };
    const oldFollower = this.lanes[v.lane]![v.idx[0]! - 1];
    const oldLeader = this.leaderIn(v, v.lane);
    let best = 0;
    let bestLane = 0;
    for (const t of targets) {
      const list = this.lanes[t]!;
      // Binary search: first vehicle of lane t ahead of v's front.
      let lo = 0;
      let hi = list.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (list[mid]!.y <= v.y) lo = mid + 1;
        else hi = mid;
      }
      const lead = list[lo];
      const fol = list[lo - 1];
      let gapAhead = lead ? lead.y - lead.d.lengthM - v.y : Infinity;
      let gapBehind = fol ? v.y - v.d.lengthM - fol.y : Infinity;
      for (const [pl, pv] of pending) {
        if (pl !== t) continue;
        if (pv.y > v.y) gapAhead = Math.min(gapAhead, pv.y - pv.d.lengthM - v.y);
        else gapBehind = Math.min(gapBehind, v.y - v.d.lengthM - pv.y);
      }
      const selfAfter = this.accBehind(v, lead);
      const input = {
        selfNow: v.accIdm,
        selfAfter,
        newFollowerNow: fol ? fol.accIdm : NaN,
        newFollowerAfter: fol ? idmAccMps2(fol.v, fol.v0Here, v.y - v.d.lengthM - fol.y, fol.v - v.v, fol.d) : NaN,
        oldFollowerNow: oldFollower ? oldFollower.accIdm : NaN,
        oldFollowerAfter: oldFollower ? this.accBehind(oldFollower, oldLeader) : NaN,
        gapAheadM: gapAhead,
        gapBehindM: gapBehind,
        biasMps2: ramp ? 3 + 5 * urgency : t === HOV_LANE && v.d.hov ? 0.3 : t > v.lane ? 0.05 : 0,
      };
      if (!mobilSafe(input, p)) continue;
      const inc = mobilIncentive(input, p);
      if (inc > best) {
        best = inc;
        bestLane = t;
      }
    }
    if (bestLane === 0) return;
    v.fromLane = v.lane;
    v.lcFromLane = v.lane;
    v.lane = bestLane;
    v.lcElapsedS = 0;
    // Until the next rebuild v is listed only in the lane it leaves.
    v.idx[1] = v.idx[0]!;
    v.idx[0] = -1;
    pending.push([bestLane, v]);
    if (ramp) this.stats.merges++;
    else this.stats.laneChanges++;
  }

  /** Advances the simulation by one step of DT_S. */
  step(): void {
    const t = this.tS;
    this.limit.step(t, DT_S);
    this.rebuildLanes();
    this.insertArrivals();
    this.rebuildLanes();

    for (const v of this.vehicles) {
      let v0 = v.d.v0Mps;
      if (v.y > LIMIT_FROM_M) {
        const lim = Math.min(v0, this.limit.limitMps(v.lane, t));
        v0 += (lim - v0) * smooth(clamp((v.y - LIMIT_FROM_M) / (LIMIT_FULL_M - LIMIT_FROM_M), 0, 1));
      }
      v.v0Here = v0;
    }
    const stopped = this.limit.stoppedAt(t);
    for (const v of this.vehicles) v.accIdm = this.laneAcc(v, stopped);
    this.yieldToMerging();

    const pending: Array<[number, SimVehicle]> = [];
    for (const v of this.vehicles) {
      if (v.lcFromLane || t < v.nextDecisionS) continue;
      v.nextDecisionS = t + (v.lane === RAMP_LANE ? 0.3 : this.rng.uniform(0.7, 1.3));
      this.decide(v, pending);
    }

    // Longitudinal motion, with the driver's own noise (weaker when crawling).
    for (const v of this.vehicles) {
      const d = v.d;
      v.noiseMps2 += (-v.noiseMps2 * DT_S) / d.noiseTauS + d.noiseMps2 * Math.sqrt((2 * DT_S) / d.noiseTauS) * this.rng.normal();
      const a = clamp(v.accIdm + v.noiseMps2 * Math.min(1, v.v / 3), -MAX_DEC_MPS2, d.accMps2 * 1.5);
      v.yPrev = v.y;
      let vNew = v.v + a * DT_S;
      if (vNew < 0) {
        v.y += a < 0 ? Math.min(v.v * DT_S, (v.v * v.v) / (-2 * a)) : 0;
        vNew = 0;
      } else v.y += ((v.v + vNew) / 2) * DT_S;
      v.acc = (vNew - v.v) / DT_S;
      v.v = vNew;
    }

    // No overlaps: front to back (by position before the move), behind every leader in each lane.
    const order = [...this.vehicles].sort((a, b) => b.yPrev - a.yPrev || a.key - b.key);
    for (const v of order) {
      for (const lane of v.fromLane ? [v.lane, v.fromLane] : [v.lane]) {
        const lead = this.leaderIn(v, lane);
        if (!lead) continue;
        const maxY = lead.y - lead.d.lengthM - MIN_GAP_M;
        if (v.y > maxY) {
          const vOld = v.v - v.acc * DT_S;
          v.y = maxY;
          v.v = Math.min(v.v, lead.v);
          v.acc = (v.v - vOld) / DT_S;
          this.stats.gapClamps++;
        }
      }
    }

    // Lateral motion: lane-change manoeuvres and a slow wander inside the lane.
    for (const v of this.vehicles) {
      v.wanderM += (-v.wanderM * DT_S) / 4 + 0.12 * Math.sqrt((2 * DT_S) / 4) * this.rng.normal();
      v.wanderM = clamp(v.wanderM, -0.3, 0.3);
      const to = laneCentreAtM(v.lane, v.y, v.d.widthM);
      if (v.lcFromLane) {
        v.lcElapsedS += DT_S;
        const u = Math.min(1, v.lcElapsedS / v.d.laneChangeS);
        const from = laneCentreAtM(v.lcFromLane, v.y, v.d.widthM);
        v.x = from + (to - from) * smooth(u);
        // The old lane is free once the body has cleared the widest vehicle centred in it.
        if (Math.abs(v.x - from) >= (v.d.widthM + 2.6) / 2 + 0.4) v.fromLane = 0;
        if (u >= 1) v.fromLane = v.lcFromLane = 0;
      } else {
        v.x = to + (v.lane === RAMP_LANE ? 0 : v.wanderM);
      }
    }

    // Leave at the downstream end.
    let w = 0;
    for (const v of this.vehicles) if (v.y - v.d.lengthM <= ROAD_END_M) this.vehicles[w++] = v;
    this.vehicles.length = w;
    this.tS = t + DT_S;
    this.stats.queued = this.queue.reduce((s, q) => s + q, 0);
  }
}
