/** Unit tests of the import's building blocks: row ranges, skipped-row bookkeeping, track building, sniffing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../common/errors.js';
import { emptyRow, rangeProblem, type TrajectoryRow } from '../../data/import/row.js';
import { RowIssues } from '../../data/import/issues.js';
import { TrackBuilder } from '../../data/import/track-builder.js';
import { detectFormat, sniff } from '../../data/import/sniff.js';
import { checkMapping, loadMapping, NGSIM_CSV_MAPPING } from '../../data/import/mapping.js';
import { parseCell, readMappedCsv } from '../../data/import/csv-reader.js';
import type { ReadContext } from '../../data/import/read-context.js';
import { collectingCtx } from '../helpers/read-context.js';
import { readNgsimTxt } from '../../data/import/ngsim-txt.js';
import { importTrajectories, unitProblems } from '../../data/import/importer.js';
import type { VehicleTrack } from '../../data/tracks.js';
import { tempDir } from '../helpers/temp.js';

function row(o: Partial<TrajectoryRow> = {}): TrajectoryRow {
  return { ...emptyRow(), vehicleId: 7, frame: 100, localXM: 3, localYM: 50, lane: 2, vClass: 2, ...o };
}

test('emptyRow: every number unknown (NaN) except lane and class 0', () => {
  const r = emptyRow();
  for (const [k, v] of Object.entries(r)) {
    if (k === 'lane' || k === 'vClass') assert.equal(v, 0, k);
    else assert.ok(Number.isNaN(v), k);
  }
  assert.equal(Object.keys(r).length, 14);
});

test('rangeProblem: each field at its bounds is fine, just past them is reported with the field and the value', () => {
  const MAX = 2 ** 31 - 1;
  assert.equal(rangeProblem(row()), null);
  const ok: Partial<TrajectoryRow>[] = [
    { vehicleId: 0 }, { vehicleId: MAX }, { frame: 0 }, { frame: MAX }, { localXM: 1000 }, { localXM: -1000 }, { localYM: -1000 }, { localYM: 100000 },
    { speedMps: -1 }, { speedMps: 100 }, { accMps2: 50 }, { accMps2: -50 }, { lane: 0 }, { lane: 99 }, { lengthM: 50 }, { lengthM: 0.1 },
    { widthM: 10 }, { widthM: 0.1 }, { vClass: 0 }, { vClass: 9 },
  ];
  for (const o of ok) assert.equal(rangeProblem(row(o)), null, JSON.stringify(o));
  const bad: [Partial<TrajectoryRow>, string, string][] = [
    [{ vehicleId: -1 }, 'vehicleId', `must be an integer in [0, ${MAX}], got -1`],
    [{ vehicleId: MAX + 1 }, 'vehicleId', `must be an integer in [0, ${MAX}], got ${MAX + 1}`],
    [{ vehicleId: 1.5 }, 'vehicleId', `must be an integer in [0, ${MAX}], got 1.5`],
    [{ frame: -1 }, 'frame', `must be an integer in [0, ${MAX}], got -1`],
    [{ frame: MAX + 1 }, 'frame', `must be an integer in [0, ${MAX}], got ${MAX + 1}`],
    [{ frame: 2.5 }, 'frame', `must be an integer in [0, ${MAX}], got 2.5`],
    [{ localXM: 1000.5 }, 'localX', 'must be within +-1000 m, got 1000.5 m'],
    [{ localXM: -1000.5 }, 'localX', 'must be within +-1000 m, got -1000.5 m'],
    [{ localXM: NaN }, 'localX', 'must be within +-1000 m, got NaN m'],
    [{ localYM: -1000.5 }, 'localY', 'must be in [-1000, 100000] m, got -1000.5 m'],
    [{ localYM: 100000.5 }, 'localY', 'must be in [-1000, 100000] m, got 100000.5 m'],
    [{ localYM: NaN }, 'localY', 'must be in [-1000, 100000] m, got NaN m'],
    [{ speedMps: -1.5 }, 'speed', 'must be in [-1, 100] m/s, got -1.5 m/s'],
    [{ speedMps: 100.5 }, 'speed', 'must be in [-1, 100] m/s, got 100.5 m/s'],
    [{ accMps2: 50.5 }, 'acceleration', 'must be within +-50 m/s^2, got 50.5 m/s^2'],
    [{ accMps2: -50.5 }, 'acceleration', 'must be within +-50 m/s^2, got -50.5 m/s^2'],
    [{ lane: -1 }, 'lane', 'must be an integer in [0, 99], got -1'],
    [{ lane: 100 }, 'lane', 'must be an integer in [0, 99], got 100'],
    [{ lane: 1.5 }, 'lane', 'must be an integer in [0, 99], got 1.5'],
    [{ lengthM: 0 }, 'length', 'must be in (0, 50] m, got 0 m'],
    [{ lengthM: 50.5 }, 'length', 'must be in (0, 50] m, got 50.5 m'],
    [{ widthM: 0 }, 'width', 'must be in (0, 10] m, got 0 m'],
    [{ widthM: 10.5 }, 'width', 'must be in (0, 10] m, got 10.5 m'],
    [{ vClass: -1 }, 'vClass', 'must be an integer in [0, 9], got -1'],
    [{ vClass: 10 }, 'vClass', 'must be an integer in [0, 9], got 10'],
    [{ vClass: 0.5 }, 'vClass', 'must be an integer in [0, 9], got 0.5'],
  ];
  for (const [o, field, what] of bad) assert.deepEqual(rangeProblem(row(o)), [field, what], JSON.stringify(o));
  // The first problem in field order is the one reported.
  assert.deepEqual(rangeProblem(row({ frame: -1, lane: -1 }))?.[0], 'frame');
});

test('RowIssues: counts per reason, the first 20 messages, --strict throws the first as a UserError', () => {
  const issues = new RowIssues(false);
  assert.deepEqual(issues.counts, { columnCount: 0, nonNumeric: 0, outOfRange: 0, conflictingDuplicate: 0 });
  assert.equal(issues.total(), 0);
  for (let i = 0; i < 25; i++) issues.bad(i % 2 ? 'nonNumeric' : 'outOfRange', 'f.txt', i + 1, i < 3 ? 'Local_Y' : undefined, `problem ${i}`);
  issues.bad('columnCount', 'g.txt', 9, undefined, 'short');
  assert.deepEqual(issues.counts, { columnCount: 1, nonNumeric: 12, outOfRange: 13, conflictingDuplicate: 0 });
  assert.equal(issues.total(), 26);
  assert.equal(issues.examples.length, 20);
  assert.equal(issues.examples[0], 'f.txt:1: field Local_Y: problem 0');
  assert.equal(issues.examples[3], 'f.txt:4: problem 3');
  assert.equal(issues.examples[19], 'f.txt:20: problem 19');
  const strict = new RowIssues(true);
  assert.throws(() => strict.bad('outOfRange', 'h.txt', 3, 'v_Vel', 'too fast'), (e: unknown) => e instanceof UserError && e.message === 'h.txt:3: field v_Vel: too fast (--strict)');
  assert.equal(strict.total(), 0);
  assert.equal(strict.strict, true);
});

test('TrackBuilder: tracks by vehicle id and frame, exact copies dropped, conflicting copies reported by their first differing field, gaps counted', () => {
  const b = new TrackBuilder();
  const f0 = b.addFile('a.txt');
  const f1 = b.addFile('b.txt');
  assert.deepEqual([f0, f1], [0, 1]);
  let line = 0;
  const add = (o: Partial<TrajectoryRow>, file = f0) => b.add(row(o), file, ++line);
  // Vehicle 9: frames 3, 1, 2 (one row out of order), 2 again exactly (NaN speed equals NaN), 6 (frames 4, 5 missing).
  add({ vehicleId: 9, frame: 3, localYM: 13 });
  add({ vehicleId: 9, frame: 1, localYM: 11, lengthM: 4.5, widthM: 1.8, vClass: 3 });
  add({ vehicleId: 9, frame: 2, localYM: 12 });
  add({ vehicleId: 9, frame: 2, localYM: 12 });
  add({ vehicleId: 9, frame: 6, localYM: 16 });
  // Vehicle 4: one conflicting copy per field, each from b.txt.
  add({ vehicleId: 4, frame: 10, speedMps: 5, accMps2: 0.5, lengthM: 4, widthM: 2 });
  const conflicts: [Partial<TrajectoryRow>, string][] = [
    [{ localXM: 3.5 }, 'localX'], [{ localYM: 51 }, 'localY'], [{ speedMps: 6 }, 'speed'], [{ accMps2: 1 }, 'acceleration'],
    [{ lane: 3 }, 'lane'], [{ lengthM: 5 }, 'length'], [{ widthM: 2.5 }, 'width'], [{ vClass: 1 }, 'vClass'],
  ];
  for (const [o] of conflicts) add({ vehicleId: 4, frame: 10, speedMps: 5, accMps2: 0.5, lengthM: 4, widthM: 2, ...o }, f1);
  add({ vehicleId: 4, frame: 11, speedMps: 5, accMps2: 0.5, lengthM: 4, widthM: 2 });
  assert.equal(b.rows, 15);
  const issues = new RowIssues(false);
  const { vehicles, stats } = b.finish(issues);
  assert.deepEqual(vehicles.map((v) => v.vehicleId), [4, 9]);
  const v9 = vehicles[1]!;
  assert.deepEqual(Array.from(v9.frames), [1, 2, 3, 6]);
  assert.deepEqual(Array.from(v9.localYM), [11, 12, 13, 16]);
  assert.deepEqual([v9.lengthM, v9.widthM, v9.vClass], [4.5, Math.fround(1.8), 3], 'sizes of the first frame');
  assert.deepEqual(Array.from(v9.lane), [2, 2, 2, 2]);
  assert.ok(Number.isNaN(v9.speedMps[0]!));
  const v4 = vehicles[0]!;
  assert.deepEqual(Array.from(v4.frames), [10, 11]);
  assert.deepEqual([v4.localXM[0], v4.speedMps[0], v4.accMps2[0]], [3, 5, 0.5]);
  assert.deepEqual(stats, { duplicatesDropped: 1, outOfOrderRows: 1, gaps: { vehicles: 1, missingFrames: 2 } });
  assert.equal(issues.counts.conflictingDuplicate, conflicts.length);
  conflicts.forEach(([, field], i) => {
    assert.equal(issues.examples[i], `b.txt:${7 + i}: field ${field}: vehicle 4 frame 10 is also at a.txt:6 with a different ${field}; the first is kept`);
  });
});

test('TrackBuilder grows past its first 65,536 rows and keeps every value', () => {
  const b = new TrackBuilder();
  const f = b.addFile('big.txt');
  const n = 70_000;
  for (let i = 0; i < n; i++) b.add(row({ vehicleId: i % 2, frame: i >> 1, localYM: i * 0.5, lane: (i % 7) + 1 }), f, i + 1);
  const { vehicles, stats } = b.finish(new RowIssues(true));
  assert.equal(vehicles.length, 2);
  assert.equal(vehicles[1]!.frames.length, n / 2);
  assert.equal(vehicles[1]!.frames[n / 2 - 1], n / 2 - 1);
  assert.equal(vehicles[1]!.localYM[n / 2 - 1], (n - 1) * 0.5);
  assert.equal(vehicles[0]!.lane[n / 2 - 1], ((n - 2) % 7) + 1);
  assert.deepEqual(stats, { duplicatesDropped: 0, outOfOrderRows: 0, gaps: { vehicles: 0, missingFrames: 0 } });
});

test('sniff: the first non-blank line without a BOM; missing, folder, empty, NUL and control-byte files are one-line UserErrors', () => {
  const dir = tempDir('ppuu-sniff-');
  const f = (name: string, body: string | Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, body);
    return p;
  };
  const ok = f('ok.txt', '\uFEFF\r\n  \r\n1 2 3\r\n4 5 6\n');
  assert.deepEqual(sniff(ok), { firstLine: '1 2 3', sizeBytes: 22 });
  const err = (p: string) => {
    try {
      sniff(p);
    } catch (e) {
      assert.ok(e instanceof UserError, String(e));
      return e.message;
    }
    assert.fail('expected a UserError');
  };
  assert.equal(err(join(dir, 'nope.txt')), `${join(dir, 'nope.txt')}: cannot read file (does it exist?)`);
  const sub = join(dir, 'sub');
  mkdirSync(sub);
  assert.equal(err(sub), `${sub}: is a folder, not a trajectory file`);
  const empty = f('empty.txt', ' \n\t\n');
  assert.equal(err(empty), `${empty}: empty file, no trajectory rows`);
  const nul = f('nul.txt', Buffer.from('1 2 3\n\u0000'));
  assert.equal(err(nul), `${nul}: binary file (NUL bytes), expected a text trajectory file`);
  // Control bytes: up to 1 % of the bytes are tolerated (tabs, CR, LF are text).
  const text = '1\t2 3\r\n'.repeat(14) + '12'; // 100 bytes
  assert.equal(sniff(f('one.txt', text.slice(0, 99) + '\u0001')).firstLine, '1\t2 3');
  const two = f('two.txt', text.slice(0, 98) + '\u0001\u001f');
  assert.equal(err(two), `${two}: binary file (control bytes), expected a text trajectory file`);
  const del = f('del.txt', text.slice(0, 98) + '\u007f\u0008');
  assert.match(err(del), /binary file \(control bytes\)/);
  const esc = f('esc.txt', text.slice(0, 98) + '\u000e\u001b');
  assert.match(err(esc), /binary file \(control bytes\)/);
  assert.equal(sniff(f('edge.txt', text.slice(0, 97) + '\u0009\u000d\u000b')).firstLine, '1\t2 3');
  assert.equal(sniff(f('space.txt', text.slice(0, 98) + '  ')).sizeBytes, 100);
});

test('detectFormat: whitespace-separated numbers are raw NGSIM, the portal header (any case, quoted) is the portal CSV, else null', () => {
  assert.equal(detectFormat('   1 2 3.5 -4 +5 .5 6. 1e3 2E-2'), 'ngsim-txt');
  assert.equal(detectFormat('1\t2'), 'ngsim-txt');
  assert.equal(detectFormat('12'), null);
  assert.equal(detectFormat('1 2 x'), null);
  assert.equal(detectFormat('1 2e'), null);
  assert.equal(detectFormat('1,2 3'), null);
  assert.equal(detectFormat('1 2 3a'), null);
  assert.equal(detectFormat('a1 2'), null);
  const header = 'Vehicle_ID,Frame_ID,Total_Frames,Global_Time,Local_X,Local_Y,Global_X,Global_Y,v_length,v_Width,v_Class,v_Vel,v_Acc,Lane_ID';
  assert.equal(detectFormat(header), 'ngsim-csv');
  assert.equal(detectFormat(header.split(',').map((h) => ` "${h.toUpperCase()}" `).join(',')), 'ngsim-csv');
  for (const drop of ['Vehicle_ID', 'Frame_ID', 'Total_Frames', 'Global_Time', 'Local_X', 'Local_Y', 'v_Vel', 'Lane_ID']) {
    assert.equal(detectFormat(header.replace(drop, 'other')), null, drop);
  }
  assert.equal(detectFormat('id,t,x,y'), null);
});

test('checkMapping: exactly one of frame and time; without a header every column is an index; loadMapping names an unreadable file', () => {
  const base = { format: 'ppuu-mapping', version: 1, columns: { vehicleId: { column: 'id' }, localX: { column: 'x', unit: 'm' }, localY: { column: 'y', unit: 'ft' } } };
  const err = (doc: unknown) => {
    try {
      checkMapping(doc, 'm.json');
    } catch (e) {
      assert.ok(e instanceof UserError, String(e));
      return e.message;
    }
    assert.fail('expected a UserError');
  };
  const withFrame = { ...base, columns: { ...base.columns, frame: { column: 'f' } } };
  assert.deepEqual(checkMapping(withFrame, 'm.json').columns.frame, { column: 'f' });
  assert.equal(checkMapping({ ...base, columns: { ...base.columns, time: { column: 't', unit: 's' } } }, 'm.json').columns.time?.unit, 's');
  assert.equal(err(base), 'm.json: field columns: give exactly one of "frame" and "time"');
  assert.equal(err({ ...base, columns: { ...withFrame.columns, time: { column: 't' } } }), 'm.json: field columns: give exactly one of "frame" and "time"');
  assert.equal(err({ ...withFrame, header: false }), 'm.json: field columns.vehicleId.column: must be a 0-based index when "header" is false');
  const indexed = { ...withFrame, header: false, columns: { vehicleId: { column: 0 }, frame: { column: 1 }, localX: { column: 2 }, localY: { column: 3 } } };
  assert.equal(checkMapping(indexed, 'm.json').columns.localY.column, 3);
  assert.equal(err({ ...indexed, columns: { ...indexed.columns, localY: { column: 'y' } } }), 'm.json: field columns.localY.column: must be a 0-based index when "header" is false');
  assert.equal(checkMapping({ ...withFrame, header: true }, 'm.json').header, true);
  const dir = tempDir('ppuu-mapping-');
  assert.throws(() => loadMapping(join(dir, 'none.json')), (e: unknown) => e instanceof UserError && e.message === `${join(dir, 'none.json')}: cannot read mapping file`);
  const good = join(dir, 'ok.json');
  writeFileSync(good, JSON.stringify(withFrame));
  assert.deepEqual(loadMapping(good), withFrame);
  assert.equal(checkMapping(NGSIM_CSV_MAPPING, 'builtin').columns.localX.unit, 'ft');
});

test('parseCell: plain decimals, quoted thousands separators; anything else is NaN', () => {
  const cases: [string, number][] = [['12', 12], [' 12.5 ', 12.5], ['-3', -3], ['+4.', 4], ['.5', 0.5], ['1e3', 1000], ['2.5E-1', 0.25], ['1,156', 1156], ['-1,234,567.25', -1234567.25], ['12,345.', 12345]];
  for (const [s, v] of cases) assert.equal(parseCell(s), v, s);
  for (const s of ['', ' ', 'abc', '1,15', '1,2345', '12a', '1.2.3', '0x10', 'Infinity', '1,156,7']) assert.ok(Number.isNaN(parseCell(s)), s);
});

/** Reads a mapped CSV with a collecting context: the rows (copied), the issues, the counts. */
async function readCsv(text: string, mapping: object, o: { location?: string | null; strict?: boolean } = {}) {
  const file = join(tempDir('ppuu-csv-'), 'd.csv');
  writeFileSync(file, text);
  const { rows, bytes, ctx } = collectingCtx(file, o);
  const m = checkMapping({ format: 'ppuu-mapping', version: 1, ...mapping }, 'm.json');
  await readMappedCsv(ctx, m, 'm.json');
  return { rows, ctx, bytes, file };
}

