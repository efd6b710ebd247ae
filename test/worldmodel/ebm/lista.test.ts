import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../../common/rng.js';
import { initBackend } from '../../../worldmodel/backend.js';
import { fista, ista } from '../../../worldmodel/ebm/lasso.js';
import { listaEncode, listaFromIsta, trainLista } from '../../../worldmodel/ebm/lista.js';
import { mat, row, sqDist } from '../../../worldmodel/ebm/linalg.js';
import { randomDictionary, sparseSignal } from './helpers.js';

before(async () => {
  await initBackend();
});

test('LISTA at its ISTA initialisation equals T ISTA iterations', () => {
  const rng = new Rng(20);
  const W = randomDictionary(12, 24, rng);
  const p = listaFromIsta(W, 0.1, 3);
  for (let t = 0; t < 5; t++) {
    const { y } = sparseSignal(W, 3, rng);
    const a = listaEncode(p, y);
    const b = ista(W, y, { lambda: 0.1, tol: 0, maxIter: 3 }).z;
    assert.ok(sqDist(a, b) < 1e-20);
  }
});

test('a trained 3-layer LISTA has a lower code error than 3 ISTA iterations', async () => {
  const rng = new Rng(21);
  const d = 16;
  const k = 32;
  const lambda = 0.1;
  const W = randomDictionary(d, k, rng);
  const make = (n: number) => {
    const Y = mat(n, d);
    const Z = mat(n, k);
    for (let i = 0; i < n; i++) {
      const { y } = sparseSignal(W, 3, rng, 0.05);
      Y.data.set(y, i * d);
      Z.data.set(fista(W, y, { lambda, tol: 1e-7 }).z, i * k);
    }
    return { Y, Z };
  };
  const train = make(600);
  const testSet = make(200);
  const tensorsBefore = tf.memory().numTensors;
  const { params, lossHistory } = await trainLista(W, lambda, train.Y, train.Z, { layers: 3, steps: 300, batch: 64, learningRate: 3e-3, seed: 1 });
  assert.equal(tf.memory().numTensors, tensorsBefore, 'training leaks no tensors');
  const codeError = (encode: (y: Float64Array) => Float64Array) => {
    let s = 0;
    for (let i = 0; i < testSet.Y.rows; i++) s += sqDist(encode(row(testSet.Y, i)), row(testSet.Z, i));
    return s / testSet.Y.rows;
  };
  const istaErr = codeError((y) => ista(W, y, { lambda, tol: 0, maxIter: 3 }).z);
  const listaErr = codeError((y) => listaEncode(params, y));
  assert.ok(listaErr < 0.7 * istaErr, `LISTA error ${listaErr} vs ISTA(3) ${istaErr}`);
  assert.ok(lossHistory.at(-1)! < lossHistory[0]!, 'training loss decreased');
});
