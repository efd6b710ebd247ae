import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../../common/rng.js';
import { initBackend } from '../../../worldmodel/backend.js';
import { ensureConvGradients } from '../../../worldmodel/ebm/conv-backend.js';
import { trainPsd, psdEncode, PsdEnergy } from '../../../worldmodel/ebm/psd.js';
import { trainConvSparse, convSparseEncode, convSparseDecode, disposeConvSparse, ConvSparseEnergy } from '../../../worldmodel/ebm/conv-sparse.js';
import { column, mat, norm2, row, sqDist } from '../../../worldmodel/ebm/linalg.js';
import { trainEbm, defaultTrainOptions } from '../../../worldmodel/ebm/train.js';
import { saveEbmModel } from '../../../worldmodel/ebm/store.js';
import { loadEncoderInit, tileEncoderKernel } from '../../../worldmodel/ebm/encoder-init.js';
import type { ImageSet } from '../../../worldmodel/ebm/images.js';
import { randomDictionary, sparseSignal } from './helpers.js';
import { tempDir } from '../../helpers/temp.js';

before(async () => {
  await initBackend();
  // Convolution gradients: the cpu backend where the chosen one lacks them.
  await ensureConvGradients();
});

/** Small synthetic "state images": black, a red vertical line, a green block at random places. */
function toyImages(n: number, h: number, w: number, seed: number): ImageSet {
  const rng = new Rng(seed);
  const data = new Uint8Array(n * h * w * 3);
  for (let i = 0; i < n; i++) {
    const lc = rng.int(w);
    for (let r = 0; r < h; r++) data[((i * h + r) * w + lc) * 3] = 200;
    const r0 = rng.int(h - 3);
    const c0 = rng.int(w - 2);
    for (let r = r0; r < r0 + 3; r++) for (let c = c0; c < c0 + 2; c++) data[((i * h + r) * w + c) * 3 + 1] = 255;
  }
  return { data, count: n, height: h, width: w, channels: 3 };
}

test('PSD: energy falls, decoder columns stay unit-norm, the encoder learns to predict the codes', async () => {
  const rng = new Rng(40);
  const Wtrue = randomDictionary(12, 16, rng);
  const n = 600;
  const Y = mat(n, 12);
  for (let i = 0; i < n; i++) Y.data.set(sparseSignal(Wtrue, 2, rng, 0.01).y, i * 12);
  const tensors = tf.memory().numTensors;
  const short = await trainPsd(Y, { atoms: 16, lambda: 0.05, steps: 1, seed: 1 });
  const { params, energyHistory } = await trainPsd(Y, { atoms: 16, lambda: 0.05, steps: 80, inferIter: 15, learningRate: 1e-2, seed: 1 });
  assert.equal(tf.memory().numTensors, tensors, 'no tensor leaks');
  const mean = (a: number[]) => a.reduce((p, v) => p + v, 0) / a.length;
  assert.ok(mean(energyHistory.slice(-10)) < 0.7 * mean(energyHistory.slice(0, 10)), `energy ${mean(energyHistory.slice(0, 10))} -> ${mean(energyHistory.slice(-10))}`);
  for (let j = 0; j < 16; j++) assert.ok(Math.abs(norm2(column(params.W, j)) - 1) < 1e-4);
  // Prediction error of the encoder against the optimal codes, before and after training.
  const predErr = (p: typeof params) => {
    const e = new PsdEnergy(p);
    let s = 0;
    for (let i = 0; i < 100; i++) s += sqDist(psdEncode(p, row(Y, i)), e.infer(row(Y, i)).z);
    return s / 100;
  };
  assert.ok(predErr(params) < 0.5 * predErr(short.params), `prediction error ${predErr(short.params)} -> ${predErr(params)}`);
});

