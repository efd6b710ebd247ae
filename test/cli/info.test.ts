import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const ppuu = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['bin/ppuu.js', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

test('ppuu info --json reports a backend with a reason', () => {
  const r = ppuu(['info', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.match(info.backend.name, /^(tensorflow-gpu|tensorflow|wasm|cpu)$/);
  assert.ok(info.backend.reason.length > 0);
  assert.equal(typeof info.electron.available, 'boolean');
  assert.equal(info.node, process.version);
});

test('TFJS_BACKEND=cpu is honoured and named as the reason', () => {
  const r = ppuu(['info', '--json'], { TFJS_BACKEND: 'cpu' });
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.equal(info.backend.name, 'cpu');
  assert.match(info.backend.reason, /TFJS_BACKEND/);
});

test('a user error is one line on stderr with exit code 2 and no stack', () => {
  const r = ppuu(['info', '--backend', 'nonsense']);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /unknown backend 'nonsense'/);
  assert.doesNotMatch(r.stderr, /at .*\.ts:\d+/);
});

test('an unknown command exits 2', () => {
  const r = ppuu(['no-such-command']);
  assert.equal(r.status, 2);
});