async function csvError(text: string, mapping: object): Promise<string> {
  try {
    await readCsv(text, mapping);
  } catch (e) {
    assert.ok(e instanceof UserError, String(e));
    return e.message.replace(/^.*d\.csv/, 'd.csv');
  }
  assert.fail('expected a UserError');
}

test('readMappedCsv: named columns in any case, units, optional blank columns, location filter, bad rows by reason', async () => {
  const columns = {
    vehicleId: { column: 'ID' }, frame: { column: 'frame' }, localX: { column: 'x', unit: 'ft' }, localY: { column: 'y', unit: 'km' },
    speed: { column: 'v', unit: 'km/h' }, acceleration: { column: 'a', unit: 'ft/s2' }, lane: { column: 'lane' }, length: { column: 'len', unit: 'cm' },
    width: { column: 'wid', unit: 'm' }, vClass: { column: 'cls' }, preceding: { column: 'prec' }, spaceHeadway: { column: 'sh', unit: 'ft' },
    timeHeadway: { column: 'th', unit: 'ms' }, globalTime: { column: 'gt', unit: 'ms' }, location: { column: 'site' },
  };
  const header = 'id,FRAME,x,y,v,a,lane,len,wid,cls,prec,sh,th,gt,site';
  const text = [
    header,
    '1,10,10,0.5,36,2,3,450,1.8,2,0,20,1500,1113433210000,I-80', // line 2
    '1,11,10,0.5,36,2,3,450,1.8,2,,,,,i80', // blank optional columns
    '2,10,10,0.5,36,2,3,450,1.8,2,0,0,0,1113433210,us-101', // other site; 10-digit clock
    '3,10,10,,36,2,3,450,1.8,2,0,0,0,0,i-80', // blank core column: not a number
    '4,10,10,0.5,36,2,3', // short row
    '5,10,2000,0.5,36,2,3,450,1.8,2,0,0,0,0,i-80', // 2000 ft = 609.6 m lateral: fine
    '6,10,4000,0.5,36,2,3,450,1.8,2,0,0,0,0,i-80', // 4000 ft: out of range
    '7,10,10,0.5,36,2,3,450,1.8,2,x,0,0,0,i-80', // text in an optional column: not a number
  ].join('\n') + '\n';
  const all = await readCsv(text, { columns });
  assert.deepEqual(all.rows.map((r) => [r.vehicleId, r.line]), [[1, 2], [1, 3], [2, 4], [5, 7]]);
  const r = all.rows[0]!;
  const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-9 * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
  near(r.localXM, 10 * 0.3048, 'x');
  near(r.localYM, 500, 'y');
  near(r.speedMps, 10, 'v');
  near(r.accMps2, 2 * 0.3048, 'a');
  assert.equal(r.lane, 3);
  near(r.lengthM, 4.5, 'length');
  near(r.widthM, 1.8, 'width');
  assert.equal(r.vClass, 2);
  assert.equal(r.preceding, 0);
  near(r.spaceHeadwayM, 20 * 0.3048, 'space headway');
  near(r.timeHeadwayS, 1.5, 'time headway');
  assert.equal(r.globalTimeMs, 1113433210000);
  const blank = all.rows[1]!;
  for (const k of ['preceding', 'spaceHeadwayM', 'timeHeadwayS', 'globalTimeMs'] as const) assert.ok(Number.isNaN(blank[k]), k);
  assert.equal(all.rows[2]!.globalTimeMs, 1113433210000, 'a 10-digit ms clock is seconds');
  assert.deepEqual(all.ctx.counts.rowsRead, 8);
  assert.deepEqual([...all.ctx.counts.locationsSeen].sort(), ['I-80', 'i-80', 'i80', 'us-101']);
  assert.deepEqual(all.ctx.issues.counts, { columnCount: 1, nonNumeric: 2, outOfRange: 1, conflictingDuplicate: 0 });
  const ex = all.ctx.issues.examples.map((m) => m.replace(/^.*d\.csv/, 'd.csv'));
  assert.deepEqual(ex, [
    "d.csv:5: field y: '' is not a number",
    'd.csv:6: has 7 columns, the header has 15',
    'd.csv:8: field x: must be within +-1000 m, got 1219.2 m',
    "d.csv:9: field prec: 'x' is not a number",
  ]);
  assert.equal(all.bytes.at(-1), Buffer.byteLength(text));
  // The location filter compares letters and digits only, in any case.
  const i80 = await readCsv(text, { columns }, { location: 'I80' });
  assert.deepEqual(i80.rows.map((x) => x.vehicleId), [1, 1, 5]);
  assert.equal(i80.ctx.counts.filteredLocation, 1);
  assert.equal(i80.ctx.counts.rowsRead, 8);
});

