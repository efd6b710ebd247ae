/**
 * Import throughput of raw NGSIM text (data/import/ngsim-txt.ts through importTrajectories:
 * parsing, validation, grouping into tracks), on a synthetic file the size of a full 15-minute
 * I-80 slot (about 1.5 million rows). Baseline measured in the same run on the same file:
 * csv-parse alone tokenising its first 200,000 rows (no numbers, no validation; it cannot even
 * merge runs of spaces), the library the CSV importers use. Target: >= 200,000 rows/s.
 *
 *   npm run bench -- import [--file trajectories.txt] [--minutes 15]
 */
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse';
import { importTrajectories } from '../data/import/importer.js';
import { simulateSlot } from '../data/synth/generate.js';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1]!;
}

const tmp = mkdtempSync(join(tmpdir(), 'ppuu-bench-import-'));
try {
  let file = flag('file', '');
  if (!file) {
    file = join(tmp, 'trajectories-0400-0415.txt');
    simulateSlot('0400-0415', file, { minutes: Number(flag('minutes', '15')), seed: 1 });
  }
  const bytes = statSync(file).size;

  const b0 = performance.now();
  let baselineRows = 0;
  const parser = createReadStream(file, { highWaterMark: 1 << 20 }).pipe(parse({ delimiter: ' ', relax_column_count: true, ltrim: true }));
  for await (const _rec of parser) if (++baselineRows >= 200000) break;
  const baselineS = (performance.now() - b0) / 1000;

  const t0 = performance.now();
  const { summary } = await importTrajectories([file], { format: 'ngsim-txt', blackList: false });
  const importS = (performance.now() - t0) / 1000;

  const rowsPerS = summary.rowsRead / importS;
  process.stdout.write(
    JSON.stringify({
      bench: 'import',
      file,
      megabytes: Math.round(bytes / 1e5) / 10,
      rows: summary.rowsRead,
      vehicles: summary.vehicles,
      importS: Math.round(importS * 100) / 100,
      rowsPerS: Math.round(rowsPerS),
      baseline: { what: 'csv-parse tokenising only (first 200,000 rows)', rows: baselineRows, seconds: Math.round(baselineS * 100) / 100, rowsPerS: Math.round(baselineRows / baselineS) },
      speedupVsBaseline: Math.round((rowsPerS / (baselineRows / baselineS)) * 100) / 100,
      targetRowsPerS: 200000,
      meetsTarget: rowsPerS >= 200000,
      heapUsedMB: Math.round(process.memoryUsage().heapUsed / 1e6),
      arrayBuffersMB: Math.round(process.memoryUsage().arrayBuffers / 1e6),
    }) + '\n',
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
