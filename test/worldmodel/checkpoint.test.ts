/**
 * Checkpoints: LayersModel and weight-map round trips with identical outputs, the files being
 * the standard tfjs format (tfjs's own HTTP loader reads them), atomic replacement, sidecars and
 * clear errors for damaged folders.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, truncateSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../worldmodel/backend.js';
import {
  HPARAMS_FILE, fileSystemIO, loadModel, loadWeights, makeHparams, readHparams, readSidecar, saveModel, saveWeights, writeSidecar, checkWeightShapes,
} from '../../worldmodel/checkpoint.js';
import { UserError } from '../../common/errors.js';
import { Rng } from '../../common/rng.js';
import { tempDir } from '../helpers/temp.js';

let root = '';
before(async () => {
  tf.env().set('PROD', true);
  await initBackend({ requested: 'wasm' });
  root = tempDir('ppuu-ckpt-');
});
after(() => rmSync(root, { recursive: true, force: true }));

function smallModel(seed: number): tf.LayersModel {
  const init = (s: number) => tf.initializers.glorotNormal({ seed: seed + s });
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [12, 6, 3], filters: 4, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: init(1), biasInitializer: 'ones' }));
  m.add(tf.layers.leakyReLU({ alpha: 0.2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 5, kernelInitializer: init(2), activation: 'sigmoid' }));
  return m;
}

function input(seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  return tf.tensor4d(Float32Array.from({ length: 2 * 12 * 6 * 3 }, () => rng.normal()), [2, 12, 6, 3]);
}

const STATS = { stateMean: [1, 2, 3, 4], stateStd: [1, 1, 2, 2], actionMean: [0, 0], actionStd: [0.5, 0.01] };

test('a LayersModel round-trips with identical outputs, with its hparams sidecar', async () => {
  const dir = join(root, 'model');
  const model = smallModel(1);
  const x = input(2);
  const before = model.predict(x) as tf.Tensor;
  await saveModel(model, dir, { sidecars: { [HPARAMS_FILE]: makeHparams({ lr: 1e-4, nfeature: 4 }, STATS) } });
  assert.deepEqual(readdirSync(dir).sort(), ['hparams.json', 'model.json', 'weights.bin']);
  const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
  assert.deepEqual(json.weightsManifest[0].paths, ['weights.bin']);
  assert.equal(json.format, 'layers-model');
  const loaded = await loadModel(dir);
  const afterLoad = loaded.predict(x) as tf.Tensor;
  assert.deepEqual(Array.from(afterLoad.dataSync()), Array.from(before.dataSync()));
  const h = readHparams<{ lr: number }>(dir);
  assert.equal(h.hyperParameters.lr, 1e-4);
  assert.deepEqual(h.normalisation, STATS);
  tf.dispose([x, before, afterLoad]);
  model.dispose();
  loaded.dispose();
});

test("the folder is standard tfjs: tfjs's own HTTP loader reads it", async () => {
  const dir = join(root, 'http');
  const model = smallModel(3);
  await saveModel(model, dir);
  // The browser path: model.json fetched by URL, weights.bin relative to it.
  const fetchFunc = async (url: URL | RequestInfo) => {
    const name = new URL(String(url)).pathname.split('/').pop()!;
    return new Response(readFileSync(join(dir, name)));
  };
  const viaHttp = await tf.loadLayersModel(tf.io.http('http://checkpoint.test/m/model.json', { fetchFunc }));
  const x = input(4);
  const a = model.predict(x) as tf.Tensor;
  const b = viaHttp.predict(x) as tf.Tensor;
  assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()));
  tf.dispose([x, a, b]);
  model.dispose();
  viaHttp.dispose();
});

test('a named weight map round-trips values, shapes, dtypes and metadata', async () => {
  const dir = join(root, 'weights');
  const rng = new Rng(5);
  const weights = {
    'enc/conv1/kernel': tf.tensor4d(Float32Array.from({ length: 4 * 4 * 3 * 8 }, () => rng.normal()), [4, 4, 3, 8]),
    'enc/conv1/bias': tf.tensor1d([0.5, -1, 2, 3, 4, 5, 6, 1e-20]),
    steps: tf.scalar(1234, 'int32'),
  };
  await saveWeights(dir, weights, { metadata: { step: 7 }, sidecars: { 'norm.json': STATS } });
  const { weights: back, metadata } = await loadWeights(dir);
  assert.deepEqual(Object.keys(back).sort(), Object.keys(weights).sort());
  for (const [k, t] of Object.entries(weights)) {
    assert.equal(back[k]!.dtype, t.dtype, k);
    assert.deepEqual(back[k]!.shape, t.shape, k);
    assert.deepEqual(Array.from(back[k]!.dataSync()), Array.from(t.dataSync()), k);
  }
  assert.deepEqual(metadata, { step: 7 });
  assert.deepEqual(readSidecar(dir, 'norm'), STATS);
  checkWeightShapes(dir, back, Object.fromEntries(Object.entries(weights).map(([k, t]) => [k, t.shape])));
  assert.throws(() => checkWeightShapes(dir, back, { 'enc/conv1/kernel': [4, 4, 3, 9] }), /enc\/conv1\/kernel: shape \[4,4,3,8\]/);
  await assert.rejects(loadModel(dir), /holds a weight map/);
  tf.dispose([...Object.values(weights), ...Object.values(back)]);
});

test('saving replaces a checkpoint atomically; a failed save leaves the old one intact', async () => {
  const dir = join(root, 'atomic');
  const a = { w: tf.tensor1d([1, 2, 3]) };
  const b = { w: tf.tensor1d([4, 5, 6]), v: tf.tensor1d([7]) };
  await saveWeights(dir, a);
  await saveWeights(dir, b);
  const loaded = await loadWeights(dir);
  assert.deepEqual(Array.from(loaded.weights.w!.dataSync()), [4, 5, 6]);
  // A sidecar that cannot be serialised makes the save throw half-way through.
  await assert.rejects(saveWeights(dir, a, { sidecars: { 'bad.json': { n: 1n } } }));
  const still = await loadWeights(dir);
  assert.deepEqual(Array.from(still.weights.w!.dataSync()), [4, 5, 6]);
  assert.ok(!existsSync(join(dir, 'bad.json')));
  assert.deepEqual(readdirSync(root).filter((f) => f.includes('.tmp-') || f.includes('.old-')), []);
  writeSidecar(dir, 'notes', { ok: true });
  assert.deepEqual(readSidecar(dir, 'notes.json'), { ok: true });
  tf.dispose([...Object.values(a), ...Object.values(b), ...Object.values(loaded.weights), ...Object.values(still.weights)]);
});

test('damaged or missing checkpoints give one-line user errors', async () => {
  await assert.rejects(loadWeights(join(root, 'nope')), (e: unknown) => e instanceof UserError && /model\.json: file not found/.test(e.message));
  const dir = join(root, 'damaged');
  await saveWeights(dir, { w: tf.tensor1d([1, 2, 3, 4]) });
  truncateSync(join(dir, 'weights.bin'), 6);
  await assert.rejects(loadWeights(dir), (e: unknown) => e instanceof UserError && /hold 6 bytes, the manifest needs 16/.test(e.message));
  writeFileSync(join(dir, 'model.json'), '{"format": ');
  await assert.rejects(loadWeights(dir), (e: unknown) => e instanceof UserError && /invalid JSON/.test(e.message));
  writeSidecar(dir, HPARAMS_FILE, { ...makeHparams({}, STATS), normalisation: { ...STATS, stateStd: [1, 'x'] } });
  assert.throws(() => readHparams(dir), /field normalisation\.stateStd/);
  assert.throws(() => fileSystemIO(dir, { '../escape': 1 }), /invalid sidecar name/);
});
