/**
 * Realism report: compares car-following statistics of two trajectory files (a real one and a
 * synthetic one). Samples are the rows of followers in lanes 1-3 (the real I-80 sample's
 * coverage) inside car-following episodes: at least `minFollowS` seconds of consecutive frames
 * behind the same preceding vehicle in the same lane, while moving (Time_Headway < 9999). The
 * same selection is applied to both files. Metrics: the 10th, 50th and 90th percentiles of speed
 * (m/s), space headway (front to front, m) and time headway (s), and the standard deviation of
 * acceleration (m/s^2), each with the relative error (synthetic - real) / real.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../common/errors.js';
import { NGSIM_FPS } from './layout.js';
import { readMappedCsv } from './import/csv-reader.js';
import { RowIssues } from './import/issues.js';
import { loadMapping, NGSIM_CSV_MAPPING } from './import/mapping.js';
import { readNgsimTxt } from './import/ngsim-txt.js';
import type { ReadContext } from './import/read-context.js';
import { detectFormat, sniff } from './import/sniff.js';

export const REALISM_METRICS = [
  'speedP10', 'speedP50', 'speedP90', 'spaceHeadwayP10', 'spaceHeadwayP50', 'spaceHeadwayP90',
  'timeHeadwayP10', 'timeHeadwayP50', 'timeHeadwayP90', 'accStd',
] as const;
export type RealismMetric = (typeof REALISM_METRICS)[number];

export interface FollowingSamples {
  file: string;
  rows: number;
  episodes: number;
  speedMps: Float64Array;
  spaceHeadwayM: Float64Array;
  timeHeadwayS: Float64Array;
  accMps2: Float64Array;
}

export interface SelectionOptions {
  lanes: readonly number[];
  minFollowS: number;
}

export const DEFAULT_SELECTION: SelectionOptions = { lanes: [1, 2, 3], minFollowS: 30 };

/** Percentile (linear interpolation between order statistics, as numpy's default), p in [0, 1]. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const k = (sorted.length - 1) * p;
  const f = Math.floor(k);
  const c = Math.min(f + 1, sorted.length - 1);
  return sorted[f]! + (sorted[c]! - sorted[f]!) * (k - f);
}

function std(a: Float64Array): number {
  if (a.length === 0) return NaN;
  let m = 0;
  for (const x of a) m += x;
  m /= a.length;
  let s = 0;
  for (const x of a) s += (x - m) * (x - m);
  return Math.sqrt(s / a.length);
}

/** Picks the trajectory file inside a synthetic folder (the given slot's, else the only one). */
export function resolveSyntheticFile(path: string, slot = '0400-0415'): string {
  if (!existsSync(path)) throw new UserError(`${path}: not found`);
  if (!statSync(path).isDirectory()) return path;
  const preferred = join(path, `trajectories-${slot}.txt`);
  if (existsSync(preferred)) return preferred;
  const txt = readdirSync(path).filter((f) => /^trajectories-.*\.txt$/.test(f)).sort();
  if (txt.length === 1) return join(path, txt[0]!);
  throw new UserError(`${path}: no trajectories-${slot}.txt${txt.length ? ` (found ${txt.join(', ')})` : ''}`);
}

/**
 * Reads the car-following samples of one file. `mapping` is needed for CSVs other than the
 * NGSIM export; the file must carry preceding, space-headway and time-headway columns.
 */
