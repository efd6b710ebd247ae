import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { importTrajectories } from '../../data/import/importer.js';
import { readTrackStore } from '../../data/track-store.js';
import { UserError } from '../../common/errors.js';
import { tempDir } from '../helpers/temp.js';
import { ppuuInProcess } from '../helpers/cli.js';

const NGSIM = resolve(process.cwd(), '../shared/data/ngsim');
const haveSamples = existsSync(NGSIM);
const skipSamples = haveSamples ? false : `real NGSIM samples not found at ${NGSIM}`;

/** A small raw NGSIM txt: `vehicles` cars x `frames` rows, feet, padded with runs of spaces. */
function rawTxt(vehicles: number[], frames = 20): string[] {
  const lines: string[] = [];
  for (const [k, id] of vehicles.entries()) {
    for (let f = 0; f < frames; f++) {
      const y = 10 + 40 * k + 30 * f * 0.1;
      const lane = 1 + (k % 6);
      const cols = [id, 100 + f, frames, 1113433200000 + (100 + f) * 100, (lane - 0.5) * 12, y.toFixed(3), 6042842.012, 2133118.909, 15.5, 6.2, 2, '30.00', '0.00', lane, 0, 0, '0.00', '0.00'];
      lines.push(cols.map((c, i) => String(c).padStart(i < 2 ? 5 : 1)).join('   '));
    }
  }
  return lines;
}

