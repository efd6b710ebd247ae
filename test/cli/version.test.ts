/**
 * `ppuu --version` prints the package's version; every benchmark names itself under the same
 * key (`bench`) in its JSON line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

test('ppuu --version prints the version from package.json, exit code 0', () => {
  const r = spawnSync(process.execPath, ['bin/ppuu.js', '--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
  assert.equal(r.stdout.trim(), pkg.version);
});

test("every benchmark's JSON names it under 'bench' (the file's name)", () => {
  // Files starting with '_' are helpers of a benchmark, not benchmarks (bench/run.ts lists them the same way).
  const files = readdirSync('bench').filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.startsWith('_'));
  assert.ok(files.length >= 10, files.join(', '));
  for (const f of files) {
    const src = readFileSync(join('bench', f), 'utf8');
    assert.doesNotMatch(src, /\bbenchmark:\s*'/, `${f} uses the key 'benchmark'`);
    assert.match(src, new RegExp(`\\bbench: '${f.replace(/\.ts$/, '')}'`), `${f} names itself under 'bench'`);
  }
});