export async function readFollowingSamples(file: string, mapping: string | undefined, sel: SelectionOptions = DEFAULT_SELECTION): Promise<FollowingSamples> {
  const { firstLine } = sniff(file);
  const format = mapping ? 'mapped' : detectFormat(firstLine);
  if (!format) throw new UserError(`${file}:1: cannot tell the format; give --mapping FILE`);
  const m = mapping ? loadMapping(mapping) : NGSIM_CSV_MAPPING;
  if (format !== 'ngsim-txt') {
    for (const c of ['preceding', 'spaceHeadway', 'timeHeadway'] as const) {
      if (!m.columns[c]) throw new UserError(`${mapping ?? file}: field columns.${c}: the realism report needs it`);
    }
  }
  const lanes = new Set(sel.lanes);
  // Rows of candidate followers, column-wise.
  const veh: number[] = [], frame: number[] = [], lane: number[] = [], prec: number[] = [];
  const speed: number[] = [], gap: number[] = [], headway: number[] = [], acc: number[] = [];
  const ctx: ReadContext = {
    file,
    issues: new RowIssues(false),
    location: null,
    counts: { rowsRead: 0, filteredLocation: 0, locationsSeen: new Set() },
    onBytes: () => {},
    onRow: (r) => {
      if (!lanes.has(r.lane) || !(r.preceding > 0) || !(r.timeHeadwayS < 9999) || Number.isNaN(r.speedMps)) return;
      veh.push(r.vehicleId);
      frame.push(r.frame);
      lane.push(r.lane);
      prec.push(r.preceding);
      speed.push(r.speedMps);
      gap.push(r.spaceHeadwayM);
      headway.push(r.timeHeadwayS);
      acc.push(r.accMps2);
    },
  };
  if (format === 'ngsim-txt') await readNgsimTxt(ctx);
  else await readMappedCsv(ctx, m, mapping ?? 'the NGSIM CSV export layout');

  const order = Array.from(veh.keys()).sort((a, b) => veh[a]! - veh[b]! || frame[a]! - frame[b]!);
  const minFrames = Math.round(sel.minFollowS * NGSIM_FPS);
  const keep: number[] = [];
  let episodes = 0;
  for (let s = 0; s < order.length; ) {
    let e = s + 1;
    const i0 = order[s]!;
    while (e < order.length) {
      const i = order[e]!;
      const p = order[e - 1]!;
      if (veh[i] !== veh[i0] || frame[i] !== frame[p]! + 1 || prec[i] !== prec[i0] || lane[i] !== lane[i0]) break;
      e++;
    }
    if (e - s >= minFrames) {
      episodes++;
      for (let k = s; k < e; k++) keep.push(order[k]!);
    }
    s = e;
  }
  const pick = (src: number[]) => Float64Array.from(keep, (i) => src[i]!);
  return {
    file,
    rows: keep.length,
    episodes,
    speedMps: pick(speed),
    spaceHeadwayM: pick(gap),
    timeHeadwayS: pick(headway),
    accMps2: Float64Array.from(keep.filter((i) => !Number.isNaN(acc[i]!)), (i) => acc[i]!),
  };
}

/** The metrics of one sample set. */
export function followingMetrics(s: FollowingSamples): Record<RealismMetric, number> {
  const sorted = (a: Float64Array) => Float64Array.from(a).sort();
  const v = sorted(s.speedMps);
  const g = sorted(s.spaceHeadwayM);
  const h = sorted(s.timeHeadwayS);
  return {
    speedP10: percentile(v, 0.1), speedP50: percentile(v, 0.5), speedP90: percentile(v, 0.9),
    spaceHeadwayP10: percentile(g, 0.1), spaceHeadwayP50: percentile(g, 0.5), spaceHeadwayP90: percentile(g, 0.9),
    timeHeadwayP10: percentile(h, 0.1), timeHeadwayP50: percentile(h, 0.5), timeHeadwayP90: percentile(h, 0.9),
    accStd: std(s.accMps2),
  };
}

export interface RealismReport {
  metrics: Record<RealismMetric, { real: number; synthetic: number; relErr: number }>;
  maxAbsRelErr: number;
  real: { file: string; rows: number; episodes: number };
  synthetic: { file: string; rows: number; episodes: number };
  selection: SelectionOptions;
}

export function compareMetrics(real: FollowingSamples, synthetic: FollowingSamples, sel: SelectionOptions): RealismReport {
  if (real.rows === 0) throw new UserError(`${real.file}: no car-following rows in lanes ${sel.lanes.join(', ')} (episodes of ${sel.minFollowS} s or more)`);
  if (synthetic.rows === 0) throw new UserError(`${synthetic.file}: no car-following rows in lanes ${sel.lanes.join(', ')} (episodes of ${sel.minFollowS} s or more)`);
  const r = followingMetrics(real);
  const s = followingMetrics(synthetic);
  const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;
  const metrics = {} as RealismReport['metrics'];
  let maxAbs = 0;
  for (const k of REALISM_METRICS) {
    const relErr = (s[k] - r[k]) / r[k];
    maxAbs = Math.max(maxAbs, Math.abs(relErr));
    metrics[k] = { real: round(r[k]), synthetic: round(s[k]), relErr: round(relErr) };
  }
  const brief = (x: FollowingSamples) => ({ file: x.file, rows: x.rows, episodes: x.episodes });
  return { metrics, maxAbsRelErr: round(maxAbs), real: brief(real), synthetic: brief(synthetic), selection: sel };
}

/** Runs the whole report: real file (+ mapping) against a synthetic folder or file. */
export async function realismReport(opts: { real: string; mapping?: string; synthetic: string; slot?: string; selection?: SelectionOptions }): Promise<RealismReport> {
  const sel = opts.selection ?? DEFAULT_SELECTION;
  const real = await readFollowingSamples(opts.real, opts.mapping, sel);
  const synthetic = await readFollowingSamples(resolveSyntheticFile(opts.synthetic, opts.slot), undefined, sel);
  return compareMetrics(real, synthetic, sel);
}
