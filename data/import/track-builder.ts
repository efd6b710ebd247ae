/**
 * Collects validated rows (in any order, from several files) into per-vehicle tracks ordered
 * by frame. Rows are kept column-wise in growable typed arrays (about 45 bytes a row), grouped
 * by vehicle with a counting sort and ordered by frame within each vehicle at the end.
 * Same vehicle and frame twice: an exact copy is dropped and counted; a copy with different
 * values is a conflicting duplicate (the row read first is kept, the other is reported).
 */
import type { VehicleTrack } from '../tracks.js';
import type { RowIssues } from './issues.js';
import type { RowField, TrajectoryRow } from './row.js';

class Grow<T extends Int32Array | Float32Array | Int16Array | Uint16Array | Uint8Array> {
  a: T;
  constructor(private readonly make: (n: number) => T) {
    this.a = make(1 << 16);
  }
  ensure(n: number): void {
    if (n <= this.a.length) return;
    const b = this.make(Math.max(n, this.a.length * 2));
    b.set(this.a as never);
    this.a = b;
  }
}

export interface BuildStats {
  duplicatesDropped: number;
  /** Rows whose frame was lower than the previous row of the same vehicle (they are reordered). */
  outOfOrderRows: number;
  gaps: { vehicles: number; missingFrames: number };
}

export class TrackBuilder {
  private n = 0;
  private readonly vIdx = new Grow((n) => new Int32Array(n));
  private readonly frame = new Grow((n) => new Int32Array(n));
  private readonly x = new Grow((n) => new Float32Array(n));
  private readonly y = new Grow((n) => new Float32Array(n));
  private readonly v = new Grow((n) => new Float32Array(n));
  private readonly acc = new Grow((n) => new Float32Array(n));
  private readonly len = new Grow((n) => new Float32Array(n));
  private readonly wid = new Grow((n) => new Float32Array(n));
  private readonly lane = new Grow((n) => new Int16Array(n));
  private readonly cls = new Grow((n) => new Uint8Array(n));
  private readonly fileIdx = new Grow((n) => new Uint16Array(n));
  private readonly line = new Grow((n) => new Int32Array(n));
  private readonly index = new Map<number, number>();
  private readonly ids: number[] = [];
  private readonly lastFrame: number[] = [];
  private outOfOrder = 0;
  private readonly files: string[] = [];

  /** Registers a source file; returns its index for add(). */
  addFile(name: string): number {
    this.files.push(name);
    return this.files.length - 1;
  }

  get rows(): number {
    return this.n;
  }

  add(r: TrajectoryRow, file: number, line: number): void {
    let k = this.index.get(r.vehicleId);
    if (k === undefined) {
      k = this.ids.length;
      this.index.set(r.vehicleId, k);
      this.ids.push(r.vehicleId);
      this.lastFrame.push(-1);
    }
    if (r.frame < this.lastFrame[k]!) this.outOfOrder++;
    this.lastFrame[k] = r.frame;
    const i = this.n++;
    if (i >= this.vIdx.a.length) {
      for (const g of [this.vIdx, this.frame, this.x, this.y, this.v, this.acc, this.len, this.wid, this.lane, this.cls, this.fileIdx, this.line]) {
        (g as Grow<Int32Array>).ensure(i + 1);
      }
    }
    this.vIdx.a[i] = k;
    this.frame.a[i] = r.frame;
    this.x.a[i] = r.localXM;
    this.y.a[i] = r.localYM;
    this.v.a[i] = r.speedMps;
    this.acc.a[i] = r.accMps2;
    this.len.a[i] = r.lengthM;
    this.wid.a[i] = r.widthM;
    this.lane.a[i] = r.lane;
    this.cls.a[i] = r.vClass;
    this.fileIdx.a[i] = file;
    this.line.a[i] = line;
  }

