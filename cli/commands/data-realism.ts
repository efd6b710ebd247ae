/**
 * `ppuu data realism --real FILE --synthetic DIR`: compares car-following statistics (speed,
 * space and time headway percentiles, acceleration spread) of real and synthetic trajectories.
 */
import type { Command } from 'commander';
import { parseNumber, printJson, say } from '../output.js';
import { group } from '../main.js';

interface RealismFlags {
  real: string;
  mapping?: string;
  synthetic: string;
  slot: string;
  minFollow: number;
  json?: boolean;
}

export function registerDataRealism(program: Command): void {
  group(program, 'data', 'trajectory data: import, synthetic traffic, realism, datasets')
    .command('realism')
    .description('compare car-following statistics of real and synthetic trajectories (followers in lanes 1-3)')
    .requiredOption('--real <file>', 'real trajectories (raw NGSIM txt, NGSIM CSV, or a CSV with --mapping)')
    .option('--mapping <file>', 'column mapping of the real file (e.g. data/mappings/i80-carfollowing.json)')
    .requiredOption('--synthetic <dir>', 'folder written by `ppuu data synth` (or one trajectories file)')
    .option('--slot <slot>', 'which synthetic slot to compare', '0400-0415')
    .option('--min-follow <s>', 'shortest car-following episode used, s', parseNumber('--min-follow', false, 0), 30)
    .option('--json', 'print the report as one JSON object')
    .action(async (opts: RealismFlags) => {
      const { realismReport } = await import('../../data/realism.js');
      const report = await realismReport({
        real: opts.real,
        mapping: opts.mapping,
        synthetic: opts.synthetic,
        slot: opts.slot,
        selection: { lanes: [1, 2, 3], minFollowS: opts.minFollow },
      });
      if (opts.json) return printJson(report);
      say(`real: ${report.real.file} (${report.real.episodes} episodes, ${report.real.rows} rows)`);
      say(`synthetic: ${report.synthetic.file} (${report.synthetic.episodes} episodes, ${report.synthetic.rows} rows)`);
      say('metric              real   synthetic  rel. error');
      for (const [name, m] of Object.entries(report.metrics)) {
        say(`${name.padEnd(17)} ${m.real.toFixed(2).padStart(7)} ${m.synthetic.toFixed(2).padStart(10)}  ${(m.relErr * 100).toFixed(1).padStart(7)} %`);
      }
      say(`largest relative error: ${(report.maxAbsRelErr * 100).toFixed(1)} %`);
    });
}
