/**
 * `ppuu eval snapshots --run DIR --data DATASET [--split val]`: evaluates every snapshot a policy
 * run kept (`ppuu train policy --snapshot-every N`: DIR/snapshots/step-N) on a split and picks
 * the one with the highest success rate (then the longer mean distance, then the earlier
 * update): model selection on the validation split, the test split left for the final figure.
 * Writes DIR/selection-SPLIT.json after every snapshot, so an interrupted run goes on from the
 * snapshots it has scored (for the same seeds, limit and longest drive).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomic } from '../../common/atomic.js';
import { UserError } from '../../common/errors.js';
import { createProgress } from '../../common/progress.js';
import type { MeanStd } from '../../sim/evaluate.js';
import { group } from '../main.js';
import { parseNumber, printJson, say } from '../output.js';

interface Flags {
  run: string;
  data: string;
  split: string;
  seeds: number;
  seed: number;
  limit?: number;
  maxSteps: number;
  json?: boolean;
}

export interface SnapshotScore {
  step: number;
  dir: string;
  successRate: MeanStd;
  meanDistanceM: MeanStd;
  collisionRate: MeanStd;
  offRoadRate: MeanStd;
}

export interface SnapshotSelection {
  run: string;
  dataset: string;
  split: string;
  seeds: number[];
  limit: number | null;
  maxSteps: number;
  snapshots: SnapshotScore[];
  best: SnapshotScore;
}

/** The best of scored snapshots: highest success, then longer mean distance, then the earlier update. */
export function bestSnapshot(rows: SnapshotScore[]): SnapshotScore {
  if (rows.length === 0) throw new Error('bestSnapshot: no snapshots');
  return rows.reduce((b, r) => {
    if (r.successRate.mean !== b.successRate.mean) return r.successRate.mean > b.successRate.mean ? r : b;
    if (r.meanDistanceM.mean !== b.meanDistanceM.mean) return r.meanDistanceM.mean > b.meanDistanceM.mean ? r : b;
    return r.step < b.step ? r : b;
  });
}

/** Scores of an earlier selection of the same split, seeds and limit (none: an empty map). */
function earlierScores(file: string, split: string, seeds: number[], limit: number | null, maxSteps: number): Map<number, SnapshotScore> {
  if (!existsSync(file)) return new Map();
  let prev: Partial<SnapshotSelection>;
  try {
    prev = JSON.parse(readFileSync(file, 'utf8')) as Partial<SnapshotSelection>;
  } catch {
    throw new UserError(`${file}: invalid JSON (delete it to score every snapshot again)`);
  }
  if (prev.split !== split || JSON.stringify(prev.seeds) !== JSON.stringify(seeds) || (prev.limit ?? null) !== limit || prev.maxSteps !== maxSteps || !Array.isArray(prev.snapshots)) return new Map();
  return new Map(prev.snapshots.map((s) => [s.step, s]));
}

export function registerEvalSnapshots(program: Command): void {
  group(program, 'eval', 'evaluate models')
    .command('snapshots')
    .description("evaluate every snapshot of a policy run (train policy --snapshot-every) on a split and pick the best (model selection on the validation split)")
    .requiredOption('--run <dir>', 'a ppuu train policy --out folder with snapshots/step-N')
    .requiredOption('--data <dir>', 'episode dataset folder (ppuu data dump)')
    .option('--split <name>', 'train | val | test', 'val')
    .option('--seeds <n>', 'evaluation seeds per snapshot', parseNumber('--seeds', true, 1), 1)
    .option('--seed <n>', 'first seed', parseNumber('--seed', true, 0), 0)
    .option('--limit <n>', 'evaluate only the first n episodes of the split', parseNumber('--limit', true, 1))
    .option('--max-steps <n>', 'longest drive per episode, steps of 0.1 s', parseNumber('--max-steps', true, 1), 2000)
    .option('--json', 'print the selection as one JSON object')
    .action(async (opts: Flags) => {
      if (!['train', 'val', 'test'].includes(opts.split)) throw new UserError(`field split: must be train, val or test, got '${opts.split}'`);
      const { listSnapshots } = await import('../../policy/checkpoint.js');
      const snaps = listSnapshots(opts.run);
      if (snaps.length === 0) throw new UserError(`${join(opts.run, 'snapshots')}: no snapshots (train the policy with --snapshot-every N)`);
      const { resolveController } = await import('../../sim/controllers/registry.js');
      const { evaluateDataset, isDir } = await import('../../sim/io/eval-dataset.js');
      const seeds = Array.from({ length: opts.seeds }, (_, i) => opts.seed + i);
      const limit = opts.limit ?? null;
      const file = join(opts.run, `selection-${opts.split}.json`);
      const have = earlierScores(file, opts.split, seeds, limit, opts.maxSteps);
      const rows: SnapshotScore[] = [];
      const bar = createProgress('snapshots', snaps.length, { json: opts.json, unit: 'snapshots' });
      for (const [i, s] of snaps.entries()) {
        const done = have.get(s.step);
        if (done) {
          rows.push(done);
        } else {
          const controllerFor = async (seed: number) => {
            const c = await resolveController(s.dir, { seed }, isDir);
            if (!c) throw new UserError(`${s.dir}: not a trained policy folder`);
            return c;
          };
          const r = await evaluateDataset({ data: opts.data, split: opts.split as 'val', policyName: s.dir, seeds, controllerFor, limit: opts.limit, maxSteps: opts.maxSteps });
          rows.push({ step: s.step, dir: s.dir, successRate: r.successRate, meanDistanceM: r.meanDistanceM, collisionRate: r.collisionRate, offRoadRate: r.offRoadRate });
        }
        const sel: SnapshotSelection = { run: opts.run, dataset: opts.data, split: opts.split, seeds, limit, maxSteps: opts.maxSteps, snapshots: rows, best: bestSnapshot(rows) };
        writeFileAtomic(file, JSON.stringify(sel, null, 1) + '\n');
        bar.update(i + 1);
      }
      bar.stop();
      const sel = JSON.parse(readFileSync(file, 'utf8')) as SnapshotSelection;
      if (opts.json) return printJson(sel);
      const pct = (m: MeanStd) => `${(100 * m.mean).toFixed(1)} %`.padStart(7);
      say(`snapshots of ${opts.run} on ${opts.data} (${opts.split}, ${seeds.length} seed(s)${limit ? `, first ${limit} episodes` : ''})`);
      say('  update  success  distance  collisions  off-road');
      for (const r of sel.snapshots) say(`  ${String(r.step).padStart(6)}  ${pct(r.successRate)}  ${r.meanDistanceM.mean.toFixed(1).padStart(6)} m  ${pct(r.collisionRate)}     ${pct(r.offRoadRate)}${r.step === sel.best.step ? '   <- best' : ''}`);
      say(`best: ${sel.best.dir} (written to ${file}); evaluate it on the test split with: ppuu eval --data ${opts.data} --policy ${sel.best.dir}`);
    });
}