test('readMappedCsv: headerless files by index and delimiter, time in frames at the frame rate, a globalTime in s', async () => {
  const mapping = {
    header: false, delimiter: ';', frameRateHz: 25,
    columns: { vehicleId: { column: 0 }, time: { column: 1, unit: 's' }, localX: { column: 2, unit: 'm' }, localY: { column: 3, unit: 'm' }, globalTime: { column: 4, unit: 's' } },
  };
  const { rows, ctx } = await readCsv('8;0.04;1;2;1113433210.5\n8;0.08;1;2.5;1113433210.6\n8;0.1;1;3\n', mapping);
  assert.deepEqual(rows.map((r) => [r.vehicleId, r.frame, r.localYM, r.line]), [[8, 1, 2, 1], [8, 2, 2.5, 2]]);
  assert.equal(rows[0]!.globalTimeMs, 1113433210500);
  assert.ok(Number.isNaN(rows[0]!.speedMps) && rows[0]!.lane === 0);
  assert.equal(ctx.counts.rowsRead, 3);
  assert.deepEqual(ctx.issues.examples.map((m) => m.replace(/^.*d\.csv/, 'd.csv')), ['d.csv:3: has 4 columns, the first row has 5']);
  // Time that is not on a frame: kept fractional, then refused as a frame.
  const { globalTime: _gt, ...noClock } = mapping.columns;
  const off = await readCsv('8;0.05;1;2\n', { ...mapping, columns: noClock });
  assert.deepEqual(off.rows, []);
  assert.deepEqual(off.ctx.issues.examples.map((m) => m.replace(/^.*d\.csv/, 'd.csv')), ['d.csv:1: field column 1: must be an integer in [0, 2147483647], got 1.25']);
});

