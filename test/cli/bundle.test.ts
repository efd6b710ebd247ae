/**
 * The portable build (`npm run bundle`, scripts/bundle.ts): built once into a temp folder with its
 * archive (which must be under 60 MB), then run where no `node` can be found: PATH holds only a
 * symlink to the build's `ppuu` script and `readlink`. `ppuu info --json` runs from the unpacked
 * archive; a 2-step training of the tiny forward model (its loader worker, then the data-parallel
 * workers) gives the same losses as the same run from the sources; where SwiftShader is installed,
 * the build's dawn.node starts the webgpu backend. Linux x86-64 only (the build ships this Node).
 */
import { describe, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { swiftshaderEnv } from '../../worldmodel/webgpu.js';
import { tempDir } from '../helpers/temp.js';
import { writeTinyDataset } from '../helpers/tiny-dataset.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const skip = process.platform === 'linux' && process.arch === 'x64' ? false : `the portable build is made on and for linux-x64 only (this is ${process.platform}-${process.arch})`;

interface Built {
  dir: string;
  tarball: string;
  bytes: { uncompressed: number; compressed: number; files: Record<string, number> };
  maxCompressedBytes: number;
}

describe('the portable build', { skip }, () => {
  let built: Built;
  let unpacked: string;
  let bin: string;
  let env: NodeJS.ProcessEnv;
  const work = tempDir('ppuu-bundle-test-');

  before(() => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/bundle.ts'), '--out', join(work, 'dist')], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, r.stderr);
    built = JSON.parse(r.stdout) as Built;
    // Unpacked elsewhere: the archive alone is what a cluster node receives.
    unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    const x = spawnSync('tar', ['-C', unpacked, '-xzf', built.tarball], { encoding: 'utf8' });
    assert.equal(x.status, 0, x.stderr);
    // A PATH without node: the ppuu script (by symlink, as one installs it in ~/bin) and readlink.
    bin = join(work, 'bin');
    mkdirSync(bin);
    symlinkSync(join(unpacked, 'ppuu-linux-x64', 'ppuu'), join(bin, 'ppuu'));
    symlinkSync('/usr/bin/readlink', join(bin, 'readlink'));
    env = { PATH: bin, HOME: work, TMPDIR: tmpdir() };
  });

  const ppuu = (args: string[], extra: NodeJS.ProcessEnv = env): SpawnSyncReturns<string> =>
    spawnSync('ppuu', args, { encoding: 'utf8', env: extra, cwd: work, timeout: 120_000 });

  test('the archive is under 60 MB and holds node, the bundled CLI, its workers, the wasm binaries and the native addons', () => {
    assert.ok(built.bytes.compressed < built.maxCompressedBytes, `${built.bytes.compressed} bytes`);
    assert.equal(built.maxCompressedBytes, 60_000_000);
    const files = readdirSync(join(unpacked, 'ppuu-linux-x64')).sort();
    for (const f of ['node', 'ppuu', 'ppuu.mjs', 'worker-dump.mjs', 'worker-fm-dp.mjs', 'worker-fm-loader.mjs', 'tfjs-backend-wasm-simd.wasm', 'node_modules']) assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
    assert.ok(existsSync(join(unpacked, 'ppuu-linux-x64/node_modules/@resvg/resvg-js-linux-x64-gnu')));
    assert.ok(!readdirSync(bin).includes('node'));
  });

  test('ppuu info --json runs with no node on PATH and reports the portable build', () => {
    const r = ppuu(['info', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.equal(info.build, 'portable');
    assert.equal(info.node, process.version);
    assert.match(info.backend.name, /^(tensorflow-gpu|tensorflow|webgpu|wasm|cpu)$/);
    assert.ok(info.backend.reason.length > 0);
  });

  test('ppuu train fm: 2 steps on wasm (loader worker) and with --workers 2, the same losses as from the sources', () => {
    const data = writeTinyDataset({ dir: join(work, 'data') });
    const args = (out: string, workers: number) => ['train', 'fm', '--data', data, '--out', join(work, out), '--preset', 'tiny', '--steps', '2', '--backend', 'wasm', '--workers', String(workers), '--json'];
    for (const workers of [1, 2]) {
      const r = ppuu(args(`fm-bundle-${workers}`, workers));
      assert.equal(r.status, 0, r.stderr);
      const bundled = JSON.parse(r.stdout);
      assert.equal(bundled.steps, 2);
      assert.equal(bundled.workers, workers);
      assert.ok(existsSync(join(work, `fm-bundle-${workers}`, 'checkpoint', 'model.json')));
      if (workers === 1) {
        const s = spawnSync(process.execPath, [join(ROOT, 'bin/ppuu.js'), ...args('fm-sources', 1)], { encoding: 'utf8', cwd: ROOT, timeout: 120_000 });
        assert.equal(s.status, 0, s.stderr);
        const sources = JSON.parse(s.stdout);
        assert.equal(bundled.firstLoss, sources.firstLoss);
        assert.equal(bundled.lastLoss, sources.lastLoss);
      }
    }
  });

  test('the bundled dawn.node starts the webgpu backend (SwiftShader)', (t) => {
    const sw = swiftshaderEnv(env);
    if (!sw) return t.skip('no SwiftShader driver (/usr/lib/chromium/vk_swiftshader_icd.json; apt-get install chromium)');
    const r = ppuu(['info', '--backend', 'webgpu', '--json'], sw);
    assert.equal(r.status, 0, r.stderr);
    const info = JSON.parse(r.stdout);
    assert.equal(info.backend.name, 'webgpu');
    assert.equal(info.backend.webgpu.used, true);
  });

  test('ppuu app says it is not part of the portable build (exit 2)', () => {
    const r = ppuu(['app', '--no-open']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /not part of the portable build/);
  });
});
