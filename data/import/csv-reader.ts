/**
 * Streams a delimited text file (CSV) through csv-parse and turns each record into a
 * TrajectoryRow with a column mapping (names or indices, units). Memory stays constant: one
 * record at a time. Numbers may carry quoted thousands separators ("1,156"); a 10-digit
 * Global_Time in ms is taken as truncated to seconds (the NGSIM portal export has such rows).
 */
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { UserError } from '../../common/errors.js';
import { NGSIM_FPS } from '../layout.js';
import { locationKey } from '../slots.js';
import { ACCELERATION_TO_MPS2, LENGTH_TO_M, SPEED_TO_MPS, TIME_TO_S } from '../units.js';
import type { ColumnRef, Mapping, MappingColumns } from './mapping.js';
import type { ReadContext } from './read-context.js';
import { emptyRow, rangeProblem, type RowField } from './row.js';

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const THOUSANDS = /^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$/;

/** Parses one numeric cell; NaN for text that is not a plain decimal number. */
export function parseCell(s: string): number {
  let t = s.trim();
  if (THOUSANDS.test(t)) t = t.replace(/,/g, '');
  return NUMBER.test(t) ? Number(t) : NaN;
}

type NumericKey = Exclude<keyof MappingColumns, 'location'>;

interface Resolved {
  key: NumericKey;
  index: number;
  name: string;
  factor: number;
}

function factorOf(key: NumericKey, ref: ColumnRef<string>): number {
  const u = ref.unit;
  if (u === undefined) return 1;
  if (key === 'speed') return SPEED_TO_MPS[u as keyof typeof SPEED_TO_MPS];
  if (key === 'acceleration') return ACCELERATION_TO_MPS2[u as keyof typeof ACCELERATION_TO_MPS2];
  if (key === 'time' || key === 'timeHeadway') return TIME_TO_S[u as keyof typeof TIME_TO_S];
  if (key === 'globalTime') return TIME_TO_S[u as keyof typeof TIME_TO_S] * 1000;
  return LENGTH_TO_M[u as keyof typeof LENGTH_TO_M];
}

/** Row field named in messages for each mapping key. */
const FIELD_OF: Partial<Record<NumericKey, RowField>> = {
  vehicleId: 'vehicleId', frame: 'frame', time: 'frame', localX: 'localX', localY: 'localY', speed: 'speed',
  acceleration: 'acceleration', lane: 'lane', length: 'length', width: 'width', vClass: 'vClass',
};

/** Finds each mapped column in the header (or takes indices); throws naming a missing one. */
function resolveColumns(mapping: Mapping, header: string[] | null, file: string, mappingName: string): { numeric: Resolved[]; location: number } {
  const lower = header?.map((h) => h.trim().toLowerCase());
  const find = (key: string, ref: ColumnRef<string>): number => {
    if (typeof ref.column === 'number') return ref.column;
    const i = lower ? lower.indexOf(ref.column.toLowerCase()) : -1;
    if (i < 0) throw new UserError(`${file}:1: field ${ref.column}: column missing from the header (needed for ${key} by ${mappingName})`);
    return i;
  };
  const numeric: Resolved[] = [];
  let location = -1;
  for (const [key, ref] of Object.entries(mapping.columns) as Array<[keyof MappingColumns, ColumnRef<string>]>) {
    if (key === 'location') {
      location = find(key, ref);
      continue;
    }
    const index = find(key, ref);
    numeric.push({ key, index, name: header ? header[index]?.trim() ?? String(index) : `column ${index}`, factor: factorOf(key, ref) });
  }
  return { numeric, location };
}

/**
 * Reads `ctx.file` with `mapping`. `mappingName` names the mapping in messages. The first
 * record must have the expected number of columns; later short or long rows are bad rows.
 */