test('readMappedCsv: a missing column, a too narrow first row, no rows, only a header and broken quoting are one-line errors', async () => {
  const columns = { vehicleId: { column: 'id' }, frame: { column: 'f' }, localX: { column: 'x' }, localY: { column: 'y' } };
  assert.equal(await csvError('id,f,x,z\n1,2,3,4\n', { columns }), 'd.csv:1: field y: column missing from the header (needed for localY by m.json)');
  assert.equal(await csvError('1,2,3\n', { header: false, columns: { vehicleId: { column: 0 }, frame: { column: 1 }, localX: { column: 2 }, localY: { column: 3 } } }),
    'd.csv:1: has 3 columns, m.json needs at least 4 (wrong delimiter or format?)');
  assert.equal(await csvError('id,f,x,y\n', { columns }), 'd.csv: a header and no data rows; nothing to import');
  assert.equal(await csvError('\n\n', { columns }), 'd.csv: no rows');
  assert.match(await csvError('id,f,x,y\n1,2,"3,4\n', { columns }), /^d\.csv:\d+: Quote Not Closed/);
  assert.match(await csvError('id,f,x,y\n1,2,3,4\n', { columns: { ...columns, location: { column: 'site' } } }), /^d\.csv:1: field site: column missing from the header \(needed for location by m\.json\)$/);
});

