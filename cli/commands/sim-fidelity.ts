/**
 * `ppuu sim fidelity --tracks FILE|DIR`: drives every track from its first state with its own
 * extracted actions and reports how far the kinematic replay strays from the smoothed log
 * (median and 95th percentile over tracks of the largest deviation, m; sim/fidelity.ts).
 */
import type { Command } from 'commander';
import { group } from '../main.js';
import { printJson, say } from '../output.js';

export function registerSimFidelity(program: Command): void {
  group(program, 'sim', 'the traffic simulator: replay fidelity')
    .command('fidelity')
    .description('replay each track with its own extracted actions and report the largest deviation from the log (median, 95th percentile)')
    .requiredOption('--tracks <path>', 'a track store, a trajectory file, or a folder of trajectory files')
    .option('--mapping <file>', 'column-mapping JSON for CSV files (e.g. data/mappings/us101-tracks.json)')
    .option('--per-track', 'include every track in the JSON output')
    .option('--json', 'print the report as one JSON object')
    .action(async (opts: { tracks: string; mapping?: string; perTrack?: boolean; json?: boolean }) => {
      const { fidelityOf } = await import('../../sim/io/fidelity-input.js');
      const r = await fidelityOf(opts.tracks, opts.mapping);
      const worst = [...r.perTrack].sort((a, b) => b.maxDeviationM - a.maxDeviationM).slice(0, 5);
      if (opts.json) {
        const { perTrack, ...rest } = r;
        return printJson({ ...rest, worst, ...(opts.perTrack ? { perTrack } : {}) });
      }
      say(`${opts.tracks}: ${r.tracks} tracks replayed (${r.skipped} too short), map ${r.map}`);
      say(`  largest deviation from the log: median ${r.medianMaxDeviationM.toFixed(3)} m, 95th percentile ${r.p95MaxDeviationM.toFixed(3)} m, max ${r.maxMaxDeviationM.toFixed(3)} m`);
      say(`  worst: ${worst.map((w) => `${w.vehicleId} ${w.maxDeviationM.toFixed(2)} m`).join(', ')}`);
    });
}
