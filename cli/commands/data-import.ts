/**
 * `ppuu data import FILE... --out DIR`: reads NGSIM raw txt, the NGSIM portal CSV export, or
 * any trajectory CSV with a column mapping, and writes one track store (data/tracks.ts).
 */
import type { Command } from 'commander';
import { createProgress } from '../../common/progress.js';
import { InvalidFlag, printJson, say } from '../output.js';
import { group } from '../main.js';

interface ImportFlags {
  out: string;
  format?: string;
  mapping?: string;
  location?: string;
  slot?: string;
  strict?: boolean;
  blacklist: boolean;
  json?: boolean;
}

export function registerDataImport(program: Command): void {
  group(program, 'data', 'trajectory data: import, synthetic traffic, realism, datasets')
    .command('import')
    .description('import trajectory files (raw NGSIM txt, NGSIM CSV export, or any CSV with --mapping) into a track store')
    .argument('<files...>', 'trajectory files (all go into one store)')
    .requiredOption('--out <dir>', 'track-store folder to write (replaced as a whole, atomically)')
    .option('--format <format>', 'ngsim-txt | ngsim-csv | mapped (detected from the first line when absent)')
    .option('--mapping <file>', 'column-mapping JSON for other CSV layouts (see data/mappings/)')
    .option('--location <name>', 'keep only rows of this site (e.g. i-80, us-101, peachtree) and name the map')
    .option('--slot <HHMM-HHMM>', 'recording slot, e.g. 0400-0415 (from the file name when absent; filters rows by Global_Time in CSV exports)')
    .option('--strict', 'stop at the first bad row instead of skipping and counting it')
    .option('--no-blacklist', 'keep the I-80 vehicles black-listed for the slot')
    .option('--json', 'print the import summary as one JSON object')
    .action(async (files: string[], opts: ImportFlags) => {
      const { IMPORT_FORMATS } = await import('../../data/import/sniff.js');
      if (opts.format !== undefined && !(IMPORT_FORMATS as readonly string[]).includes(opts.format)) {
        throw new InvalidFlag(`--format must be one of ${IMPORT_FORMATS.join(', ')}, got '${opts.format}'`);
      }
      if (opts.slot !== undefined && !/^\d{4}-\d{4}$/.test(opts.slot)) throw new InvalidFlag(`--slot must look like 0400-0415, got '${opts.slot}'`);
      const { importTrajectories } = await import('../../data/import/importer.js');
      const { assertReplaceableDir, isTrackStore, writeTrackStore } = await import('../../data/track-store.js');
      assertReplaceableDir(opts.out, isTrackStore, 'a track store');
      const bar = createProgress('import', 1, { json: opts.json, unit: 'MB' });
      const { store, summary } = await importTrajectories(files, {
        format: opts.format as never,
        mapping: opts.mapping,
        location: opts.location,
        slot: opts.slot,
        strict: opts.strict,
        blackList: opts.blacklist,
        onProgress: (done, total) => {
          bar.setTotal(Math.max(1, Math.round(total / 1e6)));
          bar.update(Math.round(done / 1e6));
        },
      });
      bar.stop();
      await writeTrackStore(opts.out, store);
      if (opts.json) return printJson({ out: opts.out, ...summary });
      const bad = Object.entries(summary.badRows).filter(([, n]) => n > 0).map(([r, n]) => `${r} ${n}`);
      say(`${opts.out}: ${summary.rowsKept} of ${summary.rowsRead} rows kept, ${summary.vehicles} vehicles, ${summary.frames} frames over ${summary.timeSpanS.toFixed(1)} s, lanes ${summary.lanes.join(' ') || '-'} (map ${summary.map}, slot ${summary.slot ?? '-'})`);
      if (bad.length) say(`skipped rows: ${bad.join(', ')}`);
      if (summary.duplicatesDropped) say(`exact duplicates dropped: ${summary.duplicatesDropped}`);
      const f = summary.rowsFiltered;
      if (f.location || f.slot || f.blackList) say(`filtered rows: location ${f.location}, slot ${f.slot}, black list ${f.blackList} (${summary.blackListedVehicles.length} vehicles)`);
      for (const w of summary.warnings) process.stderr.write(`warning: ${w}\n`);
      for (const m of summary.examples.slice(0, 5)) process.stderr.write(`  ${m}\n`);
    });
}