/** Reads a raw NGSIM txt with a collecting context. */
async function readTxt(body: string | Buffer) {
  const file = join(tempDir('ppuu-txt-'), 't.txt');
  writeFileSync(file, body);
  const rows: (TrajectoryRow & { line: number })[] = [];
  const ctx: ReadContext = {
    file, issues: new RowIssues(false), location: null,
    onRow: (r, line) => rows.push({ ...r, line }), onBytes: () => {},
    counts: { rowsRead: 0, filteredLocation: 0, locationsSeen: new Set() },
  };
  await readNgsimTxt(ctx);
  return { rows, ctx, examples: ctx.issues.examples.map((m) => m.replace(/^.*t\.txt/, 't.txt')) };
}

test('readNgsimTxt: numbers in every notation parsed from the bytes, feet to metres, a BOM, tabs and CR, a last line without newline', async () => {
  const FT = 0.3048;
  const tokens = ['3', '+120', '500', '1113433210.5', '-1.5e1', '2.5E+2', '1e30', '0', '15.', '.6e1', '2', '3.0e-0', '-0.5', '04', '7', '0', '1e2', '1.25e-25'];
  const line = tokens.join(' \t ');
  const { rows, ctx, examples } = await readTxt('\uFEFF' + line + '\r\n' + line.replace('+120', '121').replace('1113433210.5', '1113433210600') + '\n\n' + line.replace('+120', '122'));
  assert.deepEqual(examples, []);
  assert.equal(ctx.counts.rowsRead, 3);
  assert.deepEqual(rows.map((r) => [r.vehicleId, r.frame, r.line]), [[3, 120, 1], [3, 121, 2], [3, 122, 4]]);
  const r = rows[0]!;
  const near = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(1e-30, Math.abs(b)), `${what}: ${a} vs ${b}`);
  assert.equal(r.globalTimeMs, 1113433210500);
  assert.equal(rows[1]!.globalTimeMs, 1113433210600);
  near(r.localXM, -15 * FT, 'Local_X');
  near(r.localYM, 250 * FT, 'Local_Y');
  near(r.lengthM, 15 * FT, 'v_Length');
  near(r.widthM, 6 * FT, 'v_Width');
  assert.equal(r.vClass, 2);
  near(r.speedMps, 3 * FT, 'v_Vel');
  near(r.accMps2, -0.5 * FT, 'v_Acc');
  assert.equal(r.lane, 4);
  assert.equal(r.preceding, 7);
  near(r.spaceHeadwayM, 100 * FT, 'Space_Headway');
  near(r.timeHeadwayS, 1.25e-25, 'Time_Headway');
});

