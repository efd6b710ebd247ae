/**
 * One-line user errors (exit code 2) found by a new-user audit, checked in-process through the
 * CLI's main(): an unwritable --out, an empty CSV, a BOM before raw NGSIM rows, implausible
 * units after conversion (a warning, an error with --strict), pipeline flags checked before any
 * step, a refused pipeline re-run naming the setting that differs, negative scenario seeds, and
 * no dump-config.json left when there was nothing to dump.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importTrajectories } from '../../data/import/importer.js';
import { dumpDataset } from '../../sim/io/dump.js';
import { parseScenarioText } from '../../scenarios/validate.js';
import { fsErrorMessage } from '../../common/fs-errors.js';
import { makeTrack, makeTraffic, writeTraffic } from '../sim/helpers/traffic.js';
import { writeTrackStore } from '../../data/track-store.js';
import { ppuuInProcess } from '../helpers/cli.js';

const cli = ppuuInProcess;

function oneLine(r: { status: number; stderr: string }, re: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, re);
}

/** Raw NGSIM rows (18 columns, feet) of `n` cars at 40 ft/s in lanes 1-3, 20 frames each. */
function rawRows(n: number, scale = 1): string[] {
  const rows: string[] = [];
  for (let v = 1; v <= n; v++) {
    const lane = ((v - 1) % 3) + 1;
    for (let f = 1; f <= 20; f++) {
      const x = (lane - 0.5) * 12 * scale;
      const y = (50 * v + 4 * f) * scale;
      rows.push(`${v} ${f} 20 ${1113433200000 + f * 100} ${x} ${y} 0 0 ${15 * scale} ${6 * scale} 2 ${40 * scale} 0 ${lane} 0 0 0 0`);
    }
  }
  return rows;
}

test('an output that cannot be created is one line naming the path, exit 2 (synth, dump)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ppuu-errors-'));
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  oneLine(await cli(['data', 'synth', '--minutes', '0.1', '--out', join(file, 'synth')]), /a-file: exists and is not a folder( \(needed for .*\))?$/m);
  const tracks = await writeTraffic({ perLane: 1, lanes: [1] }, join(dir, 'tracks'));
  oneLine(await cli(['data', 'dump', '--trajectories', tracks, '--out', join(file, 'ds')]), /a-file: exists and is not a folder( \(needed for .*\))?$/m);
  if (process.platform === 'linux' && existsSync('/sys/kernel')) {
    const r = await cli(['data', 'synth', '--minutes', '0.1', '--out', '/sys/ppuu-out/synth']);
    oneLine(r, /^ppuu: \/sys\/ppuu-out: cannot create the folder \(/);
    assert.doesNotMatch(r.stderr, /internal error/);
  }
  // A temporary sibling's name is reported as the file it stands for.
  assert.equal(fsErrorMessage(Object.assign(new Error('x'), { code: 'EROFS', syscall: 'open', path: '/ro/.log.jsonl.tmp-1-2' })), '/ro/log.jsonl: cannot open (read-only file system, EROFS)');
  assert.equal(fsErrorMessage(new Error('not a file-system error')), null);
});

test('a CSV with a header and no rows, and filters that keep nothing, are errors; a BOM before raw rows is skipped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ppuu-errors-'));
  const csv = join(dir, 'empty.csv');
  writeFileSync(csv, 'id,t,x,y\n');
  const mapping = join(dir, 'm.json');
  writeFileSync(mapping, JSON.stringify({ format: 'ppuu-mapping', version: 1, columns: { vehicleId: { column: 'id' }, time: { column: 't', unit: 's' }, localX: { column: 'x', unit: 'm' }, localY: { column: 'y', unit: 'm' } } }));
  oneLine(await cli(['data', 'import', csv, '--mapping', mapping, '--out', join(dir, 'store')]), /empty\.csv: a header and no data rows; nothing to import/);
  assert.equal(existsSync(join(dir, 'store')), false);
  const bom = join(dir, 'trajectories-0400-0415.txt');
  writeFileSync(bom, '\uFEFF' + rawRows(3).join('\n') + '\n');
  const { summary } = await importTrajectories([bom], { blackList: false });
  assert.equal(summary.rowsKept, 60);
  assert.deepEqual(summary.badRows.columnCount + summary.badRows.nonNumeric, 0);
});

