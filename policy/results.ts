/**
 * The paper's table (docs/method.md section 7) from evaluation reports: one row per method, success,
 * mean distance, collisions and off-road as mean and std over policy training seeds (the
 * built-in controllers have one "seed": they are not trained), with the published figures
 * beside where the paper has them. Written as results.json (for scripts and the app: it names
 * the best learned policy) and results.md (for people); results-chart.ts draws it.
 */

/** What `ppuu eval --json` reports and the table reads (rates are fractions). */
export interface EvalSummary {
  successRate: { mean: number };
  meanDistanceM: { mean: number };
  collisionRate: { mean: number };
  offRoadRate: { mean: number };
  /** Episodes driven (the MPC row may drive a subset of the split). */
  episodes?: number;
  /** The controller's compute (sim/evaluate.ts). */
  controllerTiming?: { msPerCall: number; meanCarsPerCall: number };
}

import { meanStd, type MeanStd } from '../sim/evaluate.js';
export type { MeanStd };

export interface ResultRow {
  /** Row name (replay, no-action, idm, il, mpur, vg-km, mpur-km, mpur-km-real, ...). */
  name: string;
  /** What it is, in words. */
  label: string;
  /** True for trained policies (the best one is picked among them). */
  learned: boolean;
  /** Policy folders, one per training seed (empty for built-in controllers). */
  dirs: string[];
  seeds: number;
  /** Percent and metres. */
  successPct: MeanStd;
  distanceM: MeanStd;
  collisionPct: MeanStd;
  offRoadPct: MeanStd;
  /** Seconds of training per seed (mean), when trained. */
  trainSeconds: number | null;
  /** Episodes this row drove (null: unknown). */
  episodes: number | null;
  /** The controller's wall time per lockstep step (all its cars in one batch), ms, and the mean cars per step. */
  msPerStep: number | null;
  carsPerStep: number | null;
  /** The paper's figures for the nearest published method (docs/method.md section 7), when it has them. */
  paper: { label: string; successPct: string; distanceM: string } | null;
}

export interface ResultsTable {
  format: 'ppuu-results';
  version: 1;
  preset: string;
  /** Test episodes driven per evaluation. */
  episodes: number | null;
  rows: ResultRow[];
  /** The learned row with the highest mean success (then distance), and its first policy folder. */
  best: { name: string; dir: string } | null;
}

/** docs/method.md section 7, by row name (the km methods have no published table: the fork reports fewer crashes than MPUR). */
export const PAPER_FIGURES: Record<string, { label: string; successPct: string; distanceM: string }> = {
  replay: { label: 'human (replay)', successPct: '100.0', distanceM: '209.4' },
  'no-action': { label: 'no action', successPct: '16.2', distanceM: '87.3' },
  il: { label: '1-step IL', successPct: '7.3 ± 4.1', distanceM: '73.8 ± 7.9' },
  mpur: { label: 'MPUR, stochastic + z-dropout', successPct: '74.8 ± 3.0', distanceM: '171.2 ± 4.5' },
};

/** One row from the evaluations of each training seed. */
export function resultRow(name: string, label: string, learned: boolean, dirs: string[], evals: EvalSummary[], trainSeconds: number[] = []): ResultRow {
  const pct = (f: (e: EvalSummary) => number) => meanStd(evals.map((e) => 100 * f(e)));
  return {
    name, label, learned, dirs, seeds: evals.length,
    successPct: pct((e) => e.successRate.mean),
    distanceM: meanStd(evals.map((e) => e.meanDistanceM.mean)),
    collisionPct: pct((e) => e.collisionRate.mean),
    offRoadPct: pct((e) => e.offRoadRate.mean),
    trainSeconds: trainSeconds.length > 0 ? meanStd(trainSeconds).mean : null,
    episodes: evals[0]?.episodes ?? null,
    msPerStep: evals.every((e) => e.controllerTiming) && evals.length > 0 ? meanStd(evals.map((e) => e.controllerTiming!.msPerCall)).mean : null,
    carsPerStep: evals.every((e) => e.controllerTiming) && evals.length > 0 ? meanStd(evals.map((e) => e.controllerTiming!.meanCarsPerCall)).mean : null,
    paper: PAPER_FIGURES[name] ?? null,
  };
}

/** The learned row with the highest success, then the longest distance. */
export function bestLearned(rows: ResultRow[]): { name: string; dir: string } | null {
  let best: ResultRow | null = null;
  for (const r of rows) {
    if (!r.learned || r.dirs.length === 0) continue;
    if (!best || r.successPct.mean > best.successPct.mean || (r.successPct.mean === best.successPct.mean && r.distanceM.mean > best.distanceM.mean)) best = r;
  }
  return best ? { name: best.name, dir: best.dirs[0]! } : null;
}

export function resultsTable(preset: string, rows: ResultRow[], episodes: number | null): ResultsTable {
  return { format: 'ppuu-results', version: 1, preset, episodes, rows, best: bestLearned(rows) };
}

function fmt(m: MeanStd, digits: number, seeds: number): string {
  if (!Number.isFinite(m.mean)) return '-';
  return seeds > 1 ? `${m.mean.toFixed(digits)} ± ${m.std.toFixed(digits)}` : m.mean.toFixed(digits);
}

/** The table as Markdown: ours, then the paper's figures for the same kind of method. */
export function resultsMarkdown(t: ResultsTable): string {
  const lines = [
    `# Results: preset ${t.preset}`,
    '',
    `Test split${t.episodes !== null ? `, ${t.episodes} episodes` : ''}; mean ± std over policy training seeds (built-in controllers are not trained); ms / step: the controller's wall time per simulator step, all its cars (mean count in brackets) in one batch.`,
    '',
    '| method | seeds | episodes | success (%) | mean distance (m) | collisions (%) | off-road (%) | ms / step (cars) | paper: success (%) | paper: distance (m) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of t.rows) {
    const ms = r.msPerStep === null ? '-' : `${r.msPerStep.toFixed(r.msPerStep < 10 ? 2 : 0)} (${(r.carsPerStep ?? 0).toFixed(0)})`;
    lines.push(
      `| ${r.label} | ${r.learned ? r.seeds : '-'} | ${r.episodes ?? '-'} | ${fmt(r.successPct, 1, r.seeds)} | ${fmt(r.distanceM, 1, r.seeds)} | ${fmt(r.collisionPct, 1, r.seeds)} | ${fmt(r.offRoadPct, 1, r.seeds)} | ${ms} | ${r.paper?.successPct ?? '-'} | ${r.paper?.distanceM ?? '-'} |`,
    );
  }
  lines.push('', `Paper figures: docs/method.md section 7 (I-80, 561 test episodes, 3 seeds).${t.best ? ` Best learned policy here: ${t.best.name} (${t.best.dir}).` : ''}`, '');
  return lines.join('\n');
}