test('readNgsimTxt: bad tokens, column counts and ranges are reported per row with the NGSIM column name', async () => {
  const good = ['1', '100', '500', '1113433210000', '6', '30', '0', '0', '15', '6', '2', '30', '0', '1', '0', '0', '0', '0'];
  const withTok = (i: number, t: string) => good.map((g, k) => (k === i ? t : g)).join(' ');
  const lines = [
    good.join(' '),
    withTok(5, '1.2.3'), // line 2
    withTok(11, '123456789012345678'), // 18 digits
    withTok(12, '1e'),
    withTok(4, '-'),
    withTok(13, 'x'.repeat(60)),
    good.slice(0, 17).join(' '), // line 7: 17 columns
    withTok(11, '350'), // line 8: 350 ft/s
    withTok(1, '12345678901234567'), // 17 digits: a number (out of range as a frame)
    withTok(9, '+.5'),
    good.slice(0, 5).join(' '), // last line, cut
  ];
  const { rows, examples, ctx } = await readTxt(lines.join('\n'));
  assert.deepEqual(rows.map((r) => r.line), [1, 10]);
  assert.ok(Math.abs(rows[1]!.widthM - 0.5 * 0.3048) < 1e-12);
  assert.equal(ctx.counts.rowsRead, 11);
  assert.deepEqual(examples, [
    "t.txt:2: field Local_Y: '1.2.3' is not a number",
    "t.txt:3: field v_Vel: '123456789012345678' is not a number",
    "t.txt:4: field v_Acc: '1e' is not a number",
    "t.txt:5: field Local_X: '-' is not a number",
    `t.txt:6: field Lane_ID: '${'x'.repeat(40)}' is not a number`,
    't.txt:7: has 17 columns, expected 18',
    't.txt:8: field v_Vel: must be in [-1, 100] m/s, got 106.68 m/s',
    't.txt:9: field Frame_ID: must be an integer in [0, 2147483647], got 12345678901234568',
    't.txt:11: has 5 columns, expected 18 (truncated last line?)',
  ]);
  // A first row with another layout stops the import; so does a file with no rows.
  await assert.rejects(readTxt(good.slice(0, 10).join(' ') + '\n' + good.join(' ') + '\n'), (e: unknown) => e instanceof UserError && /t\.txt:1: has 10 columns, raw NGSIM trajectories have 18 \(use --format ngsim-csv, or --mapping for another layout\)$/.test(e.message));
  await assert.rejects(readTxt('\n \n\t\n'), (e: unknown) => e instanceof UserError && /t\.txt: empty file, no trajectory rows$/.test(e.message));
});

