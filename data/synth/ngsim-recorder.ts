/**
 * Records the simulated vehicles inside the study area frame by frame and writes them in the
 * raw NGSIM trajectories format (18 whitespace-separated columns, feet, ft/s, ft/s^2), with the
 * same conventions as the real files: Vehicle_ID in order of entry, rows ordered by vehicle then
 * frame, Total_Frames = the vehicle's row count, Global_Time in ms, Preceding / Following = the
 * nearest vehicle ahead / behind with the same Lane_ID in the study area (0 when none),
 * Space_Headway = front-to-front distance to the preceding vehicle (ft), Time_Headway =
 * Space_Headway / speed (s), 9999.99 when stopped, both 0 without a preceding vehicle.
 * Global_X / Global_Y place the area approximately in the CA State Plane frame of the real data
 * (a fixed rotation and offset, not survey-accurate).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { FOOT_M } from '../layout.js';
import { laneOfLocalX, STUDY_LENGTH_M } from './i80-road.js';
import type { SimVehicle } from './traffic-sim.js';

const M_TO_FT = 1 / FOOT_M;
/** Heading of the road in the state-plane frame (east, north) and the frame's origin, ft. */
const DIR_E = -0.241;
const DIR_N = 0.971;
const ORIGIN_E = 6042850.5;
const ORIGIN_N = 2133084.6;

class Column<T extends Int32Array | Float64Array | Float32Array | Int8Array> {
  a: T;
  constructor(private readonly make: (n: number) => T) {
    this.a = make(1 << 16);
  }
  push(i: number, value: number): void {
    if (i >= this.a.length) {
      const b = this.make(this.a.length * 2);
      b.set(this.a as never);
      this.a = b;
    }
    this.a[i] = value;
  }
}

export interface RecordedSummary {
  rows: number;
  vehicles: number;
  frames: number;
}

export class NgsimRecorder {
  private n = 0;
  private readonly id = new Column((n) => new Int32Array(n));
  private readonly frame = new Column((n) => new Int32Array(n));
  private readonly x = new Column((n) => new Float64Array(n));
  private readonly y = new Column((n) => new Float64Array(n));
  private readonly v = new Column((n) => new Float32Array(n));
  private readonly a = new Column((n) => new Float32Array(n));
  private readonly lane = new Column((n) => new Int8Array(n));
  private readonly prec = new Column((n) => new Int32Array(n));
  private readonly foll = new Column((n) => new Int32Array(n));
  private readonly gap = new Column((n) => new Float64Array(n));
  /** Per vehicle id: length, width (m), class. */
  private readonly sizes: Array<[number, number, number]> = [[0, 0, 0]];
  /** Recording state per vehicle key: 0 not yet in the area, 1 inside, 2 left. */
  private readonly state = new Map<number, number>();
  private frames = 0;

  /** Records one frame (frame ids start at 1 and increase by 1). */
  record(frameId: number, vehicles: readonly SimVehicle[]): void {
    this.frames++;
    const inside: SimVehicle[] = [];
    const entering: SimVehicle[] = [];
    for (const v of vehicles) {
      const st = this.state.get(v.key) ?? 0;
      if (st === 2) continue;
      if (st === 0) {
        if (v.y < 0 || v.y > STUDY_LENGTH_M) continue;
        entering.push(v);
      } else if (v.y > STUDY_LENGTH_M) {
        this.state.set(v.key, 2);
        continue;
      }
      inside.push(v);
    }
    // New ids in order of entry; within a frame, front-most first.
    entering.sort((p, q) => q.y - p.y || p.key - q.key);
    for (const v of entering) {
      this.state.set(v.key, 1);
      v.id = this.sizes.length;
      this.sizes.push([v.d.lengthM, v.d.widthM, v.d.vClass]);
    }
    const byLane = new Map<number, SimVehicle[]>();
    for (const v of inside) {
      const l = laneOfLocalX(v.x);
      let list = byLane.get(l);
      if (!list) byLane.set(l, (list = []));
      list.push(v);
    }
    for (const [l, list] of byLane) {
      list.sort((p, q) => p.y - q.y || p.key - q.key);
      for (let i = 0; i < list.length; i++) {
        const v = list[i]!;
        const ahead = list[i + 1];
        const behind = list[i - 1];
        const k = this.n++;
        this.id.push(k, v.id);
        this.frame.push(k, frameId);
        this.x.push(k, v.x);
        this.y.push(k, v.y);
        this.v.push(k, v.v);
        this.a.push(k, v.acc);
        this.lane.push(k, l);
        this.prec.push(k, ahead ? ahead.id : 0);
        this.foll.push(k, behind ? behind.id : 0);
        this.gap.push(k, ahead ? ahead.y - v.y : 0);
      }
    }
  }

  /**
   * Writes the recording to `path` as raw NGSIM text; `startMs` is the Global_Time of frame 1.
   * Deterministic: the same recording always gives the same bytes.
   */
  write(path: string, startMs: number): RecordedSummary {
    const nVeh = this.sizes.length - 1;
    // Rows by vehicle id, then frame (they were recorded frame by frame).
    const count = new Int32Array(nVeh + 2);
    for (let i = 0; i < this.n; i++) count[this.id.a[i]! + 1]!++;
    for (let k = 1; k < count.length; k++) count[k]! += count[k - 1]!;
    const start = count.slice();
    const order = new Int32Array(this.n);
    for (let i = 0; i < this.n; i++) order[start[this.id.a[i]!]!++] = i;
    const fd = openSync(path, 'w');
    try {
      let buf: string[] = [];
      for (let r = 0; r < this.n; r++) {
        const i = order[r]!;
        const vid = this.id.a[i]!;
        const [lenM, widM, cls] = this.sizes[vid]!;
        const total = count[vid + 1]! - count[vid]!;
        const f = this.frame.a[i]!;
        const xFt = this.x.a[i]! * M_TO_FT;
        const yFt = this.y.a[i]! * M_TO_FT;
        const speedFt = this.v.a[i]! * M_TO_FT;
        const gapFt = this.gap.a[i]! * M_TO_FT;
        const prec = this.prec.a[i]!;
        const headway = prec === 0 ? 0 : speedFt > 0.01 ? Math.min(9999.99, gapFt / speedFt) : 9999.99;
        const gx = ORIGIN_E + DIR_N * xFt + DIR_E * yFt;
        const gy = ORIGIN_N - DIR_E * xFt + DIR_N * yFt;
        buf.push(
          `${String(vid).padStart(5)}${String(f).padStart(6)}${String(total).padStart(5)} ${startMs + (f - 1) * 100} ${xFt.toFixed(3)} ${yFt.toFixed(3)} ${gx.toFixed(3)} ${gy.toFixed(3)} ${(lenM * M_TO_FT).toFixed(1)} ${(widM * M_TO_FT).toFixed(1)} ${cls} ${speedFt.toFixed(2)} ${(this.a.a[i]! * M_TO_FT).toFixed(2)} ${this.lane.a[i]} ${prec} ${this.foll.a[i]} ${gapFt.toFixed(2)} ${headway.toFixed(2)}\n`,
        );
        if (buf.length >= 8192) {
          writeSync(fd, buf.join(''));
          buf = [];
        }
      }
      if (buf.length) writeSync(fd, buf.join(''));
    } finally {
      closeSync(fd);
    }
    return { rows: this.n, vehicles: nVeh, frames: this.frames };
  }
}
