import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp.js';
import { ppuuInProcess } from '../helpers/cli.js';

const ppuu = (args: string[]) => spawnSync(process.execPath, ['bin/ppuu.js', ...args], { encoding: 'utf8' });

test('ppuu eval --scenarios runs the demo scenario and reports rates as fractions', () => {
  const r = ppuu(['eval', '--scenarios', 'scenarios/demo.json', '--json', '--no-records']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.reports.length, 1);
  const rep = out.reports[0];
  assert.ok(rep.episodes > 0);
  for (const k of ['successRate', 'collisionRate', 'offRoadRate']) {
    assert.ok(rep[k].mean >= 0 && rep[k].mean <= 1, k);
  }
  assert.ok(rep.meanDistanceM.mean > 0);
});

test('ppuu eval --scenarios with an invalid scenario is a one-line error with exit 2', async () => {
  const dir = tempDir('ppuu-scen-');
  try {
    const f = join(dir, 'bad.json');
    writeFileSync(f, JSON.stringify({ name: 'x', map: 'i80', controller: { kind: 'teleport' } }, null, 2));
    const r = await ppuuInProcess(['eval', '--scenarios', f]);
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /bad\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