function track(id: number, o: { speeds?: number[]; lengthM?: number; lane?: number; xM?: number } = {}): VehicleTrack {
  const speeds = o.speeds ?? [20];
  const n = Math.max(speeds.length, 11);
  return {
    vehicleId: id, frames: Int32Array.from({ length: n }, (_, i) => i), localXM: new Float32Array(n).fill(o.xM ?? 1.85), localYM: new Float32Array(n),
    speedMps: Float32Array.from({ length: n }, (_, i) => speeds[i % speeds.length]!), accMps2: new Float32Array(n), lane: new Int16Array(n).fill(o.lane ?? 1),
    lengthM: o.lengthM ?? 4.5, widthM: 1.8, vClass: 2,
  };
}

test('unitProblems: median speed, vehicle length and lane width against highway ranges, with the likely cause', () => {
  const lanes = (w: number) => [1, 2, 3].map((l) => track(l, { lane: l, xM: 1 + (l - 1) * w }));
  assert.equal(unitProblems(lanes(3.7)), null);
  assert.equal(unitProblems([track(1, { speeds: [NaN] })]), null, 'no speeds: nothing to judge');
  const pre = 'implausible values after unit conversion: ';
  // Per vehicle the median of its speeds (even counts: the mean of the middle two), then the median over vehicles.
  const fast = [track(1, { speeds: [40, 50, 60, 70] }), track(2, { speeds: [50] }), track(3, { speeds: [10, 90, 46] })];
  assert.equal(unitProblems(fast), `${pre}median speed 50.0 m/s (plausible 0.5-45); likely cause: values in feet read as metres (a mapping unit or factor?)`);
  assert.equal(unitProblems([track(1, { speeds: [40, 50] }), track(2, { speeds: [45] })]), null, 'median 45: at the bound');
  assert.equal(unitProblems([track(1, { speeds: [0.5] })]), null);
  assert.equal(unitProblems([track(1, { speeds: [0.4] })]), `${pre}median speed 0.4 m/s (plausible 0.5-45); likely cause: values in metres read as feet, or km/h and m/s mixed up (a mapping unit or factor?)`);
  assert.equal(unitProblems([track(1, { lengthM: 1.5 }), track(2, { lengthM: 1.2 })]), `${pre}median vehicle length 1.4 m (plausible 2-12); likely cause: values in metres read as feet, or km/h and m/s mixed up (a mapping unit or factor?)`);
  assert.equal(unitProblems([track(1, { lengthM: 12 }), track(2, { lengthM: 2 })]), null);
  assert.equal(unitProblems([track(1, { speeds: [60], lengthM: 1 })]), `${pre}median speed 60.0 m/s (plausible 0.5-45), median vehicle length 1.0 m (plausible 2-12); likely cause: a unit declared wrongly in the mapping`);
  assert.equal(unitProblems(lanes(1)), `${pre}median lane width 1.0 m (plausible 2.4-5.5); likely cause: values in metres read as feet, or km/h and m/s mixed up (a mapping unit or factor?)`);
  assert.equal(unitProblems(lanes(6)), `${pre}median lane width 6.0 m (plausible 2.4-5.5); likely cause: values in feet read as metres (a mapping unit or factor?)`);
  // Only neighbouring lane numbers are compared, lane 0 (unknown) is left out, and every 10th row is sampled.
  assert.equal(unitProblems([track(1, { lane: 1, xM: 0 }), track(3, { lane: 3, xM: 1 })]), null);
  assert.equal(unitProblems([track(1, { lane: 0, xM: 0 }), track(2, { lane: 1, xM: 5 }), track(3, { lane: 2, xM: 8.7 })]), null);
  const sampled = track(2, { lane: 2, xM: 4.7 });
  sampled.localXM.fill(100, 1, 10); // rows 1..9 are not sampled
  assert.equal(unitProblems([track(1, { lane: 1, xM: 1 }), sampled]), null);
});