function withDir(fn: (dir: string) => Promise<void>) {
  return async () => {
    const dir = tempDir('ppuu-import-');
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('real samples: Peachtree export (5,000 rows, 162 vehicles)', { skip: skipSamples }, async () => {
  const { summary, store } = await importTrajectories([join(NGSIM, 'peachtree-export-sample.csv')]);
  assert.equal(summary.formats[0], 'ngsim-csv');
  assert.equal(summary.map, 'peachtree');
  assert.equal(summary.rowsRead, 5000);
  assert.equal(summary.vehicles, 162);
  // The sample reuses vehicle 70's id for two recordings: same frames, different positions.
  assert.equal(summary.badRows.conflictingDuplicate, 19);
  assert.equal(summary.rowsKept, 5000 - 19);
  assert.match(summary.examples[0]!, /peachtree-export-sample\.csv:\d+: field \w+: vehicle 70 frame \d+ is also at .*:\d+/);
  for (const v of store.vehicles) for (let i = 1; i < v.frames.length; i++) assert.ok(v.frames[i]! > v.frames[i - 1]!);
  // Feet are converted: Peachtree cars are 14-43 ft long.
  const lengths = store.vehicles.map((v) => v.lengthM);
  assert.ok(Math.min(...lengths) > 14 * 0.3048 - 1e-6 && Math.max(...lengths) < 43 * 0.3048);
});

test('real samples: I-80 car-following and US-101 tracks through their mapping files', { skip: skipSamples }, async () => {
  const cf = await importTrajectories([join(NGSIM, 'i80-carfollowing-0400-0415.csv')], { mapping: 'data/mappings/i80-carfollowing.json' });
  assert.equal(cf.summary.rowsRead, 33779);
  assert.equal(cf.summary.rowsKept, 33779);
  assert.equal(cf.summary.vehicles, 71);
  assert.deepEqual(cf.summary.lanes, [1, 2, 3]);
  assert.equal(cf.summary.map, 'i80');
  assert.equal(cf.summary.slot, '0400-0415');
  const dir = join(NGSIM, 'us101-tracks');
  const files = readdirSync(dir).filter((f) => f.endsWith('.csv')).map((f) => join(dir, f));
  const us = await importTrajectories(files, { mapping: 'data/mappings/us101-tracks.json' });
  assert.equal(us.summary.vehicles, files.length);
  assert.equal(us.summary.badRows.nonNumeric + us.summary.badRows.outOfRange, 0);
  assert.equal(us.summary.gaps.vehicles, 0);
  assert.equal(us.summary.map, 'us101');
  assert.ok(us.summary.rowsKept > 100000);
  assert.ok(us.store.vehicles.every((v) => Number.isNaN(v.lengthM) && v.lane.every((l) => l === 0)));
});

test('raw txt: a clean file is read exactly, in metres', withDir(async (dir) => {
  const f = join(dir, 'trajectories-0400-0415.txt');
  writeFileSync(f, rawTxt([3, 1, 2]).join('\n') + '\n');
  const { summary, store } = await importTrajectories([f]);
  assert.equal(summary.formats[0], 'ngsim-txt');
  assert.deepEqual([summary.rowsRead, summary.rowsKept, summary.vehicles, summary.frames], [60, 60, 3, 20]);
  assert.deepEqual(summary.lanes, [1, 2, 3]);
  assert.equal(summary.timeSpanS, 1.9);
  assert.deepEqual(store.vehicles.map((v) => v.vehicleId), [1, 2, 3]);
  const v3 = store.vehicles[2]!;
  assert.ok(Math.abs(v3.localYM[0]! - 10 * 0.3048) < 1e-5);
  // Local_X of vehicle 3 (lane 1) is 6 ft, of vehicle 2 (lane 3) 30 ft.
  assert.ok(Math.abs(v3.localXM[0]! - 6 * 0.3048) < 1e-5, `Local_X ${v3.localXM[0]} m`);
  assert.ok(Math.abs(store.vehicles[1]!.localXM[5]! - 30 * 0.3048) < 1e-5, `Local_X ${store.vehicles[1]!.localXM[5]} m`);
  assert.ok(Math.abs(v3.speedMps[0]! - 30 * 0.3048) < 1e-5);
  assert.ok(Math.abs(v3.lengthM - 15.5 * 0.3048) < 1e-6);
  assert.equal(summary.map, 'i80');
}));

test('raw txt: truncated last line, text in a number, short row, duplicate and backwards frames', withDir(async (dir) => {
  const lines = rawTxt([1, 2, 3]);
  lines[5] = lines[5]!.replace(/^(\s*\S+\s+\S+\s+\S+\s+\S+\s+\S+\s+)\S+/, '$1abc'); // Local_Y of line 6
  lines[7] = lines[7]!.split(/\s+/).filter(Boolean).slice(0, 17).join(' '); // 17 columns on line 8
  lines.splice(10, 0, lines[9]!); // exact copy of line 10 as line 11
  const v2 = lines.slice(21, 41).reverse(); // vehicle 2's rows in reverse order
  lines.splice(21, 20, ...v2);
  let text = lines.join('\n');
  text = text.slice(0, text.length - 30); // cut the last line short, no newline
  const f = join(dir, 'corrupt.txt');
  writeFileSync(f, text);
  const { summary, store } = await importTrajectories([f]);
  assert.equal(summary.rowsRead, 61);
  assert.equal(summary.badRows.nonNumeric, 1);
  assert.equal(summary.badRows.columnCount, 2);
  assert.equal(summary.duplicatesDropped, 1);
  assert.equal(summary.outOfOrderRows, 19);
  assert.equal(summary.rowsKept, 61 - 3 - 1);
  assert.match(summary.examples.find((m) => m.includes('not a number'))!, /corrupt\.txt:6: field Local_Y: 'abc' is not a number/);
  assert.match(summary.examples.find((m) => m.includes(':8:'))!, /corrupt\.txt:8: has 17 columns, expected 18$/);
  assert.match(summary.examples.find((m) => m.includes('truncated'))!, /corrupt\.txt:61: has \d+ columns, expected 18 \(truncated last line\?\)/);
  const two = store.vehicles.find((v) => v.vehicleId === 2)!;
  assert.deepEqual([...two.frames], Array.from({ length: 20 }, (_, i) => 100 + i));
  // Vehicle 1 lost frames 105 and 107 (bad rows): gaps are reported, not filled; vehicle 3's
  // cut last row shortens its track without a gap.
  assert.equal(summary.gaps.vehicles, 1);
  assert.equal(summary.gaps.missingFrames, 2);
  assert.equal(store.vehicles.find((v) => v.vehicleId === 3)!.frames.length, 19);
}));

test('raw txt: conflicting duplicates are reported, --strict stops at the first bad row', withDir(async (dir) => {
  const lines = rawTxt([5]);
  const moved = lines[3]!.split(/\s+/).filter(Boolean);
  moved[1] = '101'; // frame 103 relabelled as 101: same vehicle and frame, other position
  lines[3] = moved.join(' ');
  const f = join(dir, 'conflict.txt');
  writeFileSync(f, lines.join('\n') + '\n');
  const { summary } = await importTrajectories([f]);
  assert.equal(summary.badRows.conflictingDuplicate, 1);
  assert.match(summary.examples[0]!, /conflict\.txt:4: field localY: vehicle 5 frame 101 is also at .*conflict\.txt:2/);
  await assert.rejects(importTrajectories([f], { strict: true }), (e: unknown) => e instanceof UserError && /conflict\.txt:4: field localY: .*\(--strict\)/.test(e.message));

  const bad = rawTxt([5]);
  bad[2] = bad[2]!.replace(/30\.00/, '9e9');
  writeFileSync(f, bad.join('\n') + '\n');
  await assert.rejects(importTrajectories([f], { strict: true }), /conflict\.txt:3: field v_Vel: must be in \[-1, 100\] m\/s/);
  const lax = await importTrajectories([f]);
  assert.equal(lax.summary.badRows.outOfRange, 1);
}));

test('empty, binary and wrong-layout files are one-line errors', withDir(async (dir) => {
  const empty = join(dir, 'empty.txt');
  writeFileSync(empty, '\n  \n');
  await assert.rejects(importTrajectories([empty]), (e: unknown) => e instanceof UserError && /empty\.txt: empty file/.test(e.message));
  const bin = join(dir, 'bin.txt');
  writeFileSync(bin, Buffer.from([1, 2, 0, 4, 5, 0, 0, 7]));
  await assert.rejects(importTrajectories([bin]), /bin\.txt: binary file/);
  const wide = join(dir, 'wide.txt');
  writeFileSync(wide, rawTxt([1]).map((l) => l + ' 7 8').join('\n'));
  await assert.rejects(importTrajectories([wide], { format: 'ngsim-txt' }), /wide\.txt:1: has 20 columns, raw NGSIM trajectories have 18/);
  const csv = join(dir, 'other.csv');
  writeFileSync(csv, 'a,b,c\n1,2,3\n');
  await assert.rejects(importTrajectories([csv]), /other\.csv:1: cannot tell the format/);
}));

test('I-80 black list drops the slot\'s listed vehicles; --no-blacklist keeps them', withDir(async (dir) => {
  const f = join(dir, 'trajectories-0400-0415.txt');
  writeFileSync(f, rawTxt([1628, 7, 2089]).join('\n') + '\n');
  const { summary } = await importTrajectories([f]);
  assert.equal(summary.slot, '0400-0415');
  assert.deepEqual(summary.blackListedVehicles, [1628, 2089]);
  assert.equal(summary.rowsFiltered.blackList, 40);
  assert.equal(summary.vehicles, 1);
  const kept = await importTrajectories([f], { blackList: false });
  assert.equal(kept.summary.vehicles, 3);
  // Another slot has another list.
  const g = join(dir, 'trajectories-0500-0515.txt');
  writeFileSync(g, rawTxt([1628, 537]).join('\n') + '\n');
  assert.deepEqual((await importTrajectories([g])).summary.blackListedVehicles, [537]);
}));

test('portal CSV: quoted thousands separators, truncated Global_Time, location filter', withDir(async (dir) => {
  const header = 'Vehicle_ID,Frame_ID,Total_Frames,Global_Time,Local_X,Local_Y,Global_X,Global_Y,v_length,v_Width,v_Class,v_Vel,v_Acc,Lane_ID,O_Zone,D_Zone,Int_ID,Section_ID,Direction,Movement,Preceding,Following,Space_Headway,Time_Headway,Location';
  const rows: string[] = [];
  for (let f = 0; f < 12; f++) {
    // 4:00:10 pm PDT on 2005-04-13 plus f frames; every other row has the clock truncated to 10 digits.
    const ms = 1113433210000 + f * 100;
    const clock = f % 2 ? String(Math.floor(ms / 1000)) : String(ms);
    rows.push(`2,"1,${String(100 + f).padStart(3, '0')}","1,156",${clock},6.0,"1,${String(200 + f)}.5",1,1,15.0,6.0,2,30.0,0.0,1,,,,,,,0,0,0,0,i-80`);
    rows.push(`9,${f + 1},30,${ms},6.0,${10 + f},1,1,15.0,6.0,2,30.0,0.0,1,,,,,,,0,0,0,0,us-101`);
  }
  const f = join(dir, 'export.csv');
  writeFileSync(f, [header, ...rows].join('\n') + '\n');
  await assert.rejects(importTrajectories([f]), /rows from several locations \(i-80, us-101\); choose one with --location/);
  const { summary, store } = await importTrajectories([f], { location: 'I-80' });
  assert.equal(summary.rowsFiltered.location, 12);
  assert.equal(summary.rowsKept, 12);
  assert.equal(summary.map, 'i80');
  assert.equal(summary.slot, '0400-0415');
  assert.equal(store.vehicles[0]!.frames[0], 1100);
  assert.ok(Math.abs(store.vehicles[0]!.localYM[0]! - 1200.5 * 0.3048) < 1e-3);
  assert.ok(Math.abs(store.vehicles[0]!.localXM[0]! - 6 * 0.3048) < 1e-5, `Local_X ${store.vehicles[0]!.localXM[0]} m`);
  // Filters that keep nothing leave nothing to import: an error saying what removed the rows.
  await assert.rejects(importTrajectories([f], { location: 'i80', slot: '0500-0515' }), /export\.csv: no trajectory rows kept of 24 read \(12 rows of other locations, 12 rows outside slot 0500-0515\); nothing to import/);
}));

test('mapping files are validated with errors that name the file and field', withDir(async (dir) => {
  const csv = join(dir, 'd.csv');
  writeFileSync(csv, 'id,t,x,y\n1,0.0,1.5,3\n1,0.1,1.5,4\n1,0.2,1.5,5\n');
  const m = join(dir, 'm.json');
  const mapping = { format: 'ppuu-mapping', version: 1, columns: { vehicleId: { column: 'id' }, time: { column: 't', unit: 's' }, localX: { column: 'x', unit: 'm' }, localY: { column: 'y', unit: 'furlong' } } };
  writeFileSync(m, JSON.stringify(mapping));
  await assert.rejects(importTrajectories([csv], { mapping: m }), /m\.json: field columns\.localY\.unit: must be one of "m", "ft"/);
  mapping.columns.localY.unit = 'ft';
  writeFileSync(m, JSON.stringify(mapping));
  const { store, summary } = await importTrajectories([csv], { mapping: m });
  assert.deepEqual([...store.vehicles[0]!.frames], [0, 1, 2]);
  assert.ok(Math.abs(store.vehicles[0]!.localYM[2]! - 5 * 0.3048) < 1e-6);
  assert.equal(summary.map, 'unknown');
  (mapping.columns as Record<string, unknown>).localX = { column: 'lateral', unit: 'm' };
  writeFileSync(m, JSON.stringify(mapping));
  await assert.rejects(importTrajectories([csv], { mapping: m }), /d\.csv:1: field lateral: column missing from the header/);
  writeFileSync(m, '{ "format": ');
  await assert.rejects(importTrajectories([csv], { mapping: m }), /m\.json: not valid JSON/);
}));

test('CLI: data import writes a store and prints the summary keys; errors exit 2 on one line', withDir(async (dir) => {
  const f = join(dir, 'trajectories-0515-0530.txt');
  writeFileSync(f, rawTxt([1, 2]).join('\n') + '\n');
  const out = join(dir, 'store');
  const r = spawnSync(process.execPath, ['bin/ppuu.js', 'data', 'import', f, '--out', out, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  for (const k of ['rowsRead', 'rowsKept', 'badRows', 'vehicles', 'frames', 'lanes', 'timeSpanS']) assert.ok(k in s, k);
  assert.equal(readTrackStore(out).vehicles.length, 2);
  assert.equal(JSON.parse(readFileSync(join(out, 'tracks.json'), 'utf8')).slot, '0515-0530');
  const empty = join(dir, 'empty.txt');
  writeFileSync(empty, '');
  const e = await ppuuInProcess(['data', 'import', empty, '--out', join(dir, 'x')]);
  assert.equal(e.status, 2);
  assert.equal(e.stderr.trim().split('\n').length, 1);
  assert.match(e.stderr, /empty\.txt: empty file/);
  assert.ok(!existsSync(join(dir, 'x')));
}));
