/**
 * `ppuu data dump --trajectories DIR --out DATASET`: replays track stores through the simulator
 * and writes the state-action-cost episode dataset (sim/io/dump.ts). Interrupted runs leave no
 * corrupt dataset; re-running the same command resumes.
 */
import type { Command } from 'commander';
import { createProgress } from '../../common/progress.js';
import { group } from '../main.js';
import { InvalidFlag, parseNumber, printJson, say } from '../output.js';

interface DumpFlags {
  trajectories: string;
  out: string;
  slots?: string;
  workers: number;
  variant: string;
  splitSeed: number;
  json?: boolean;
}

export function registerDataDump(program: Command): void {
  group(program, 'data', 'trajectory data: import, synthetic traffic, realism, datasets')
    .command('dump')
    .description('replay track stores and write the episode dataset (car-centred images, states, actions, costs) with a seeded 80/10/10 split')
    .requiredOption('--trajectories <dir>', 'a track store, or a folder of track stores (one per slot, e.g. the output of ppuu data synth)')
    .requiredOption('--out <dir>', 'dataset folder to write (re-running resumes an interrupted dump)')
    .option('--slots <list>', 'comma-separated slots to include (default: every store found)')
    .option('--workers <n>', 'worker threads', parseNumber('--workers', true, 1), 1)
    .option('--variant <name>', "image channels: 'paper' (R lanes, G cars, B ego) or 'offroad' (R lanes, G cars, B off-road, A ego)", 'paper')
    .option('--split-seed <n>', 'seed of the 80/10/10 split by episode', parseNumber('--split-seed', true, 0), 0)
    .option('--json', 'print the summary as one JSON object')
    .action(async (opts: DumpFlags) => {
      if (opts.variant !== 'paper' && opts.variant !== 'offroad') throw new InvalidFlag(`--variant must be paper or offroad, got '${opts.variant}'`);
      const slots = opts.slots?.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const { dumpDataset } = await import('../../sim/io/dump.js');
      const bar = createProgress('dump', 1, { json: opts.json, unit: 'episodes' });
      const summary = await dumpDataset({
        trajectories: opts.trajectories,
        out: opts.out,
        slots,
        workers: opts.workers,
        variant: opts.variant,
        splitSeed: opts.splitSeed,
        onProgress: (done, total) => {
          bar.setTotal(Math.max(1, total));
          bar.update(done);
        },
      });
      bar.stop();
      if (opts.json) return printJson(summary);
      say(
        `${summary.out}: ${summary.episodes} episodes, ${summary.frames} frames (${summary.written} written now, ${summary.resumed} already there) ` +
          `in ${summary.seconds.toFixed(1)} s with ${summary.workers} worker(s); split train ${summary.splits.train} / val ${summary.splits.val} / test ${summary.splits.test}`,
      );
    });
}
