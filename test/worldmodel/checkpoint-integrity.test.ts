/**
 * Checkpoint integrity: the sha256 of each weight file is recorded next to its manifest and a
 * file overwritten with other bytes of the same size is refused, naming the file; non-finite
 * weights are refused too, also in checkpoints from before the digest (which otherwise still
 * load). Covers both weight stores: worldmodel/checkpoint.ts (policies, EBMs) and
 * worldmodel/fm/store.ts (forward models, through loadFm).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../worldmodel/backend.js';
import { loadWeights, saveWeights, sha256Hex, WEIGHTS_SHA256_FIELD } from '../../worldmodel/checkpoint.js';
import { loadTensorMap, saveTensorMap } from '../../worldmodel/fm/store.js';
import { fmConfig } from '../../worldmodel/fm/config.js';
import { ForwardModel } from '../../worldmodel/fm/model.js';
import { loadFm, saveFm, type FmHparams } from '../../worldmodel/fm/checkpoint.js';
import { UserError } from '../../common/errors.js';
import { Rng } from '../../common/rng.js';
import { main } from '../../cli/main.js';
import { writeTinyDataset } from '../helpers/tiny-dataset.js';

let root = '';
before(async () => {
  tf.env().set('PROD', true);
  await initBackend({ requested: 'wasm' });
  root = mkdtempSync(join(tmpdir(), 'ppuu-integrity-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

function tensors(seed: number): Record<string, tf.Tensor> {
  const rng = new Rng(seed);
  return {
    a: tf.tensor2d(Float32Array.from({ length: 12 }, () => rng.normal()), [3, 4]),
    b: tf.tensor1d(Float32Array.from({ length: 5 }, () => rng.normal())),
  };
}

function randomBytesOver(file: string, seed: number): void {
  const rng = new Rng(seed);
  const n = statSync(file).size;
  writeFileSync(file, Uint8Array.from({ length: n }, () => Math.floor(rng.uniform(0, 256))));
}

/** Floats with a NaN at element `at`, as bytes. */
function floatsWithNaN(n: number, at: number): Uint8Array {
  const f = Float32Array.from({ length: n }, (_, i) => i * 0.25);
  f[at] = NaN;
  return new Uint8Array(f.buffer);
}

async function rejects(p: Promise<unknown> | (() => unknown), pattern: RegExp): Promise<void> {
  await assert.rejects(async () => (typeof p === 'function' ? p() : p), (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    assert.equal(e.exitCode, 2);
    assert.doesNotMatch(e.message, /\n/);
    assert.match(e.message, pattern);
    return true;
  });
}

test('a weight map records the sha256 of weights.bin and refuses other bytes of the same size', async () => {
  const dir = join(root, 'map');
  const w = tensors(1);
  await saveWeights(dir, w);
  tf.dispose(w);
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Record<string, Record<string, string>>;
  assert.equal(json[WEIGHTS_SHA256_FIELD]!['weights.bin'], sha256Hex(readFileSync(join(dir, 'weights.bin'))));
  const ok = await loadWeights(dir);
  tf.dispose(ok.weights);
  randomBytesOver(join(dir, 'weights.bin'), 7);
  await rejects(loadWeights(dir), /weights\.bin: checksum mismatch .*model\.json/);
});

test('non-finite weights are refused; an old weight map without a digest still loads when finite', async () => {
  const dir = join(root, 'old');
  const w = tensors(2);
  await saveWeights(dir, w);
  tf.dispose(w);
  const file = join(dir, 'model.json');
  const json = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  delete json[WEIGHTS_SHA256_FIELD];
  writeFileSync(file, JSON.stringify(json));
  const ok = await loadWeights(dir);
  assert.deepEqual(Object.keys(ok.weights).sort(), ['a', 'b']);
  tf.dispose(ok.weights);
  writeFileSync(join(dir, 'weights.bin'), floatsWithNaN(17, 14));
  await rejects(loadWeights(dir), /weights\.bin: weight b: non-finite value \(NaN\) at element 2/);
  const inf = new Float32Array(17);
  inf[0] = -Infinity;
  writeFileSync(join(dir, 'weights.bin'), new Uint8Array(inf.buffer));
  await rejects(loadWeights(dir), /weight a: non-finite value \(-Infinity\) at element 0/);
});

test('the forward-model store records the digest and refuses corrupt or non-finite files', async () => {
  const dir = join(root, 'store');
  const w = tensors(3);
  await saveTensorMap(dir, 'model', 'weights', w);
  tf.dispose(w);
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as Record<string, Record<string, string>>;
  assert.equal(json[WEIGHTS_SHA256_FIELD]!['weights.bin'], sha256Hex(readFileSync(join(dir, 'weights.bin'))));
  tf.dispose(loadTensorMap(dir, 'model').tensors);
  randomBytesOver(join(dir, 'weights.bin'), 9);
  await rejects(() => loadTensorMap(dir, 'model'), /weights\.bin: checksum mismatch/);
  delete (json as Record<string, unknown>)[WEIGHTS_SHA256_FIELD];
  writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
  writeFileSync(join(dir, 'weights.bin'), floatsWithNaN(17, 3));
  await rejects(() => loadTensorMap(dir, 'model'), /weight a: non-finite value \(NaN\) at element 3/);
});

test('a forward model with overwritten weights.bin is a one-line error with exit code 2 (eval fm)', async () => {
  const cfg = fmConfig('tiny', { channels: 3 });
  const model = ForwardModel.create(cfg, 'deterministic', 1);
  const dir = join(root, 'fm', 'checkpoint');
  const hparams: FmHparams = {
    format: 'ppuu-fm', version: 1, kind: 'deterministic', preset: 'tiny', config: cfg,
    stats: { stateMean: [0, 0, 0, 0], stateStd: [1, 1, 1, 1], actionMean: [0, 0], actionStd: [1, 1] },
    dataset: null, steps: 0, paramCount: model.paramCount(), writtenBy: 'test',
  };
  await saveFm(dir, model, hparams);
  model.dispose();
  loadFm(join(root, 'fm')).model.dispose();
  randomBytesOver(join(dir, 'weights.bin'), 11);
  await rejects(() => loadFm(join(root, 'fm')), /checkpoint[/\\]weights\.bin: checksum mismatch/);
  const errs: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((s: string) => (errs.push(String(s)), true)) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(['node', 'ppuu', 'eval', 'fm', '--model', join(root, 'fm'), '--data', writeTinyDataset({ n: 3, length: 30, seed: 1 })]);
  } finally {
    process.stderr.write = write;
  }
  assert.equal(code, 2, errs.join(''));
  assert.equal(errs.join('').trim().split('\n').length, 1, errs.join(''));
  assert.match(errs.join(''), /weights\.bin: checksum mismatch/);
});
