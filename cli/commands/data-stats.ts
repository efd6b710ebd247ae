/** `ppuu data stats DATASET`: summary of an episode dataset (sim/io/stats.ts). */
import type { Command } from 'commander';
import { group } from '../main.js';
import { printJson, say } from '../output.js';

export function registerDataStats(program: Command): void {
  group(program, 'data', 'trajectory data: import, synthetic traffic, realism, datasets')
    .command('stats')
    .description('summarise an episode dataset: episodes and frames per split, lengths, normalisation statistics, costs')
    .argument('<dataset>', 'dataset folder written by ppuu data dump')
    .option('--json', 'print the summary as one JSON object')
    .action(async (dataset: string, opts: { json?: boolean }) => {
      const { datasetStats } = await import('../../sim/io/stats.js');
      const s = datasetStats(dataset);
      if (opts.json) return printJson(s);
      say(`${s.dataset}: map ${s.map}, images ${s.imageShape.join('x')}, ${s.episodes} episodes, ${s.frames} frames`);
      for (const [k, v] of Object.entries(s.splits)) say(`  ${k}: ${v.episodes} episodes, ${v.frames} frames`);
      say(`  episode length: min ${s.episodeLength.min}, mean ${s.episodeLength.mean.toFixed(1)}, max ${s.episodeLength.max}`);
      say(`  state mean ${s.stats.stateMean.map((v) => v.toFixed(2)).join(' ')}, std ${s.stats.stateStd.map((v) => v.toFixed(2)).join(' ')}`);
      say(`  action mean ${s.stats.actionMean.map((v) => v.toPrecision(3)).join(' ')}, std ${s.stats.actionStd.map((v) => v.toPrecision(3)).join(' ')}`);
      for (const [k, v] of Object.entries(s.costs)) say(`  cost ${k}: mean ${v.mean.toFixed(4)}, max ${v.max.toFixed(3)}, frames > 0.99: ${v.framesAbove099}`);
      say(
        s.verified === null
          ? `  files not verified (these figures come from the manifest and the cost files; run: ppuu data verify ${dataset})`
          : `  files verified ${s.verified.at}: ${s.verified.ok ? 'no problems' : `${s.verified.problems} problem(s); run ppuu data verify ${dataset}`}`,
      );
    });
}
