/**
 * Value tests of the importers that the mutation benchmark (`npm run mutate -- data/import/...`)
 * found unguarded: the mapping schema's every rule, the CSV reader's header matching, parse
 * options and field names, the raw NGSIM tokenizer's separators, exponents, chunking and
 * byte-order mark, and the importer's slot, location, black-list and summary rules. Every
 * expected value is worked out by hand from the small files written here (feet x 0.3048).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../common/errors.js';
import { checkMapping, loadMapping, type Mapping } from '../../data/import/mapping.js';
import { parseCell, readMappedCsv } from '../../data/import/csv-reader.js';
import { readNgsimTxt } from '../../data/import/ngsim-txt.js';
import { importTrajectories, unitProblems } from '../../data/import/importer.js';
import { collectingCtx } from '../helpers/read-context.js';
import type { VehicleTrack } from '../../data/tracks.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('ppuu-import-mutants-');
let fileNo = 0;
/** Writes `body` to a fresh file of the temp folder, `name` with a unique number in front. */
function put(name: string, body: string | Buffer): string {
  const p = join(dir, `${++fileNo}-${name}`);
  writeFileSync(p, body);
  return p;
}

/** The message of the UserError that `fn` throws or rejects with. */
async function userError(fn: () => unknown): Promise<string> {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof UserError, `not a UserError: ${String(e)}`);
    return e.message;
  }
  assert.fail('expected a UserError');
}


const ZERO_COUNTS = { columnCount: 0, nonNumeric: 0, outOfRange: 0, conflictingDuplicate: 0 };

// ---------------------------------------------------------------- mapping.ts

test('mapping schema: every rule of the document and of a column is enforced, with the field named', () => {
  const columns = { vehicleId: { column: 'id' }, frame: { column: 'f' }, localX: { column: 'x', unit: 'm' }, localY: { column: 'y', unit: 'ft' } };
  const base = { format: 'ppuu-mapping', version: 1, columns };
  const err = (doc: unknown) => {
    try {
      checkMapping(doc, 'm.json');
    } catch (e) {
      assert.ok(e instanceof UserError, String(e));
      return e.message;
    }
    return 'accepted';
  };
  const withCol = (name: string, ref: unknown) => ({ ...base, columns: { ...columns, [name]: ref } });
  const cases: [unknown, string][] = [
    [5, 'm.json: field (root): must be object'],
    [{ version: 1, columns }, 'm.json: field format: is required'],
    [{ format: 'ppuu-mapping', columns }, 'm.json: field version: is required'],
    [{ format: 'ppuu-mapping', version: 1 }, 'm.json: field columns: is required'],
    [{ ...base, extra: 1 }, 'm.json: field extra: is not allowed here'],
    [{ ...base, format: 'ppuu-tracks' }, 'm.json: field format: must be equal to constant'],
    [{ ...base, version: 2 }, 'm.json: field version: must be equal to constant'],
    [{ ...base, description: 3 }, 'm.json: field description: must be string'],
    [{ ...base, location: '' }, 'm.json: field location: must NOT have fewer than 1 characters'],
    [{ ...base, location: 7 }, 'm.json: field location: must be string'],
    [{ ...base, slot: 3 }, 'm.json: field slot: must be string,null'],
    [{ ...base, delimiter: '' }, 'm.json: field delimiter: must NOT have fewer than 1 characters'],
    [{ ...base, delimiter: '|||||' }, 'm.json: field delimiter: must NOT have more than 4 characters'],
    [{ ...base, delimiter: 9 }, 'm.json: field delimiter: must be string'],
    [{ ...base, header: 'yes' }, 'm.json: field header: must be boolean'],
    [{ ...base, frameRateHz: 0 }, 'm.json: field frameRateHz: must be > 0'],
    [{ ...base, frameRateHz: '10' }, 'm.json: field frameRateHz: must be number'],
    [{ ...base, columns: 3 }, 'm.json: field columns: must be object'],
    [{ ...base, columns: { frame: { column: 'f' }, localX: { column: 'x' }, localY: { column: 'y' } } }, 'm.json: field columns.vehicleId: is required'],
    [{ ...base, columns: { vehicleId: { column: 'i' }, frame: { column: 'f' }, localY: { column: 'y' } } }, 'm.json: field columns.localX: is required'],
    [{ ...base, columns: { vehicleId: { column: 'i' }, frame: { column: 'f' }, localX: { column: 'x' } } }, 'm.json: field columns.localY: is required'],
    [withCol('heading', { column: 'h' }), 'm.json: field columns.heading: is not allowed here'],
    [withCol('frame', 'f'), 'm.json: field columns.frame: must be object'],
    [withCol('frame', { unit: 'm' }), 'm.json: field columns.frame.column: is required'],
    [withCol('frame', { column: 'f', scale: 2 }), 'm.json: field columns.frame.scale: is not allowed here'],
    [withCol('frame', { column: 'f', unit: 's' }), 'm.json: field columns.frame.unit: is not allowed here'],
    [withCol('frame', { column: -1 }), 'm.json: field columns.frame.column: must be >= 0'],
    [withCol('frame', { column: '' }), 'm.json: field columns.frame.column: must NOT have fewer than 1 characters'],
    [withCol('frame', { column: 1.5 }), 'm.json: field columns.frame.column: must be string,integer'],
    [withCol('speed', { column: 'v', unit: 'm' }), 'm.json: field columns.speed.unit: must be one of "m/s", "ft/s", "km/h", "mph"'],
    [withCol('acceleration', { column: 'a', unit: 'm/s' }), 'm.json: field columns.acceleration.unit: must be one of "m/s2", "ft/s2"'],
    [withCol('globalTime', { column: 'g', unit: 'm' }), 'm.json: field columns.globalTime.unit: must be one of "s", "ms"'],
    [withCol('length', { column: 'l', unit: 's' }), 'm.json: field columns.length.unit: must be one of "m", "ft", "cm", "km", "mi"'],
  ];
  for (const [doc, message] of cases) assert.equal(err(doc), message, JSON.stringify(doc));
  // Everything the schema allows, at its limits: every column with a unit of its kind, index 0, a 4-character delimiter.
  const full = {
    format: 'ppuu-mapping', version: 1, description: 'all', location: 'i80', slot: null, delimiter: '||||', header: true, frameRateHz: 0.5,
    columns: {
      vehicleId: { column: 0 }, time: { column: 't', unit: 'ms' }, localX: { column: 'x', unit: 'cm' }, localY: { column: 'y', unit: 'mi' },
      speed: { column: 'v', unit: 'mph' }, acceleration: { column: 'a', unit: 'ft/s2' }, lane: { column: 'l' }, length: { column: 'len', unit: 'km' },
      width: { column: 'w', unit: 'ft' }, vClass: { column: 'c' }, preceding: { column: 'p' }, spaceHeadway: { column: 'sh', unit: 'm' },
      timeHeadway: { column: 'th', unit: 's' }, globalTime: { column: 'g', unit: 's' }, location: { column: 'site' },
    },
  };
  assert.equal(err(full), 'accepted');
  assert.equal(err({ ...full, slot: '0400-0415', delimiter: ';' }), 'accepted');
});

