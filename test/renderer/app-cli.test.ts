import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/temp.js';

const ppuu = (args: string[]) => spawnSync(process.execPath, ['bin/ppuu.js', ...args], { encoding: 'utf8', timeout: 60_000 });

test('ppuu app with an invalid scenario: one line on stderr naming file, line and field; exit 2', () => {
  const dir = tempDir('ppuu-app-');
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ name: 'b', map: 'i80', dataset: { kind: 'synth', seed: 1, minutes: 1 }, ego: { kind: 'split', split: 'test' }, controller: { kind: 'teleport' } }, null, 2));
  const r = ppuu(['app', '--scenario', bad, '--no-open', '--browser']);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /bad\.json:\d+: field \$\.controller\.kind: must be one of/);
  assert.equal(r.stdout, '');
  const missing = join(dir, 'tracks.json');
  writeFileSync(missing, JSON.stringify({ name: 'm', map: 'i80', dataset: { kind: 'tracks', path: 'no-such-store' }, ego: { kind: 'split', split: 'test' }, controller: { kind: 'idm' } }));
  const r2 = ppuu(['app', '--scenario', missing, '--no-open', '--browser']);
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /field \$\.dataset\.path: .*no-such-store does not exist/);
  const r3 = ppuu(['app', '--port', 'x']);
  assert.equal(r3.status, 2);
  assert.match(r3.stderr, /--port must be an integer/);
});

test('ppuu app serves the viewer on 127.0.0.1 and prints its address; stops on SIGTERM', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, ['bin/ppuu.js', 'app', '--scenario', 'scenarios/demo.json', '--no-open', '--browser', '--json', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const info = await new Promise<{ url: string; port: number; mode: string; scenario: string }>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no address printed; stderr: ${err}`)), 45_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      try {
        const v = JSON.parse(out);
        clearTimeout(timer);
        done(v);
      } catch {
        // Not a whole document yet.
      }
    });
  });
  try {
    assert.equal(info.mode, 'browser');
    assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const initial = (await (await fetch(new URL('/api/initial', info.url))).json()) as { ok: boolean; value: { file: string } };
    assert.deepEqual(initial, { ok: true, value: { file: 'scenarios/demo.json', scenario: 0, episode: 0 } });
    const page = await (await fetch(info.url)).text();
    assert.match(page, /ppuu viewer/);
  } finally {
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, err);
  }
});
