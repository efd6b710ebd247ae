/** `ppuu data verify DATASET`: checks every file of an episode dataset against its manifest (data/verify.ts). */
import type { Command } from 'commander';
import { createProgress } from '../../common/progress.js';
import { UserError } from '../../common/errors.js';
import { group } from '../main.js';
import { printJson, say } from '../output.js';

export function registerDataVerify(program: Command): void {
  group(program, 'data', 'trajectory data: import, synthetic traffic, realism, datasets')
    .command('verify')
    .description("check every file of an episode dataset: presence, dtype, shape and length against the manifest, finite values, the manifest's sha256 digests")
    .argument('<dataset>', 'dataset folder written by ppuu data dump')
    .option('--json', 'print the report as one JSON object')
    .action(async (dataset: string, opts: { json?: boolean }) => {
      const { verifyDataset, recordVerification } = await import('../../data/verify.js');
      const bar = createProgress('verify', 1, { json: opts.json, unit: 'episodes' });
      const report = verifyDataset(dataset, {
        onProgress: (done, total) => {
          bar.setTotal(total);
          bar.update(done);
        },
      });
      bar.stop();
      const recorded = recordVerification(dataset, report);
      if (opts.json) printJson({ ...report, recorded });
      else {
        for (const p of report.problems) say(p);
        say(`${dataset}: ${report.episodes} episodes, ${report.files} files, ${(report.bytes / 1e6).toFixed(1)} MB read in ${report.seconds.toFixed(1)} s; ${report.checksummed} checked against the manifest's sha256; ${report.ok ? 'no problems' : `${report.problems.length} problem(s)`}${recorded ? '' : ' (not recorded: the folder is not writable)'}`);
      }
      if (!report.ok) throw new UserError(`${report.problems[0]}${report.problems.length > 1 ? ` (and ${report.problems.length - 1} more problems)` : ''}`);
    });
}