test('loadMapping: a file that is not JSON is named with the parser\'s reason', async () => {
  const bad = put('bad.json', '{ "format": ');
  assert.match(await userError(() => loadMapping(bad)), new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not valid JSON \\(`));
  const noFrame = put('noframe.json', JSON.stringify({ format: 'ppuu-mapping', version: 1, columns: { vehicleId: { column: 'i' }, localX: { column: 'x' }, localY: { column: 'y' } } }));
  assert.equal(await userError(() => loadMapping(noFrame)), `${noFrame}: field columns: give exactly one of "frame" and "time"`);
});

// ---------------------------------------------------------------- csv-reader.ts

test('parseCell: multi-digit fractions and exponents, thousands groups only from the first digit', () => {
  assert.equal(parseCell('.55'), 0.55);
  assert.equal(parseCell('-.125'), -0.125);
  assert.equal(parseCell('1.5e10'), 15000000000);
  assert.equal(parseCell('25E-12'), 2.5e-11);
  assert.equal(parseCell('999,999'), 999999);
  for (const s of ['1234,567', 'x1,234', '12345,678.5']) assert.ok(Number.isNaN(parseCell(s)), s);
});

async function readCsv(text: string | Buffer, mapping: object, o: { location?: string | null } = {}) {
  const file = put('d.csv', text);
  const c = collectingCtx(file, o);
  await readMappedCsv(c.ctx, checkMapping({ format: 'ppuu-mapping', version: 1, ...mapping }, 'm.json'), 'm.json');
  return { ...c, file, examples: c.ctx.issues.examples.map((m) => m.slice(file.length)) };
}

test('readMappedCsv: an out-of-range value is reported under its own column\'s header name', async () => {
  const columns = {
    vehicleId: { column: 'ID' }, frame: { column: 'FR' }, localX: { column: 'XX', unit: 'm' }, localY: { column: 'YY', unit: 'm' },
    speed: { column: 'VV', unit: 'm/s' }, acceleration: { column: 'AA', unit: 'm/s2' }, lane: { column: 'LN' }, length: { column: 'LEN', unit: 'm' },
    width: { column: 'WID', unit: 'm' }, vClass: { column: 'CLS' },
  };
  const good = ['1', '10', '2', '50', '20', '0', '3', '4.5', '1.8', '2'];
  const at = (i: number, v: string) => good.map((g, k) => (k === i ? v : g)).join(',');
  const text = ['ID,FR,XX,YY,VV,AA,LN,LEN,WID,CLS', good.join(','), at(0, '-1'), at(1, '-1'), at(3, '-2000'), at(4, '150'), at(5, '60'), at(6, '100'), at(7, '0'), at(8, '0'), at(9, '10')].join('\n');
  const { rows, examples, ctx } = await readCsv(text + '\n', { columns });
  assert.deepEqual(rows.map((r) => [r.vehicleId, r.frame, r.localXM, r.localYM, r.speedMps, r.accMps2, r.lane, r.lengthM, r.widthM, r.vClass, r.line]), [[1, 10, 2, 50, 20, 0, 3, 4.5, 1.8, 2, 2]]);
  assert.deepEqual(examples, [
    ':3: field ID: must be an integer in [0, 2147483647], got -1',
    ':4: field FR: must be an integer in [0, 2147483647], got -1',
    ':5: field YY: must be in [-1000, 100000] m, got -2000 m',
    ':6: field VV: must be in [-1, 100] m/s, got 150 m/s',
    ':7: field AA: must be within +-50 m/s^2, got 60 m/s^2',
    ':8: field LN: must be an integer in [0, 99], got 100',
    ':9: field LEN: must be in (0, 50] m, got 0 m',
    ':10: field WID: must be in (0, 10] m, got 0 m',
    ':11: field CLS: must be an integer in [0, 9], got 10',
  ]);
  assert.deepEqual(ctx.issues.counts, { ...ZERO_COUNTS, outOfRange: 9 });
});

test('readMappedCsv: padded header names, an index column named by its header, a BOM before a quoted header, blank and empty records skipped', async () => {
  const columns = { vehicleId: { column: 'id' }, frame: { column: 'f' }, localX: { column: 3, unit: 'm' }, localY: { column: 'y', unit: 'm' }, preceding: { column: 'p' }, location: { column: 'site' } };
  const text = [
    '"site"," id ","f","  x  "," y ",p', // line 1
    ' I-80 ,1,5,1.5,10,', // line 2: the location padded; Local_X by index 3 is 1.5 m
    ',,,,,', // line 3: a record of empty values: skipped, not counted
    '', // line 4: an empty line
    'i80,1,6,1.5,11, ', // line 5: a blank (space) optional column
    'i80,1,7,x,12,0', // line 6: index column 3 (header '  x  ') is not a number
    'i80,1,8,1.5,ten,0', // line 7
  ].join('\n') + '\n';
  const { rows, ctx, examples } = await readCsv(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), { columns });
  assert.deepEqual(rows.map((r) => [r.vehicleId, r.frame, r.localXM, r.localYM, r.line]), [[1, 5, 1.5, 10, 2], [1, 6, 1.5, 11, 5]]);
  assert.ok(Number.isNaN(rows[1]!.preceding));
  assert.equal(ctx.counts.rowsRead, 4);
  assert.deepEqual([...ctx.counts.locationsSeen], ['I-80', 'i80']);
  assert.deepEqual(examples, [":6: field x: 'x' is not a number", ":7: field y: 'ten' is not a number"]);
  // The location column first (index 0) with a filter.
  const only = await readCsv(text, { columns }, { location: 'i-80' });
  assert.deepEqual(only.rows.map((r) => r.line), [2, 5]);
  assert.equal(only.ctx.counts.filteredLocation, 0);
  const other = await readCsv(text, { columns }, { location: 'us101' });
  assert.deepEqual(other.rows, []);
  assert.equal(other.ctx.counts.filteredLocation, 4);
});

test('readMappedCsv: a 10-digit-or-shorter ms clock is seconds, 1e11 ms and more is ms', async () => {
  const columns = { vehicleId: { column: 'id' }, frame: { column: 'f' }, localX: { column: 'x' }, localY: { column: 'y' }, globalTime: { column: 'g', unit: 'ms' } };
  const { rows } = await readCsv('id,f,x,y,g\n1,1,1,1,99999999999\n1,2,1,1,100000000000\n1,3,1,1,1113433210123\n', { columns });
  assert.deepEqual(rows.map((r) => r.globalTimeMs), [99999999999000, 100000000000, 1113433210123]);
});

test('readMappedCsv: a column index past the header, a named column without a header, a missing file are one-line errors', async () => {
  const file = put('d.csv', 'id,f,x,y\n1,2,3,4\n');
  const columns = { vehicleId: { column: 'id' }, frame: { column: 'f' }, localX: { column: 'x' }, localY: { column: 9 } };
  const m = checkMapping({ format: 'ppuu-mapping', version: 1, columns }, 'm.json');
  assert.equal(await userError(() => readMappedCsv(collectingCtx(file).ctx, m, 'm.json')), `${file}:1: has 4 columns, m.json needs at least 10 (wrong delimiter or format?)`);
  // A mapping that was not checked: without a header a named column cannot be found.
  const unchecked: Mapping = { format: 'ppuu-mapping', version: 1, header: false, columns: { vehicleId: { column: 0 }, frame: { column: 1 }, localX: { column: 'x' }, localY: { column: 3 } } };
  assert.equal(await userError(() => readMappedCsv(collectingCtx(file).ctx, unchecked, 'u.json')), `${file}:1: field x: column missing from the header (needed for localX by u.json)`);
  const gone = join(dir, 'gone.csv');
  assert.equal(await userError(() => readMappedCsv(collectingCtx(gone).ctx, m, 'm.json')), `${gone}: cannot read (ENOENT: no such file or directory, open '${gone}')`);
  // csv-parse's own error: its first line, with the line number.
  assert.equal(await userError(() => readMappedCsv(collectingCtx(put('q.csv', 'id,f,x,y\n1,2,"3\n')).ctx, { ...m, columns: { ...columns, localY: { column: 'y' } } }, 'm.json')),
    `${join(dir, `${fileNo}-q.csv`)}:2: Quote Not Closed: the parsing is finished with an opening quote at line 2`);
});

// ---------------------------------------------------------------- ngsim-txt.ts

const GOOD = ['1', '100', '500', '1113433210000', '6', '30', '0', '0', '15', '6', '2', '30', '0', '1', '0', '0', '0', '0'];
const withTok = (i: number, t: string, base = GOOD) => base.map((g, k) => (k === i ? t : g)).join(' ');

async function readTxt(body: string | Buffer) {
  const file = put('t.txt', body);
  const c = collectingCtx(file);
  await readNgsimTxt(c.ctx);
  return { ...c, file, examples: c.ctx.issues.examples.map((m) => m.slice(file.length)) };
}

test('readNgsimTxt: out-of-range values are reported under the NGSIM column name, counted as outOfRange', async () => {
  const lines = [withTok(0, '-1'), withTok(4, '4000'), withTok(5, '-4000'), withTok(12, '200'), withTok(13, '100'), withTok(8, '0'), withTok(9, '0'), withTok(10, '10'), GOOD.join(' ')];
  const { rows, examples, ctx } = await readTxt(lines.join('\n') + '\n');
  assert.deepEqual(rows.map((r) => r.line), [9]);
  assert.deepEqual(examples, [
    ':1: field Vehicle_ID: must be an integer in [0, 2147483647], got -1',
    ':2: field Local_X: must be within +-1000 m, got 1219.2 m',
    ':3: field Local_Y: must be in [-1000, 100000] m, got -1219.2 m',
    ':4: field v_Acc: must be within +-50 m/s^2, got 60.96 m/s^2',
    ':5: field Lane_ID: must be an integer in [0, 99], got 100',
    ':6: field v_Length: must be in (0, 50] m, got 0 m',
    ':7: field v_Width: must be in (0, 10] m, got 0 m',
    ':8: field v_Class: must be an integer in [0, 9], got 10',
  ]);
  assert.deepEqual(ctx.issues.counts, { ...ZERO_COUNTS, outOfRange: 8 });
});

test('readNgsimTxt: vertical tab and form feed separate tokens; exponents of every size; the 1e11 clock boundary', async () => {
  const sep = (vals: string[]) => vals.map((v, i) => (i ? ['\v', '\f', ' \v\f '][i % 3] : '') + v).join('');
  const lines = [
    sep(withTok(17, '1e-23').split(' ')), // p = -23: past the power table
    withTok(17, '1e23'), // p = 23
    withTok(17, '15e-1'), // a negative exponent inside the table
    withTok(17, '2e19'),
    withTok(17, '-7.25E+1'),
    withTok(3, '100000000000'), // 1e11 ms is kept as ms
    withTok(3, '99999999999'), // below: seconds
  ];
  const { rows, examples, ctx } = await readTxt(lines.join('\n') + '\n');
  assert.deepEqual(examples, []);
  assert.deepEqual(rows.map((r) => r.timeHeadwayS), [1e-23, 1e23, 1.5, 2e19, -72.5, 0, 0]);
  assert.deepEqual(rows.map((r) => r.globalTimeMs), [1113433210000, 1113433210000, 1113433210000, 1113433210000, 1113433210000, 100000000000, 99999999999000]);
  assert.deepEqual(rows.map((r) => r.line), [1, 2, 3, 4, 5, 6, 7]);
  assert.equal(rows[0]!.localYM, 30 * 0.3048);
  assert.equal(ctx.counts.rowsRead, 7);
});

test('readNgsimTxt: the first bad token of a row is the one reported, wherever it is; a bad last token stops at the newline', async () => {
  const lines = [
    GOOD.join(' '),
    withTok(0, 'x'), // line 2: only Vehicle_ID
    withTok(5, 'y', withTok(0, 'v').split(' ')), // line 3: Vehicle_ID and Local_Y
    withTok(5, 'b', withTok(4, 'a').split(' ')), // line 4: Local_X and Local_Y
    withTok(17, 'zz'), // line 5: Time_Headway, the last token before the newline
    GOOD.slice(0, 17).join(' '), // line 6: short, not the last line
    withTok(17, '1e5x'), // line 7: a letter after the exponent's digits
  ];
  const { rows, examples, ctx } = await readTxt(lines.join('\n') + '\n');
  assert.deepEqual(rows.map((r) => r.line), [1]);
  assert.deepEqual(examples, [
    ":2: field Vehicle_ID: 'x' is not a number",
    ":3: field Vehicle_ID: 'v' is not a number",
    ":4: field Local_X: 'a' is not a number",
    ":5: field Time_Headway: 'zz' is not a number",
    ':6: has 17 columns, expected 18',
    ":7: field Time_Headway: '1e5x' is not a number",
  ]);
  assert.deepEqual(ctx.issues.counts, { ...ZERO_COUNTS, nonNumeric: 5, columnCount: 1 });
  // A first row with a bad number has the right layout: a later short row is a bad row, not an error.
  const later = await readTxt([withTok(4, 'q'), GOOD.slice(0, 9).join(' '), GOOD.join(' ')].join('\n'));
  assert.deepEqual(later.examples, [":1: field Local_X: 'q' is not a number", ':2: has 9 columns, expected 18']);
  assert.deepEqual(later.rows.map((r) => r.line), [3]);
});

test('readNgsimTxt: only a real UTF-8 BOM at the start of the file is skipped', async () => {
  const line = ' ' + GOOD.join(' ') + '\n';
  for (const lead of [[0xe2, 0xbb, 0xbf], [0xef, 0x80, 0xbf], [0xef, 0xbb, 0x80], [0x31, 0xc2, 0xbf], [0xc2, 0xbb, 0xbf]]) {
    const file = put('t.txt', Buffer.concat([Buffer.from(lead), Buffer.from(line)]));
    assert.equal(await userError(() => readNgsimTxt(collectingCtx(file).ctx)), `${file}:1: has 19 columns, raw NGSIM trajectories have 18 (use --format ngsim-csv, or --mapping for another layout)`, lead.join(','));
  }
  const { rows } = await readTxt(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(line)]));
  assert.deepEqual(rows.map((r) => [r.vehicleId, r.line]), [[1, 1]]);
});

test('readNgsimTxt: files over 1 MiB are read in 1 MiB chunks, a line split across them is whole, a BOM-like start of the second chunk is data', async () => {
  const MIB = 1 << 20;
  const line = (frame: number) => withTok(1, String(frame)) + '\n';
  const n = Math.ceil(MIB / line(1000).length) + 5;
  const lines = Array.from({ length: n }, (_, i) => line(1000 + i));
  const text = lines.join('');
  const split = await readTxt(text);
  assert.deepEqual(split.bytes, [MIB, text.length]);
  assert.equal(split.rows.length, n);
  assert.deepEqual(split.examples, []);
  assert.ok(split.rows.every((r, i) => r.frame === 1000 + i && r.line === i + 1));
  // Pad the first lines so that exactly 1 MiB ends with a newline, then a UTF-8 BOM starts the next chunk.
  const first: string[] = [];
  let size = 0;
  const L = line(10000).length; // frames 10000.. all have 5 digits
  while (size + L * 2 <= MIB) {
    first.push(line(10000 + first.length));
    size += L;
  }
  first.push(' '.repeat(MIB - size - L) + line(10000 + first.length));
  const head = first.join('');
  assert.equal(head.length, MIB);
  const body = Buffer.concat([Buffer.from(head), Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(line(5000))]);
  const bom = await readTxt(body);
  assert.deepEqual(bom.bytes, [MIB, MIB + 3 + line(5000).length]);
  assert.equal(bom.rows.length, first.length);
  assert.deepEqual(bom.ctx.issues.counts, { ...ZERO_COUNTS, nonNumeric: 1 });
  assert.deepEqual(bom.examples, [`:${first.length + 1}: field Vehicle_ID: '\uFEFF1' is not a number`]);
});

test('readNgsimTxt: a missing file is a one-line error', async () => {
  const gone = join(dir, 'gone.txt');
  assert.equal(await userError(() => readNgsimTxt(collectingCtx(gone).ctx)), `${gone}: cannot read (ENOENT: no such file or directory, open '${gone}')`);
});

// ---------------------------------------------------------------- importer.ts

/** Raw NGSIM rows (feet): one per frame of each vehicle, lane as given, Global_Time 16:00:10 PDT + frames. */
function txtRows(cars: { id: number; lane?: number; frames: number[]; clock0?: number }[]): string {
  const out: string[] = [];
  for (const c of cars) {
    for (const f of c.frames) out.push(withTok(13, String(c.lane ?? 1), withTok(3, String((c.clock0 ?? 1113433210000) + 100 * f), withTok(1, String(f), withTok(0, String(c.id)).split(' ')).split(' ')).split(' ')));
  }
  return out.join('\n') + '\n';
}

const PORTAL = 'Vehicle_ID,Frame_ID,Total_Frames,Global_Time,Local_X,Local_Y,Global_X,Global_Y,v_length,v_Width,v_Class,v_Vel,v_Acc,Lane_ID,O_Zone,D_Zone,Int_ID,Section_ID,Direction,Movement,Preceding,Following,Space_Headway,Time_Headway,Location';
/** Portal CSV rows: 3 frames per vehicle at the given clock (ms), 6 ft lateral, 30 ft/s. */
function portalRows(cars: { id: number; clock: number; loc: string; lane?: number }[]): string {
  const out = [PORTAL];
  for (const c of cars) for (let f = 1; f <= 3; f++) out.push(`${c.id},${f},3,${c.clock + 100 * f},6.0,${10 + f},1,1,15.0,6.0,2,30.0,0.0,${c.lane ?? 1},,,,,,,0,0,0,0,${c.loc}`);
  return out.join('\n') + '\n';
}
const T0400 = 1113433210000; // 2005-04-13 16:00:10 PDT
const T0500 = T0400 + 3_600_000; // 17:00:10 PDT

test('importTrajectories: the whole summary and manifest of a small raw file, worked out by hand', async () => {
  // Vehicle 7 in lane 10 (frames 100, 102, 101: one out of order, 101 twice), black-listed 1628, vehicle 9 in lane 2, one bad row.
  const rows = txtRows([{ id: 7, lane: 10, frames: [100, 102, 101, 101] }, { id: 1628, lane: 3, frames: [100, 101, 102] }, { id: 9, lane: 2, frames: [100, 101, 102] }]).split('\n');
  rows.splice(4, 0, withTok(5, 'abc')); // line 5
  const f = put('trajectories-0400-0415.txt', rows.join('\n'));
  const { store, summary } = await importTrajectories([f]);
  const expected = {
    files: [f], formats: ['ngsim-txt'], map: 'i80', slot: '0400-0415', rowsRead: 11, rowsKept: 6,
    badRows: { ...ZERO_COUNTS, nonNumeric: 1 }, duplicatesDropped: 1, rowsFiltered: { location: 0, slot: 0, blackList: 3 },
    blackListedVehicles: [1628], outOfOrderRows: 1, gaps: { vehicles: 0, missingFrames: 0 }, vehicles: 2, frames: 3,
    firstFrame: 100, lastFrame: 102, lanes: [2, 10], timeSpanS: 0.2, warnings: [], examples: [`${f}:5: field Local_Y: 'abc' is not a number`],
  };
  assert.deepEqual(summary, expected);
  const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
  assert.deepEqual(store.manifest, { format: 'ppuu-tracks', version: 1, map: 'i80', slot: '0400-0415', sources: [{ file: f, format: 'ngsim-txt' }], summary: expected, writtenBy: `ppuu ${version}`, vehicles: [] });
  assert.deepEqual(store.vehicles.map((v) => [v.vehicleId, Array.from(v.frames)]), [[7, [100, 101, 102]], [9, [100, 101, 102]]]);
  // --strict stops at the bad row.
  assert.equal(await userError(() => importTrajectories([f], { strict: true })), `${f}:5: field Local_Y: 'abc' is not a number (--strict)`);
});

test('importTrajectories: black lists per slot, sorted; --no-blacklist; what removed every row is named', async () => {
  const f = put('trajectories-0500-0515.txt', txtRows([{ id: 537, frames: [1, 2] }, { id: 1119, frames: [1, 2] }, { id: 7, frames: [1, 2] }]));
  const { summary } = await importTrajectories([f]);
  assert.deepEqual([summary.blackListedVehicles, summary.rowsFiltered.blackList, summary.vehicles, summary.rowsKept], [[537, 1119], 4, 1, 2]);
  const all = await importTrajectories([f], { blackList: false });
  assert.deepEqual([all.summary.blackListedVehicles, all.summary.rowsFiltered.blackList, all.summary.vehicles, all.summary.rowsKept], [[], 0, 3, 6]);
  const banned = put('trajectories-0400-0415.txt', txtRows([{ id: 1628, frames: [1, 2, 3] }]));
  assert.equal(await userError(() => importTrajectories([banned])), `${banned}: no trajectory rows kept of 3 read (3 rows of black-listed vehicles); nothing to import`);
  const bad = put('plain.txt', [withTok(0, '-4'), withTok(5, 'x')].join('\n') + '\n');
  assert.equal(await userError(() => importTrajectories([bad])), `${bad}: no trajectory rows kept of 2 read (2 bad rows); nothing to import`);
});

test('importTrajectories: the slot from --slot, the mapping or raw file names only; the map from the slot, else unknown', async () => {
  const plain = put('plain.txt', txtRows([{ id: 7, frames: [1, 2] }]));
  const p = await importTrajectories([plain]);
  assert.deepEqual([p.summary.slot, p.summary.map], [null, 'unknown']);
  // --slot wins over the file name and picks that slot's black list; raw rows are not filtered by their clock (17:00 here).
  const named = put('trajectories-0500-0515.txt', txtRows([{ id: 1628, frames: [1, 2] }, { id: 537, frames: [1, 2], clock0: T0500 }]));
  const s = await importTrajectories([named], { slot: '0400-0415' });
  assert.deepEqual([s.summary.slot, s.summary.map, s.summary.blackListedVehicles, s.summary.rowsFiltered, s.summary.vehicles], ['0400-0415', 'i80', [1628], { location: 0, slot: 0, blackList: 2 }, 1]);
  // A raw file's slot name counts, a CSV's does not; progress runs over both files' bytes.
  const txt = put('trajectories-0400-0415.txt', txtRows([{ id: 7, frames: [1, 2] }]));
  const csv = put('export-0500-0515.csv', portalRows([{ id: 8, clock: T0400, loc: 'i-80' }]));
  const progress: [number, number][] = [];
  const both = await importTrajectories([txt, csv], { onProgress: (done, total) => progress.push([done, total]) });
  assert.deepEqual([both.summary.slot, both.summary.formats, both.summary.map, both.summary.vehicles], ['0400-0415', ['ngsim-txt', 'ngsim-csv'], 'i80', 2]);
  const a = readFileSync(txt).length;
  const b = readFileSync(csv).length;
  assert.deepEqual(progress, [[a, a + b], [a + b, a + b]]);
  // A mapping's slot and location; a CSV without a clock column is not filtered by --slot.
  const m = put('m.json', JSON.stringify({ format: 'ppuu-mapping', version: 1, location: 'us-101', slot: '0805-0820', columns: { vehicleId: { column: 'id' }, frame: { column: 'f' }, localX: { column: 'x', unit: 'm' }, localY: { column: 'y', unit: 'm' } } }));
  const d = put('d.csv', 'id,f,x,y\n3,1,1.8,5\n3,2,1.8,6\n');
  const byMap = await importTrajectories([d], { mapping: m });
  assert.deepEqual([byMap.summary.slot, byMap.summary.map, byMap.summary.formats], ['0805-0820', 'us101', ['mapped']]);
  const noClock = await importTrajectories([d], { mapping: m, slot: '0750-0805' });
  assert.deepEqual([noClock.summary.slot, noClock.summary.rowsKept, noClock.summary.rowsFiltered.slot], ['0750-0805', 2, 0]);
});

test('importTrajectories: portal CSV clocks name the slot or warn of several; --slot filters by clock; several locations need --location', async () => {
  const one = put('one.csv', portalRows([{ id: 2, clock: T0400, loc: 'i-80' }, { id: 1628, clock: T0400, loc: 'i-80' }]));
  const noLoc = await importTrajectories([one]);
  assert.deepEqual([noLoc.summary.map, noLoc.summary.slot, noLoc.summary.vehicles], ['i80', null, 2], 'without a known site the clock names no slot');
  const bySite = await importTrajectories([one], { location: 'I80' });
  // A clock outside every known slot (noon) names none: the one slot met is still the store's.
  const noon = put('noon.csv', portalRows([{ id: 5, clock: T0400 - 4 * 3_600_000, loc: 'i-80' }, { id: 2, clock: T0400, loc: 'i-80' }]));
  const withNoon = await importTrajectories([noon], { location: 'i80' });
  assert.deepEqual([withNoon.summary.slot, withNoon.summary.warnings, withNoon.summary.vehicles], ['0400-0415', [], 2]);
  assert.deepEqual([bySite.summary.map, bySite.summary.slot, bySite.summary.blackListedVehicles, bySite.summary.warnings], ['i80', '0400-0415', [1628], []]);
  const two = put('two.csv', portalRows([{ id: 3, clock: T0500, loc: 'i-80' }, { id: 2, clock: T0400, loc: 'i-80' }, { id: 4, clock: T0500, loc: 'us-101' }]));
  assert.equal(await userError(() => importTrajectories([two])), `${two}: rows from several locations (i-80, us-101); choose one with --location NAME`);
  const several = await importTrajectories([two], { location: 'i-80' });
  assert.deepEqual([several.summary.slot, several.summary.vehicles, several.summary.rowsFiltered], [null, 2, { location: 3, slot: 0, blackList: 0 }]);
  assert.deepEqual(several.summary.warnings, ['rows from several recording slots (0400-0415, 0500-0515); vehicle ids restart in each slot, so use --slot to import one']);
  const late = await importTrajectories([two], { location: 'i-80', slot: '0500-0515' });
  assert.deepEqual([late.summary.slot, late.store.vehicles.map((v) => v.vehicleId), late.summary.rowsFiltered, late.summary.warnings], ['0500-0515', [3], { location: 3, slot: 3, blackList: 0 }, []]);
  assert.equal(await userError(() => importTrajectories([two], { location: 'us101', slot: '0400-0415' })), `${two}: no trajectory rows kept of 9 read (6 rows of other locations, 3 rows outside slot 0400-0415); nothing to import`);
});

test('importTrajectories: --format ngsim-csv on a file without the portal columns names the built-in layout', async () => {
  const f = put('short.csv', 'Vehicle_ID,Frame_ID,Local_X,Local_Y\n1,2,3,4\n');
  assert.equal(await userError(() => importTrajectories([f], { format: 'ngsim-csv' })), `${f}:1: field Global_Time: column missing from the header (needed for globalTime by the NGSIM CSV export layout)`);
});

test('importTrajectories: a file of no known format is named with the first 60 characters of its first line', async () => {
  const first = 'a;b;c;d;e;f;g;h;i;j;k;l;m;n;o;p;q;r;s;t;u;v;w;x;y;z;0;1;2;3;4;5;6;7;8;9';
  const f = put('odd.csv', first + '\n1;2\n');
  assert.equal(await userError(() => importTrajectories([f])), `${f}:1: cannot tell the format from '${first.slice(0, 60)}'; give --format ngsim-txt|ngsim-csv, or --mapping FILE`);
  assert.equal(first.slice(0, 60).length, 60);
});

function track(id: number, o: { speeds?: number[]; lengthM?: number; lane?: number; xM?: number; n?: number } = {}): VehicleTrack {
  const speeds = o.speeds ?? [20];
  const n = o.n ?? 11;
  return {
    vehicleId: id, frames: Int32Array.from({ length: n }, (_, i) => i), localXM: new Float32Array(n).fill(o.xM ?? 1.85), localYM: new Float32Array(n),
    speedMps: Float32Array.from({ length: n }, (_, i) => speeds[i % speeds.length]!), accMps2: new Float32Array(n), lane: new Int16Array(n).fill(o.lane ?? 1),
    lengthM: o.lengthM ?? 4.5, widthM: 1.8, vClass: 2,
  };
}

test('unitProblems: the exact bounds are plausible; medians of sorted finite values; lanes sorted, lane 0 left out, every sample of a lane used', () => {
  const pre = 'implausible values after unit conversion: ';
  const feet = 'likely cause: values in feet read as metres (a mapping unit or factor?)';
  const metres = 'likely cause: values in metres read as feet, or km/h and m/s mixed up (a mapping unit or factor?)';
  assert.equal(unitProblems([track(1, { speeds: [45] })]), null);
  assert.equal(unitProblems([track(1, { speeds: [45.5] })]), `${pre}median speed 45.5 m/s (plausible 0.5-45); ${feet}`);
  assert.equal(unitProblems([track(1, { lengthM: 12 })]), null);
  assert.equal(unitProblems([track(1, { lengthM: 2 })]), null);
  assert.equal(unitProblems([track(1, { lane: 1, xM: 1 }), track(2, { lane: 2, xM: 6.5 })]), null, 'lane width 5.5');
  // Per vehicle: 11 speeds cycling 60, NaN, 10, 50 -> finite sorted 10 x2, 50 x2, 60 x3: median 50; unsorted it would be 10 or NaN.
  assert.equal(unitProblems([track(1, { speeds: [60, NaN, 10, 50] })]), `${pre}median speed 50.0 m/s (plausible 0.5-45); ${feet}`);
  // Lanes met in the order 2, 1, 3 are compared 1-2, 2-3: widths 1 and 1.
  assert.equal(unitProblems([track(1, { lane: 2, xM: 2 }), track(2, { lane: 1, xM: 1 }), track(3, { lane: 3, xM: 3 })]), `${pre}median lane width 1.0 m (plausible 2.4-5.5); ${metres}`);
  // Lane 0 far away is not a lane: only 1-2 counts (3.7 m).
  assert.equal(unitProblems([track(1, { lane: 0, xM: 100 }), track(2, { lane: 1, xM: 2 }), track(3, { lane: 2, xM: 5.7 })]), null);
  // Lane 1 has three vehicles at 0, 0 and 9 m (median 0), lane 2 one at 1 m: width 1.0 (from the last vehicle alone it would be 8.0).
  assert.equal(unitProblems([track(1, { lane: 1, xM: 0 }), track(2, { lane: 1, xM: 0 }), track(3, { lane: 1, xM: 9 }), track(4, { lane: 2, xM: 1 })]), `${pre}median lane width 1.0 m (plausible 2.4-5.5); ${metres}`);
  // Too fast and too short: mixed causes.
  assert.equal(unitProblems([track(1, { speeds: [0.25], lengthM: 20 })]), `${pre}median speed 0.3 m/s (plausible 0.5-45), median vehicle length 20.0 m (plausible 2-12); likely cause: a unit declared wrongly in the mapping`);
});