test('conv decoder is the adjoint of the conv encoder operator: <conv(y, D), z> = <y, convT(z, D)>', () => {
  tf.tidy(() => {
    const D = tf.randomNormal([4, 4, 3, 5], 0, 1, 'float32', 1) as tf.Tensor4D;
    const y = tf.randomNormal([2, 8, 6, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const z = tf.randomNormal([2, 4, 3, 5], 0, 1, 'float32', 3) as tf.Tensor4D;
    const lhs = tf.conv2d(y, D, 2, 'same').mul(z).sum().dataSync()[0]!;
    const rhs = y.mul(convSparseDecode(D, z, [2, 8, 6, 3])).sum().dataSync()[0]!;
    assert.ok(Math.abs(lhs - rhs) < 1e-3 * Math.abs(lhs), `${lhs} vs ${rhs}`);
    // 'same' on even sizes is padding 1 on each side, the world model's convention.
    const explicit = tf.conv2d(y, D, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]);
    assert.ok(tf.conv2d(y, D, 2, 'same').sub(explicit).abs().max().dataSync()[0]! < 1e-5);
  });
});

test('conv sparse auto-encoder: energy falls, filters unit-norm, no tensor leaks', async () => {
  const img = toyImages(20, 8, 8, 41);
  const tensors = tf.memory().numTensors;
  const batch = (rng: Rng) => {
    const out = new Float32Array(4 * 8 * 8 * 3);
    for (let i = 0; i < 4; i++) {
      const n = rng.int(img.count);
      for (let j = 0; j < 8 * 8 * 3; j++) out[i * 192 + j] = img.data[n * 192 + j]! / 255;
    }
    return tf.tensor4d(out, [4, 8, 8, 3]);
  };
  const { params, energyHistory } = await trainConvSparse({ filters: 6, lambda: 0.05, steps: 40, learningRate: 1e-2, seed: 2, channels: 3, batch });
  assert.equal(tf.memory().numTensors, tensors + 4, 'only the four parameter tensors remain');
  const first = energyHistory.slice(0, 5).reduce((a, b) => a + b) / 5;
  const last = energyHistory.slice(-5).reduce((a, b) => a + b) / 5;
  assert.ok(last < 0.8 * first, `energy ${first} -> ${last}`);
  const norms = tf.tidy(() => params.D.square().sum([0, 1, 2]).sqrt().dataSync());
  for (const v of norms) assert.ok(Math.abs(v - 1) < 1e-4);
  const codes = tf.tidy(() => convSparseEncode(params, batch(new Rng(9))));
  assert.deepEqual(codes.shape, [4, 4, 4, 6]);
  const zeros = tf.tidy(() => codes.equal(0).sum().dataSync()[0]!);
  assert.ok(zeros > 0, 'codes are sparse (some exact zeros)');
  codes.dispose();
  const e = new ConvSparseEnergy(params, 8, 8);
  const y = Float64Array.from(img.data.subarray(0, 192), (v) => v / 255);
  const inf = e.infer(y);
  assert.ok(inf.energy <= e.energy(y, new Float64Array(inf.z.length)) + 1e-6, 'the encoder code beats the zero code');
  disposeConvSparse(params);
});

test('a trained conv-sparse encoder loads as a [4, 4, 3, F] kernel and tiles over frames', async () => {
  const img = toyImages(10, 8, 24, 42);
  const opts = { ...defaultTrainOptions('conv-sparse'), atoms: 4, steps: 3, batch: 2, cropRows: 8, seed: 3 };
  const { model, summary } = await trainEbm(img, { kind: 'conv-sparse', ...opts });
  assert.equal(summary.kind, 'conv-sparse');
  assert.ok(Number.isFinite(summary.heldOutEnergy));
  const dir = tempDir('ppuu-ebm-enc-');
  try {
    await saveEbmModel(join(dir, 'm'), model);
    const enc = await loadEncoderInit(join(dir, 'm'));
    assert.deepEqual(enc.kernel.shape, [4, 4, 3, 4]);
    assert.deepEqual(enc.bias!.shape, [4]);
    assert.equal(enc.stride, 2);
    assert.equal(enc.padding, 1);
    assert.deepEqual(Array.from(enc.kernel.dataSync()), Array.from(model.arrays.E!.data));
    const frames = 5;
    for (const mode of ['mean', 'last', 'repeat'] as const) {
      const tiled = tileEncoderKernel(enc.kernel, frames, mode);
      assert.deepEqual(tiled.shape, [4, 4, 15, 4]);
      // A still scene (the same frame repeated, frame-major channels) gives the one-frame response
      // scaled by 1 ('mean' and 'last') or by the number of frames ('repeat').
      tf.tidy(() => {
        const frame = tf.tensor4d(Float32Array.from(img.data.subarray(0, 8 * 24 * 3), (v) => v / 255), [1, 8, 24, 3]);
        const stack = tf.concat(Array.from({ length: frames }, () => frame), 3) as tf.Tensor4D;
        const one = tf.conv2d(frame, enc.kernel, 2, 'same');
        const many = tf.conv2d(stack, tiled, 2, 'same');
        const want = mode === 'repeat' ? one.mul(frames) : one;
        assert.ok(many.sub(want).abs().max().dataSync()[0]! < 1e-4, mode);
      });
      tiled.dispose();
    }
    enc.kernel.dispose();
    enc.bias?.dispose();
    // A model without a conv encoder says so.
    const pca = await trainEbm(img, { kind: 'pca', ...defaultTrainOptions('pca'), atoms: 4, patch: 4, samples: 100 });
    await saveEbmModel(join(dir, 'pca'), pca.model);
    await assert.rejects(loadEncoderInit(join(dir, 'pca')), /has no convolutional encoder/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('conv sparse auto-encoder re-seeds unused filters from data patches and stays stable', async () => {
  const img = toyImages(20, 8, 8, 43);
  const batch = (rng: Rng) => {
    const out = new Float32Array(4 * 192);
    for (let i = 0; i < 4; i++) {
      const n = rng.int(img.count);
      for (let j = 0; j < 192; j++) out[i * 192 + j] = img.data[n * 192 + j]! / 255;
    }
    return tf.tensor4d(out, [4, 8, 8, 3]);
  };
  // A large L1 weight leaves most of 12 filters unused.
  const { params, energyHistory, reseeded } = await trainConvSparse({ filters: 24, lambda: 0.5, steps: 60, reseedEvery: 10, learningRate: 1e-2, seed: 4, channels: 3, batch });
  assert.ok(reseeded > 0, 'some filters were re-seeded');
  assert.ok(energyHistory.every(Number.isFinite));
  assert.ok(Math.max(...energyHistory.slice(10)) < 2 * energyHistory[0]!, `energy stays bounded: ${energyHistory.map((v) => v.toFixed(2))}`);
  const norms = tf.tidy(() => params.D.square().sum([0, 1, 2]).sqrt().dataSync());
  for (const v of norms) assert.ok(Math.abs(v - 1) < 1e-3);
  disposeConvSparse(params);
});