  /** First field where rows i and j differ (NaN equals NaN), or null when they are the same. */
  private differs(i: number, j: number): RowField | null {
    const same = (a: number, b: number) => a === b || (a !== a && b !== b);
    if (!same(this.x.a[i]!, this.x.a[j]!)) return 'localX';
    if (!same(this.y.a[i]!, this.y.a[j]!)) return 'localY';
    if (!same(this.v.a[i]!, this.v.a[j]!)) return 'speed';
    if (!same(this.acc.a[i]!, this.acc.a[j]!)) return 'acceleration';
    if (this.lane.a[i] !== this.lane.a[j]) return 'lane';
    if (!same(this.len.a[i]!, this.len.a[j]!)) return 'length';
    if (!same(this.wid.a[i]!, this.wid.a[j]!)) return 'width';
    if (this.cls.a[i] !== this.cls.a[j]) return 'vClass';
    return null;
  }

  /**
   * Groups the rows into tracks (vehicles by ascending id, rows by ascending frame), dropping
   * exact duplicates and reporting conflicting ones through `issues`.
   */
  finish(issues: RowIssues): { vehicles: VehicleTrack[]; stats: BuildStats } {
    const nv = this.ids.length;
    const order = this.ids.map((_, k) => k).sort((a, b) => this.ids[a]! - this.ids[b]!);
    // Counting sort of rows by vehicle; rows of a vehicle keep their reading order.
    const count = new Int32Array(nv + 1);
    for (let i = 0; i < this.n; i++) count[this.vIdx.a[i]! + 1]!++;
    const start = new Int32Array(nv + 1);
    for (let k = 0; k < nv; k++) start[k + 1] = start[k]! + count[k + 1]!;
    const pos = start.slice(0, nv);
    const rowsOf = new Int32Array(this.n);
    for (let i = 0; i < this.n; i++) rowsOf[pos[this.vIdx.a[i]!]!++] = i;

    const stats: BuildStats = { duplicatesDropped: 0, outOfOrderRows: this.outOfOrder, gaps: { vehicles: 0, missingFrames: 0 } };
    const vehicles: VehicleTrack[] = [];
    for (const k of order) {
      let rows = rowsOf.subarray(start[k]!, start[k + 1]!);
      let sorted = true;
      for (let t = 1; t < rows.length; t++) if (this.frame.a[rows[t]!]! < this.frame.a[rows[t - 1]!]!) sorted = false;
      if (!sorted) rows = Int32Array.from(rows).sort((a, b) => this.frame.a[a]! - this.frame.a[b]! || a - b);
      const keep: number[] = [];
      for (let t = 0; t < rows.length; t++) {
        const i = rows[t]!;
        const prev = keep.length > 0 ? keep[keep.length - 1]! : -1;
        if (prev >= 0 && this.frame.a[prev] === this.frame.a[i]) {
          const field = this.differs(prev, i);
          if (field === null) stats.duplicatesDropped++;
          else {
            issues.bad('conflictingDuplicate', this.files[this.fileIdx.a[i]!]!, this.line.a[i]!, field,
              `vehicle ${this.ids[k]} frame ${this.frame.a[i]} is also at ${this.files[this.fileIdx.a[prev]!]}:${this.line.a[prev]} with a different ${field}; the first is kept`);
          }
          continue;
        }
        keep.push(i);
      }
      if (keep.length === 0) continue;
      const m = keep.length;
      const track: VehicleTrack = {
        vehicleId: this.ids[k]!,
        frames: new Int32Array(m),
        localXM: new Float32Array(m),
        localYM: new Float32Array(m),
        speedMps: new Float32Array(m),
        accMps2: new Float32Array(m),
        lane: new Int16Array(m),
        lengthM: this.len.a[keep[0]!]!,
        widthM: this.wid.a[keep[0]!]!,
        vClass: this.cls.a[keep[0]!]!,
      };
      let missing = 0;
      for (let t = 0; t < m; t++) {
        const i = keep[t]!;
        track.frames[t] = this.frame.a[i]!;
        track.localXM[t] = this.x.a[i]!;
        track.localYM[t] = this.y.a[i]!;
        track.speedMps[t] = this.v.a[i]!;
        track.accMps2[t] = this.acc.a[i]!;
        track.lane[t] = this.lane.a[i]!;
        if (t > 0) missing += track.frames[t]! - track.frames[t - 1]! - 1;
      }
      if (missing > 0) {
        stats.gaps.vehicles++;
        stats.gaps.missingFrames += missing;
      }
      vehicles.push(track);
    }
    return { vehicles, stats };
  }
}
