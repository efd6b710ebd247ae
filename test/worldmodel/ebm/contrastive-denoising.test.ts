import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../../common/rng.js';
import { initBackend } from '../../../worldmodel/backend.js';
import { contrastiveLoss, trainSiameseLinear, type Pairs } from '../../../worldmodel/ebm/contrastive.js';
import { trainDenoisingAutoencoder } from '../../../worldmodel/ebm/denoising.js';
import { mat, matTVec, matVec, row, sqDist } from '../../../worldmodel/ebm/linalg.js';
import { minEnergy } from '../../../worldmodel/ebm/energy.js';
import { randomMat, randomVec } from './helpers.js';

before(async () => {
  await initBackend();
});

test('the margin loss gradient pushes a close negative pair apart and ignores a far one', () => {
  const ea = tf.tensor2d([[0, 0]]);
  const eb = tf.tensor2d([[0.3, 0.4]]);
  const neg = tf.tensor1d([0]);
  const pos = tf.tensor1d([1]);
  const gNeg = tf.grad((a: tf.Tensor) => contrastiveLoss(a as tf.Tensor2D, eb, neg, 1))(ea);
  const step = ea.sub(gNeg.mul(0.1));
  const before = tf.tidy(() => ea.sub(eb).norm().dataSync()[0]!);
  const after = tf.tidy(() => step.sub(eb).norm().dataSync()[0]!);
  assert.ok(after > before + 1e-3, `negative pair distance ${before} -> ${after}`);
  // Loss value: 1/2 (m - D)^2 = 1/2 (1 - 0.5)^2.
  assert.ok(Math.abs(contrastiveLoss(ea, eb, neg, 1).dataSync()[0]! - 0.125) < 1e-6);
  // Beyond the margin a negative pair costs nothing and gets no gradient.
  const far = tf.tensor2d([[3, 4]]);
  assert.equal(contrastiveLoss(ea, far, neg, 1).dataSync()[0], 0);
  assert.ok(tf.grad((a: tf.Tensor) => contrastiveLoss(a as tf.Tensor2D, far, neg, 1))(ea).abs().sum().dataSync()[0]! === 0);
  // A positive pair is pulled together.
  const gPos = tf.grad((a: tf.Tensor) => contrastiveLoss(a as tf.Tensor2D, eb, pos, 1))(ea);
  const closer = tf.tidy(() => ea.sub(gPos.mul(0.1)).sub(eb).norm().dataSync()[0]!);
  assert.ok(closer < before - 1e-3);
});

test('siamese training with the margin loss pushes negative pairs apart and pulls positive pairs together', () => {
  const rng = new Rng(30);
  const d = 6;
  const centres = randomMat(4, d, rng, 1);
  const sample = (c: number) => Float64Array.from({ length: d }, (_, j) => centres.data[c * d + j]! + rng.normal(0, 0.3));
  const n = 400;
  const pairs: Pairs = { a: mat(n, d), b: mat(n, d), similar: new Uint8Array(n) };
  for (let i = 0; i < n; i++) {
    const ca = rng.int(4);
    const same = i % 2 === 0;
    const cb = same ? ca : (ca + 1 + rng.int(3)) % 4;
    pairs.a.data.set(sample(ca), i * d);
    pairs.b.data.set(sample(cb), i * d);
    pairs.similar[i] = same ? 1 : 0;
  }
  const margin = 2;
  const dims = 2;
  const meanDist = (W: ReturnType<typeof mat>, similar: number) => {
    let s = 0;
    let k = 0;
    for (let i = 0; i < n; i++) {
      if (pairs.similar[i] !== similar) continue;
      s += Math.sqrt(sqDist(matTVec(W, row(pairs.a, i)), matTVec(W, row(pairs.b, i))));
      k++;
    }
    return s / k;
  };
  // The same initial embedding trainSiameseLinear draws (steps: 0 returns it unchanged).
  const W0 = trainSiameseLinear(pairs, { dims, margin, steps: 0, seed: 3 }).W;
  const { W, lossHistory } = trainSiameseLinear(pairs, { dims, margin, steps: 300, seed: 3 });
  const negBefore = meanDist(W0, 0);
  const negAfter = meanDist(W, 0);
  assert.ok(negBefore < margin, 'negative pairs start inside the margin');
  assert.ok(negAfter > negBefore * 1.3, `negative pairs ${negBefore} -> ${negAfter}`);
  assert.ok(meanDist(W, 1) < meanDist(W0, 1), 'positive pairs pulled together');
  assert.ok(meanDist(W, 1) < negAfter / 2);
  assert.ok(lossHistory.slice(-20).reduce((a, b) => a + b) < lossHistory.slice(0, 20).reduce((a, b) => a + b));
});

test('a denoising auto-encoder gives low energy on the data and higher energy off it', () => {
  const rng = new Rng(31);
  const d = 8;
  const basis = randomMat(d, 2, rng);
  const onData = () => matVec(basis, randomVec(2, rng));
  const n = 500;
  const Y = mat(n, d);
  for (let i = 0; i < n; i++) Y.data.set(onData(), i * d);
  const before = tf.memory().numTensors;
  const { model, lossHistory } = trainDenoisingAutoencoder(Y, { hidden: 16, noiseStd: 0.3, steps: 400, seed: 2 });
  assert.equal(tf.memory().numTensors, before);
  let eOn = 0;
  let eOff = 0;
  for (let t = 0; t < 100; t++) {
    const y = onData();
    eOn += minEnergy(model, y) / 100;
    const off = Float64Array.from(y, (v) => v + rng.normal(0, 0.5));
    eOff += minEnergy(model, off) / 100;
  }
  assert.ok(eOn * 3 < eOff, `energy on data ${eOn}, off data ${eOff}`);
  assert.ok(lossHistory.at(-1)! < lossHistory[0]!);
});
