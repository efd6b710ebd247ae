import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTraffic } from '../sim/helpers/traffic.js';
import { US101_DIR, us101Available } from '../sim/helpers/us101.js';
import { tempDir } from '../helpers/temp.js';
import { ppuuInProcess } from '../helpers/cli.js';

const ppuu = (args: string[]) => spawnSync(process.execPath, ['bin/ppuu.js', ...args], { encoding: 'utf8' });

test('ppuu data dump, data stats and eval on a small slot (--json)', async () => {
  const dir = tempDir('ppuu-cli-sim-');
  try {
    const tracks = await writeTraffic({ perLane: 2, lanes: [1, 2, 3] }, join(dir, 'tracks', '0400-0415'));
    const out = join(dir, 'ds');
    const d = ppuu(['data', 'dump', '--trajectories', join(dir, 'tracks'), '--out', out, '--workers', '2', '--json']);
    assert.equal(d.status, 0, d.stderr);
    const dump = JSON.parse(d.stdout);
    assert.equal(dump.episodes, 6);
    assert.equal(dump.sources[0].tracks, tracks);
    const s = ppuu(['data', 'stats', out, '--json']);
    assert.equal(s.status, 0, s.stderr);
    const stats = JSON.parse(s.stdout);
    assert.equal(stats.episodes, 6);
    assert.equal(stats.frames, dump.frames);
    const report = join(dir, 'report.json');
    const e = ppuu(['eval', '--data', out, '--split', 'train', '--policy', 'replay', '--seeds', '2', '--out', report, '--json']);
    assert.equal(e.status, 0, e.stderr);
    const r = JSON.parse(e.stdout);
    for (const k of ['successRate', 'meanDistanceM', 'collisionRate', 'offRoadRate']) {
      assert.equal(typeof r[k].mean, 'number', k);
      assert.equal(typeof r[k].std, 'number', k);
    }
    assert.deepEqual(r.successRate, { mean: 1, std: 0 });
    assert.equal(r.records.length, 2 * r.episodes);
    assert.ok(r.meanDistanceM.mean > 100);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ppuu eval and dump give one-line errors with exit code 2; eval fm still parses its own flags', async () => {
  const noData = await ppuuInProcess(['eval', '--policy', 'replay']);
  assert.equal(noData.status, 2);
  assert.match(noData.stderr, /--data/);
  assert.equal(noData.stderr.trim().split('\n').length, 1);
  const dir = tempDir('ppuu-cli-sim-');
  try {
    const missing = await ppuuInProcess(['eval', '--data', join(dir, 'nope'), '--policy', 'replay']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /dataset folder not found/);
    mkdirSync(join(dir, 'other'));
    writeFileSync(join(dir, 'other', 'x.txt'), 'x');
    const clash = await ppuuInProcess(['data', 'dump', '--trajectories', dir, '--out', join(dir, 'other')]);
    assert.equal(clash.status, 2);
    assert.equal(clash.stderr.trim().split('\n').length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const help = ppuu(['eval', 'fm', '--help']);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--model/);
});

test('ppuu sim fidelity on the shared US-101 tracks meets the targets', { skip: !us101Available() && `no ${US101_DIR}` }, () => {
  const r = ppuu(['sim', 'fidelity', '--tracks', US101_DIR, '--mapping', 'data/mappings/us101-tracks.json', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const f = JSON.parse(r.stdout);
  assert.equal(f.tracks, 185);
  assert.ok(f.medianMaxDeviationM < 0.5, `median ${f.medianMaxDeviationM}`);
  assert.ok(f.p95MaxDeviationM < 2, `p95 ${f.p95MaxDeviationM}`);
  assert.ok(f.maxMaxDeviationM >= f.p95MaxDeviationM);
});
