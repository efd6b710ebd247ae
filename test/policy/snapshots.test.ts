import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTraffic } from '../sim/helpers/traffic.js';
import { bestSnapshot, type SnapshotScore } from '../../cli/commands/eval-snapshots.js';
import { listSnapshots } from '../../policy/checkpoint.js';
import { setup, tempDir, tinyDataset } from './helpers.js';

before(setup);

const ppuu = (args: string[]) => spawnSync(process.execPath, ['bin/ppuu.js', ...args], { encoding: 'utf8' });

const score = (step: number, success: number, distance: number): SnapshotScore => {
  const m = (mean: number) => ({ mean, std: 0 });
  return { step, dir: `s${step}`, successRate: m(success), meanDistanceM: m(distance), collisionRate: m(0), offRoadRate: m(0) };
};

test('bestSnapshot: the highest success, then the longer distance, then the earlier update', () => {
  assert.equal(bestSnapshot([score(1, 0.2, 50), score(2, 0.6, 10), score(3, 0.4, 90)]).step, 2);
  assert.equal(bestSnapshot([score(1, 0.6, 50), score(2, 0.6, 80), score(3, 0.6, 70)]).step, 2);
  assert.equal(bestSnapshot([score(4, 0.6, 80), score(2, 0.6, 80), score(3, 0.1, 80)]).step, 2);
  assert.throws(() => bestSnapshot([]), /no snapshots/);
});

test('train policy --snapshot-every keeps the policy every N updates; eval snapshots scores them, picks one and resumes from its file', async () => {
  const dir = tempDir('ppuu-snapshots-');
  const run = join(dir, 'il');
  const t = ppuu(['train', 'policy', '--method', 'il', '--preset', 'tiny', '--data', tinyDataset(), '--out', run, '--steps', '6', '--snapshot-every', '2', '--checkpoint-every', '5', '--json']);
  assert.equal(t.status, 0, t.stderr);
  assert.deepEqual(listSnapshots(run).map((s) => s.step), [2, 4, 6]);
  // Each snapshot is the policy as it was then: the update count in its hparams, and different weights.
  const hp = (s: number) => JSON.parse(readFileSync(join(run, 'snapshots', `step-${s}`, 'hparams.json'), 'utf8')).hyperParameters.steps;
  assert.deepEqual([2, 4, 6].map(hp), [2, 4, 6]);
  const w = (s: number) => readFileSync(join(run, 'snapshots', `step-${s}`, 'weights.bin'));
  assert.ok(!w(2).equals(w(4)), 'the snapshots hold different weights');
  assert.ok(w(6).equals(readFileSync(join(run, 'checkpoint', 'policy', 'weights.bin'))), 'the last snapshot is the final policy');

  await writeTraffic({ perLane: 2, lanes: [1, 2, 3] }, join(dir, 'tracks', '0400-0415'));
  const ds = join(dir, 'ds');
  assert.equal(ppuu(['data', 'dump', '--trajectories', join(dir, 'tracks'), '--out', ds, '--json']).status, 0);
  const args = ['eval', 'snapshots', '--run', run, '--data', ds, '--split', 'train', '--max-steps', '30', '--json'];
  const e = ppuu(args);
  assert.equal(e.status, 0, e.stderr);
  const sel = JSON.parse(e.stdout);
  assert.deepEqual(sel.snapshots.map((s: SnapshotScore) => s.step), [2, 4, 6]);
  assert.equal(sel.best.step, bestSnapshot(sel.snapshots).step);
  assert.ok(sel.snapshots.every((s: SnapshotScore) => s.meanDistanceM.mean > 0), 'every snapshot drove');
  const file = join(run, 'selection-train.json');
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), sel);
  // A second run reuses the scores in the file (here edited so that update 4 wins) ...
  const edited = { ...sel, snapshots: sel.snapshots.map((s: SnapshotScore) => (s.step === 4 ? { ...s, successRate: { mean: 2, std: 0 } } : s)) };
  writeFileSync(file, JSON.stringify(edited));
  const again = JSON.parse(ppuu(args).stdout);
  assert.equal(again.best.step, 4);
  assert.equal(again.snapshots[1].successRate.mean, 2);
  // ... but not those of other settings.
  const other = ppuu([...args.slice(0, -3), '--max-steps', '20', '--json']);
  assert.equal(other.status, 0, other.stderr);
  assert.ok(JSON.parse(other.stdout).snapshots.every((s: SnapshotScore) => s.successRate.mean <= 1));

  const none = ppuu(['eval', 'snapshots', '--run', dir, '--data', ds]);
  assert.equal(none.status, 2);
  assert.match(none.stderr.trim(), /snapshots: no snapshots \(train the policy with --snapshot-every N\)$/);
  assert.equal(none.stderr.trim().split('\n').length, 1);
  assert.ok(!existsSync(join(dir, 'selection-val.json')), 'nothing written');
});