export async function readMappedCsv(ctx: ReadContext, mapping: Mapping, mappingName: string): Promise<void> {
  const fps = mapping.frameRateHz ?? NGSIM_FPS;
  const hasHeader = mapping.header ?? true;
  const parser = parse({
    delimiter: mapping.delimiter ?? ',',
    relax_column_count: true,
    skip_empty_lines: true,
    skip_records_with_empty_values: true,
    bom: true,
    info: true,
  });
  const stream = createReadStream(ctx.file);
  let bytes = 0;
  stream.on('data', (c) => {
    bytes += c.length;
    ctx.onBytes(bytes);
  });
  stream.on('error', (e) => parser.destroy(e));
  stream.pipe(parser);

  const row = emptyRow();
  const rowsBefore = ctx.counts.rowsRead;
  let cols: { numeric: Resolved[]; location: number } | null = null;
  let width = -1;
  const locationFilter = ctx.location === null ? null : locationKey(ctx.location);
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const line = rec.info.lines;
      const cells = rec.record;
      if (cols === null) {
        cols = resolveColumns(mapping, hasHeader ? cells : null, ctx.file, mappingName);
        width = cells.length;
        const maxIndex = Math.max(cols.location, ...cols.numeric.map((c) => c.index));
        if (maxIndex >= width) {
          throw new UserError(`${ctx.file}:${line}: has ${width} columns, ${mappingName} needs at least ${maxIndex + 1} (wrong delimiter or format?)`);
        }
        if (hasHeader) continue;
      }
      ctx.counts.rowsRead++;
      if (cells.length !== width) {
        ctx.issues.bad('columnCount', ctx.file, line, undefined, `has ${cells.length} columns, the ${hasHeader ? 'header' : 'first row'} has ${width}`);
        continue;
      }
      if (cols.location >= 0) {
        const loc = cells[cols.location]!.trim();
        if (locationFilter !== null && locationKey(loc) !== locationFilter) {
          ctx.counts.filteredLocation++;
          continue;
        }
        ctx.counts.locationsSeen.add(loc);
      }
      row.speedMps = row.accMps2 = row.lengthM = row.widthM = NaN;
      row.preceding = row.spaceHeadwayM = row.timeHeadwayS = row.globalTimeMs = NaN;
      row.lane = row.vClass = 0;
      let bad: Resolved | null = null;
      for (const c of cols.numeric) {
        const v = parseCell(cells[c.index]!);
        if (Number.isNaN(v)) {
          // Optional neighbour and clock columns may be blank; the core ones may not.
          if (c.key === 'preceding' || c.key === 'spaceHeadway' || c.key === 'timeHeadway' || c.key === 'globalTime') {
            if (cells[c.index]!.trim() === '') continue;
          }
          bad = c;
          break;
        }
        const x = v * c.factor;
        switch (c.key) {
          case 'vehicleId': row.vehicleId = x; break;
          case 'frame': row.frame = x; break;
          case 'time': row.frame = Math.round(x * fps * 1e6) / 1e6; break;
          case 'localX': row.localXM = x; break;
          case 'localY': row.localYM = x; break;
          case 'speed': row.speedMps = x; break;
          case 'acceleration': row.accMps2 = x; break;
          case 'lane': row.lane = x; break;
          case 'length': row.lengthM = x; break;
          case 'width': row.widthM = x; break;
          case 'vClass': row.vClass = x; break;
          case 'preceding': row.preceding = x; break;
          case 'spaceHeadway': row.spaceHeadwayM = x; break;
          case 'timeHeadway': row.timeHeadwayS = x; break;
          case 'globalTime': row.globalTimeMs = v < 1e11 && c.factor === 1 ? v * 1000 : x; break;
        }
      }
      if (bad) {
        ctx.issues.bad('nonNumeric', ctx.file, line, bad.name, `'${cells[bad.index]}' is not a number`);
        continue;
      }
      const problem = rangeProblem(row);
      if (problem) {
        const c = cols.numeric.find((r) => FIELD_OF[r.key] === problem[0]);
        ctx.issues.bad('outOfRange', ctx.file, line, c?.name ?? problem[0], problem[1]);
        continue;
      }
      ctx.onRow(row, line);
    }
  } catch (e) {
    if (e instanceof UserError) throw e;
    const err = e as { code?: string; message?: string; lines?: number };
    if (err.code?.startsWith('CSV_')) {
      throw new UserError(`${ctx.file}:${err.lines ?? '?'}: ${String(err.message).split('\n')[0]}`);
    }
    throw new UserError(`${ctx.file}: cannot read (${err.message ?? String(e)})`);
  } finally {
    stream.destroy();
  }
  if (cols === null) throw new UserError(`${ctx.file}: no rows`);
  if (ctx.counts.rowsRead === rowsBefore) throw new UserError(`${ctx.file}: a header and no data rows; nothing to import`);
}
