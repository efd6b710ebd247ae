import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { fmConfig } from '../../../worldmodel/fm/config.js';
import { ForwardModel } from '../../../worldmodel/fm/model.js';
import { FmNoise } from '../../../worldmodel/fm/noise.js';
import { mcDropoutUncertainty } from '../../../worldmodel/fm/uncertainty.js';
import { randomActions, randomInput, setup } from './helpers.js';

before(setup);

/** A toy cost: mean green (other cars) and mean red of each predicted image, [N, 2]. */
const cost = (images: tf.Tensor4D) => tf.stack([tf.mean(tf.slice(images, [0, 0, 0, 1], [-1, -1, -1, 1]), [1, 2, 3]), tf.mean(tf.slice(images, [0, 0, 0, 0], [-1, -1, -1, 1]), [1, 2, 3])], 1);

test('MC-dropout variance is zero with dropout off and positive with it on', () => {
  const cfg = fmConfig('tiny');
  const m = ForwardModel.create(cfg, 'vae', 5);
  tf.tidy(() => {
    const x = randomInput(cfg, 3);
    const actions = randomActions(3, 3);
    const off = mcDropoutUncertainty(m, x, { k: 4, actions, noise: new FmNoise(1, false), cost });
    const on = mcDropoutUncertainty(m, x, { k: 4, actions, zs: off.zs, noise: new FmNoise(1, true), cost });
    assert.deepEqual(off.imageVar.shape, [3, 3]);
    assert.deepEqual(off.stateVar.shape, [3, 3]);
    assert.deepEqual(off.costVar!.shape, [3, 3, 2]);
    assert.equal(tf.max(off.imageVar).dataSync()[0], 0);
    assert.equal(tf.max(off.stateVar).dataSync()[0], 0);
    assert.equal(tf.max(off.costVar!).dataSync()[0], 0);
    assert.ok(on.imageVar.dataSync().every((v) => v > 0));
    assert.ok(on.stateVar.dataSync().every((v) => v > 0));
    assert.ok(tf.max(on.costVar!).dataSync()[0]! > 0);
  });
  m.dispose();
});

test('all copies share the z sequence: with dropout off every copy predicts the same frames', () => {
  const cfg = fmConfig('tiny');
  const m = ForwardModel.create(cfg, 'vae', 6);
  tf.tidy(() => {
    const r = mcDropoutUncertainty(m, randomInput(cfg, 2), { k: 3, actions: randomActions(2, 2), noise: new FmNoise(3, false) });
    assert.equal(r.zs.length, 2);
    const img = tf.reshape(r.images[1]!, [3, 2, -1]);
    const spread = tf.max(tf.sub(tf.max(img, 0), tf.min(img, 0))).dataSync()[0];
    assert.equal(spread, 0);
    // Different z per step does change the prediction (the copies really use the given z).
    const other = mcDropoutUncertainty(m, randomInput(cfg, 2), { k: 3, actions: randomActions(2, 2), noise: new FmNoise(4, false) });
    assert.ok(tf.max(tf.abs(tf.sub(other.images[1]!, r.images[1]!))).dataSync()[0]! > 0);
  });
  m.dispose();
});

test('the uncertainty is differentiable with respect to the actions (frozen weights)', () => {
  const cfg = fmConfig('tiny');
  const m = ForwardModel.create(cfg, 'vae', 7);
  m.setTrainable(false);
  const x = randomInput(cfg, 2);
  const a0 = randomActions(2, 2);
  const zs = [0, 1].map((t) => m.samplePrior(2, new FmNoise(t, false)));
  const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => {
    const r = mcDropoutUncertainty(m, x, { k: 3, actions: [a as tf.Tensor2D, b as tf.Tensor2D], zs, noise: new FmNoise(8, true) });
    return tf.add(tf.sum(r.imageVar), tf.sum(r.stateVar));
  })(a0);
  const norm = tf.tidy(() => tf.add(tf.sum(tf.abs(g[0]!)), tf.sum(tf.abs(g[1]!))).dataSync()[0]!);
  assert.ok(Number.isFinite(norm) && norm > 0, `gradient norm ${norm}`);
  m.dispose();
});
