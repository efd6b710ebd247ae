/**
 * Binary full-resolution layers stored as horizontal runs: for each row, sorted disjoint column
 * intervals [start, end) of lit pixels. Shapes are convex polygons in image coordinates
 * (x = column, y = row, pixel (r, c) covering [c, c + 1) x [r, r + 1)); a pixel is lit when its
 * centre is inside: rows with r + 0.5 in [ymin, ymax), columns with c + 0.5 in [xl, xr).
 * Overlapping shapes merge (a pixel is lit once), as when drawing them into one bitmap.
 */

// Disjoint runs a row can hold (lines, cars and road edges across a 96 px row stay well below).
const MAX_RUNS = 32;

export class RunLayer {
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly counts: Uint8Array;
  /** Rows holding at least one run, in the order they were first touched. */
  readonly touched: Int32Array;
  nTouched = 0;

  constructor(
    readonly height: number,
    readonly width: number,
  ) {
    this.starts = new Int32Array(height * MAX_RUNS);
    this.ends = new Int32Array(height * MAX_RUNS);
    this.counts = new Uint8Array(height);
    this.touched = new Int32Array(height);
    this.spanL = new Float64Array(height);
    this.spanR = new Float64Array(height);
  }

  clear(): void {
    for (let i = 0; i < this.nTouched; i++) this.counts[this.touched[i]!] = 0;
    this.nTouched = 0;
  }

  /** Adds the lit interval [s, e) to row r (already clipped to the layer), merging with overlapping runs. */
  addRun(r: number, s: number, e: number): void {
    const counts = this.counts;
    const starts = this.starts;
    const ends = this.ends;
    let n = counts[r]!;
    const base = r * MAX_RUNS;
    if (n === 0) {
      this.touched[this.nTouched++] = r;
      starts[base] = s;
      ends[base] = e;
      counts[r] = 1;
      return;
    }
    // Common case: strictly right of every run so far (shapes drawn left to right).
    if (s > ends[base + n - 1]!) {
      if (n >= MAX_RUNS) throw new Error(`too many runs in row ${r}`);
      starts[base + n] = s;
      ends[base + n] = e;
      counts[r] = n + 1;
      return;
    }
    // Absorb every run that overlaps or touches [s, e), then insert keeping the row sorted.
    let i = 0;
    while (i < n) {
      const rs = starts[base + i]!;
      const re = ends[base + i]!;
      if (re >= s && rs <= e) {
        if (rs < s) s = rs;
        if (re > e) e = re;
        n--;
        for (let k = i; k < n; k++) {
          starts[base + k] = starts[base + k + 1]!;
          ends[base + k] = ends[base + k + 1]!;
        }
      } else i++;
    }
    if (n >= MAX_RUNS) throw new Error(`too many runs in row ${r}`);
    let j = n;
    while (j > 0 && starts[base + j - 1]! > s) {
      starts[base + j] = starts[base + j - 1]!;
      ends[base + j] = ends[base + j - 1]!;
      j--;
    }
    starts[base + j] = s;
    ends[base + j] = e;
    counts[r] = n + 1;
  }

  // Per-row span scratch for addConvex.
  private readonly spanL: Float64Array;
  private readonly spanR: Float64Array;

  /**
   * Scan-converts a convex polygon given by n vertices (xs, ys) in image coordinates, clipped to
   * the layer and to rows [rowMin, rowMax). Each edge is walked over the rows it crosses
   * (row centres y with y0 <= y < y1), widening that row's span.
   */
  addConvex(xs: ArrayLike<number>, ys: ArrayLike<number>, n: number, rowMin = 0, rowMax = this.height): void {
    let ymin = Infinity;
    let ymax = -Infinity;
    let xmin = Infinity;
    let xmax = -Infinity;
    for (let i = 0; i < n; i++) {
      const y = ys[i]!;
      const x = xs[i]!;
      if (y < ymin) ymin = y;
      if (y > ymax) ymax = y;
      if (x < xmin) xmin = x;
      if (x > xmax) xmax = x;
    }
    const W = this.width;
    if (xmax <= 0 || xmin >= W) return;
    const r0 = Math.max(rowMin, Math.ceil(ymin - 0.5));
    const r1 = Math.min(rowMax, Math.ceil(ymax - 0.5));
    if (r0 >= r1) return;
    const L = this.spanL;
    const R = this.spanR;
    for (let r = r0; r < r1; r++) {
      L[r] = Infinity;
      R[r] = -Infinity;
    }
    for (let i = 0, j = n - 1; i < n; j = i++) {
      let ya = ys[j]!;
      let yb = ys[i]!;
      let xa = xs[j]!;
      let xb = xs[i]!;
      if (ya === yb) continue;
      if (ya > yb) {
        const t = ya; ya = yb; yb = t;
        const u = xa; xa = xb; xb = u;
      }
      // Rows whose centre r + 0.5 lies in [ya, yb).
      let ra = Math.ceil(ya - 0.5);
      let rb = Math.ceil(yb - 0.5);
      if (ra < r0) ra = r0;
      if (rb > r1) rb = r1;
      const slope = (xb - xa) / (yb - ya);
      for (let r = ra; r < rb; r++) {
        const x = xa + (r + 0.5 - ya) * slope;
        if (x < L[r]!) L[r] = x;
        if (x > R[r]!) R[r] = x;
      }
    }
    for (let r = r0; r < r1; r++) {
      const xl = L[r]!;
      const xr = R[r]!;
      if (!(xl < xr)) continue;
      let c0 = Math.ceil(xl - 0.5);
      let c1 = Math.ceil(xr - 0.5);
      if (c0 < 0) c0 = 0;
      if (c1 > W) c1 = W;
      if (c0 < c1) this.addRun(r, c0, c1);
    }
  }

  /** Expands the layer into a 0/1 bitmap of height x width (for tests and the naive path). */
  toBitmap(): Uint8Array {
    const out = new Uint8Array(this.height * this.width);
    for (let t = 0; t < this.nTouched; t++) {
      const r = this.touched[t]!;
      for (let k = 0; k < this.counts[r]!; k++) out.fill(1, r * this.width + this.starts[r * MAX_RUNS + k]!, r * this.width + this.ends[r * MAX_RUNS + k]!);
    }
    return out;
  }

  /** Calls fn(row, start, end) for every run. */
  forEachRun(fn: (r: number, s: number, e: number) => void): void {
    for (let t = 0; t < this.nTouched; t++) {
      const r = this.touched[t]!;
      const base = r * MAX_RUNS;
      for (let k = 0; k < this.counts[r]!; k++) fn(r, this.starts[base + k]!, this.ends[base + k]!);
    }
  }
}

export const RUNS_PER_ROW = MAX_RUNS;