test('values in feet declared as metres are flagged after conversion (warning; error with --strict)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ppuu-errors-'));
  const header = 'id,frame,x,y,len,wid,speed,lane';
  const rows = (ftScale: number) => {
    const out = [header];
    for (let v = 1; v <= 6; v++) {
      const lane = ((v - 1) % 3) + 1;
      for (let f = 1; f <= 20; f++) out.push([v, f, (lane - 0.5) * 3.7 * ftScale, (20 * v + 1.2 * f) * ftScale, 4.5 * ftScale, 1.8 * ftScale, 12 * ftScale, lane].join(','));
    }
    return out.join('\n') + '\n';
  };
  const mapping = join(dir, 'm.json');
  const m = (col: string, unit?: string) => (unit ? { column: col, unit } : { column: col });
  writeFileSync(mapping, JSON.stringify({ format: 'ppuu-mapping', version: 1, columns: { vehicleId: m('id'), frame: m('frame'), localX: m('x', 'm'), localY: m('y', 'm'), length: m('len', 'm'), width: m('wid', 'm'), speed: m('speed', 'm/s'), lane: m('lane') } }));
  const metres = join(dir, 'metres.csv');
  writeFileSync(metres, rows(1));
  assert.deepEqual((await importTrajectories([metres], { mapping })).summary.warnings, []);
  const feet = join(dir, 'feet.csv');
  writeFileSync(feet, rows(1 / 0.3048));
  const w = (await importTrajectories([feet], { mapping })).summary.warnings;
  assert.equal(w.length, 1, w.join('\n'));
  assert.match(w[0]!, /implausible values after unit conversion: median vehicle length 14\.8 m \(plausible 2-12\), median lane width 12\.1 m \(plausible 2\.4-5\.5\); likely cause: values in feet read as metres/);
  oneLine(await cli(['data', 'import', feet, '--mapping', mapping, '--strict', '--out', join(dir, 'store')]), /feet\.csv: implausible values after unit conversion: .* \(--strict\)$/m);
});

test('pipeline checks its flags before any step, and a refused re-run names the setting that differs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ppuu-errors-'));
  const out = join(dir, 'run');
  oneLine(await cli(['pipeline', '--workers', '3', '--out', out]), /--workers must be 1 or 2, got 3/);
  oneLine(await cli(['pipeline', '--backend', 'gpu', '--out', out]), /--backend must be/);
  assert.equal(existsSync(out), false);
  mkdirSync(out);
  const { PIPELINE_PRESETS } = await import('../../cli/commands/pipeline.js');
  writeFileSync(join(out, 'pipeline.json'), JSON.stringify({ preset: 'tiny', seed: 1, settings: { ...PIPELINE_PRESETS.tiny, minutes: 2 } }));
  oneLine(await cli(['pipeline', '--out', out, '--seed', '2']), /holds a pipeline run with other settings \(.*pipeline\.json: seed: 1 -> 2, minutes: 2 -> 3\)/);
  // --km-steps sets the km policies' updates through the model (and only those): a setting of the run.
  const km = PIPELINE_PRESETS.tiny.kmSteps;
  oneLine(await cli(['pipeline', '--out', out, '--minutes', '2', '--km-steps', String(km + 7)]), new RegExp(`holds a pipeline run with other settings \\(.*pipeline\\.json: kmSteps: ${km} -> ${km + 7}\\)`));
  oneLine(await cli(['pipeline', '--out', out, '--km-steps', '0']), /--km-steps/);
  assert.deepEqual(readdirSync(out), ['pipeline.json']);
  const other = join(dir, 'other');
  mkdirSync(other);
  writeFileSync(join(other, 'notes.txt'), 'mine\n');
  oneLine(await cli(['pipeline', '--out', other]), /other: exists, is not empty and holds no pipeline run/);
  assert.deepEqual(readdirSync(other), ['notes.txt']);
});

test('scenario seeds must be >= 0; nothing to dump leaves no dump-config.json', async () => {
  const doc = { name: 'x', map: 'i80', dataset: { kind: 'synth', seed: 1, minutes: 1 }, ego: { kind: 'split', split: 'test' }, controller: { kind: 'replay' }, seeds: [-1] };
  assert.throws(() => parseScenarioText(JSON.stringify(doc, null, 2), 's.json'), /s\.json:\d+: .*seeds\[0\].*>= 0/);
  const dir = mkdtempSync(join(tmpdir(), 'ppuu-errors-'));
  // A car far past the end of the road, never inside the validity window: nothing to dump.
  const store = makeTraffic({ perLane: 1, lanes: [1] });
  store.vehicles = [makeTrack(1, 1000, [3000, 3001, 3002], [5, 5, 5])];
  const tracks = join(dir, 'tracks');
  await writeTrackStore(tracks, store);
  const out = join(dir, 'ds');
  await assert.rejects(dumpDataset({ trajectories: tracks, out }), /nothing to dump/);
  assert.equal(existsSync(join(out, 'dump-config.json')), false);
  // A dump refused for other settings names the one that differs.
  const good = await writeTraffic({ perLane: 1, lanes: [1] }, join(dir, 'good'));
  await dumpDataset({ trajectories: good, out: join(dir, 'ds2'), splitSeed: 0 });
  await assert.rejects(dumpDataset({ trajectories: good, out: join(dir, 'ds2'), splitSeed: 1 }), /holds a dump of different inputs \(dump-config\.json: --split-seed 0 -> 1\)/);
});