test('importTrajectories: argument checks, slots from file names, frame rate and gap warnings, the summary\'s frame range', async () => {
  const dir = tempDir('ppuu-imp-');
  const rejects = async (p: Promise<unknown>, message: string) =>
    assert.rejects(p, (e: unknown) => e instanceof UserError && e.message === message, message);
  await rejects(importTrajectories([]), 'no input files');
  await rejects(importTrajectories(['x.csv'], { format: 'mapped' }), '--format mapped needs --mapping FILE');
  const txt = (name: string, frames: number[]) => {
    const p = join(dir, name);
    const rows = frames.map((f) => ['5', String(f), '9', '0', '6', String(10 + f), '0', '0', '15', '6', '2', '30', '0', '1', '0', '0', '0', '0'].join(' '));
    writeFileSync(p, rows.join('\n') + '\n');
    return p;
  };
  const a = txt('trajectories-0400-0415.txt', [100, 101, 102]);
  const b = txt('trajectories-0500-0515.txt', [100]);
  await rejects(importTrajectories([a, b]), 'files of different slots (0400-0415, 0500-0515): import each slot into its own store');
  // Frames 10..13 and 17 of one car: a gap of 3 frames.
  const g = txt('gappy.txt', [10, 11, 12, 13, 17]);
  const { summary } = await importTrajectories([g]);
  assert.equal(summary.slot, null);
  assert.deepEqual([summary.firstFrame, summary.lastFrame, summary.frames, summary.timeSpanS], [10, 17, 5, 0.7]);
  assert.deepEqual(summary.warnings, ['1 vehicles have gaps in their frames (3 frames missing); their rows are kept as they are']);
  assert.deepEqual(summary.gaps, { vehicles: 1, missingFrames: 3 });
  // A mapped CSV at 25 Hz: a warning, and the time span at that rate.
  const csv = join(dir, 'd.csv');
  writeFileSync(csv, 'id,t,x,y,v,len\n1,0,1.85,3,20,4.5\n1,0.04,1.85,4,20,4.5\n1,0.2,1.85,5,20,4.5\n');
  const m = join(dir, 'm.json');
  writeFileSync(m, JSON.stringify({ format: 'ppuu-mapping', version: 1, frameRateHz: 25, columns: { vehicleId: { column: 'id' }, time: { column: 't', unit: 's' }, localX: { column: 'x', unit: 'm' }, localY: { column: 'y', unit: 'm' }, speed: { column: 'v', unit: 'm/s' }, length: { column: 'len', unit: 'm' } } }));
  const r = await importTrajectories([csv], { mapping: m });
  assert.deepEqual([r.summary.firstFrame, r.summary.lastFrame, r.summary.timeSpanS, r.summary.formats[0]], [0, 5, 0.2, 'mapped']);
  assert.ok(r.summary.warnings.includes('frames are at 25 Hz; track stores are read as 10 Hz (one frame = 0.1 s)'), JSON.stringify(r.summary.warnings));
  // Implausible units are a warning, and with --strict an error; three files are named by the first.
  writeFileSync(m, JSON.stringify({ format: 'ppuu-mapping', version: 1, columns: { vehicleId: { column: 'id' }, frame: { column: 't' }, localX: { column: 'x', unit: 'm' }, localY: { column: 'y', unit: 'm' }, speed: { column: 'v', unit: 'm/s' } } }));
  writeFileSync(csv, 'id,t,x,y,v\n1,0,1.85,3,90\n1,1,1.85,4,90\n');
  const w = await importTrajectories([csv], { mapping: m });
  assert.deepEqual(w.summary.warnings, ['implausible values after unit conversion: median speed 90.0 m/s (plausible 0.5-45); likely cause: values in feet read as metres (a mapping unit or factor?)']);
  await rejects(importTrajectories([csv, csv, csv], { mapping: m, strict: true }), `${csv} and 2 more files: implausible values after unit conversion: median speed 90.0 m/s (plausible 0.5-45); likely cause: values in feet read as metres (a mapping unit or factor?) (--strict)`);
  await rejects(importTrajectories([csv, csv], { mapping: m, strict: true }), `${csv}, ${csv}: implausible values after unit conversion: median speed 90.0 m/s (plausible 0.5-45); likely cause: values in feet read as metres (a mapping unit or factor?) (--strict)`);
});
