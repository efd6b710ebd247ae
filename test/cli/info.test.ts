import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { swiftshaderEnv } from '../../worldmodel/webgpu.js';

const ppuu = (args: string[], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['bin/ppuu.js', ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

test('ppuu info --json reports a backend with a reason', () => {
  const r = ppuu(['info', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.match(info.backend.name, /^(tensorflow-gpu|tensorflow|webgpu|wasm|cpu)$/);
  assert.equal(typeof info.backend.webgpu.used, 'boolean');
  assert.ok(info.backend.webgpu.why.length > 0);
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

test('--backend webgpu either runs on webgpu or fails with one line naming the reason', () => {
  const r = ppuu(['info', '--json', '--backend', 'webgpu']);
  if (r.status === 0) {
    const info = JSON.parse(r.stdout);
    assert.equal(info.backend.name, 'webgpu');
    assert.equal(info.backend.webgpu.used, true);
    assert.ok(info.backend.webgpu.adapter.maxBufferSize > 0);
  } else {
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /backend 'webgpu' was requested \(--backend\) but cannot start: /);
  }
});

const sw = swiftshaderEnv();
test('on SwiftShader: the software adapter is reported but chosen only when asked for', { skip: sw ? false : 'no SwiftShader (apt-get install chromium)' }, () => {
  const auto = spawnSync(process.execPath, ['bin/ppuu.js', 'info', '--json'], { encoding: 'utf8', env: sw! });
  assert.equal(auto.status, 0, auto.stderr);
  const a = JSON.parse(auto.stdout).backend;
  assert.notEqual(a.name, 'webgpu');
  assert.equal(a.webgpu.used, false);
  assert.equal(a.webgpu.adapter.hardware, false);
  assert.match(a.webgpu.adapter.architecture, /swiftshader/i);
  assert.ok(a.webgpu.adapter.maxStorageBufferBindingSize > 0 && a.webgpu.adapter.maxBufferSize > 0);
  if (a.name === 'wasm') assert.match(a.skipped.find((s: { name: string }) => s.name === 'webgpu').why, /software/);
  const asked = spawnSync(process.execPath, ['bin/ppuu.js', 'info', '--backend', 'webgpu'], { encoding: 'utf8', env: sw! });
  assert.equal(asked.status, 0, asked.stderr);
  assert.match(asked.stdout, /backend: webgpu \(requested with --backend\)/);
  assert.match(asked.stdout, /adapter: google swiftshader, .*software/);
  assert.match(asked.stdout, /maxStorageBufferBindingSize \d+ B, maxBufferSize \d+ B/);
});
