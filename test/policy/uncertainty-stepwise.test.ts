import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { NormStats } from '../../data/dataset-types.js';
import { fmConfig } from '../../worldmodel/fm/config.js';
import { ForwardModel } from '../../worldmodel/fm/model.js';
import { FmNoise } from '../../worldmodel/fm/noise.js';
import { IMAGE_H, IMAGE_W } from '../../data/layout.js';
import { stepwiseUncertaintyTerms } from '../../policy/uncertainty.js';
import { Rng } from '../../common/rng.js';
import { setup } from './helpers.js';

before(setup);

const STATS: NormStats = { stateMean: [900, 120, 55, 0], stateStd: [400, 40, 20, 1], actionMean: [0, 0], actionStd: [4, 0.001] };

test('stepwise U with a stride and a row count is U of exactly those steps and rows (with their car sizes)', () => {
  const cfg = fmConfig('tiny');
  const model = ForwardModel.create(cfg, 'vae', 3);
  model.setTrainable(false);
  const [T, B, stride, rows, k] = [6, 4, 2, 3, 2];
  const rng = new Rng(4);
  const rand = (n: number, lo = 0, hi = 1) => Float32Array.from({ length: n }, () => rng.uniform(lo, hi));
  try {
    tf.tidy(() => {
      const C = cfg.ncond * cfg.channels;
      const images = tf.tensor4d(rand(T * B * IMAGE_H * IMAGE_W * C), [T * B, IMAGE_H, IMAGE_W, C]);
      const states = tf.tensor2d(rand(T * B * cfg.ncond * 4, -1, 1), [T * B, cfg.ncond * 4]);
      const actions = tf.tensor2d(rand(T * B * 2, -1, 1), [T * B, 2]);
      const zs = tf.tensor2d(rand(T * B * cfg.nz, -1, 1), [T * B, cfg.nz]);
      // Row i of every step a different car, so that a wrong car-to-row pairing changes the costs.
      const cars = { lengthObsPx: Float32Array.from({ length: T * B }, (_, i) => 5 + (i % B)), widthObsPx: Float32Array.from({ length: T * B }, (_, i) => 2 + 0.5 * (i % B)) };
      const got = stepwiseUncertaintyTerms(model, { images, states }, actions, zs, cars, STATS, k, new FmNoise(7, true, 0), T, stride, rows);
      assert.deepEqual(got.image.shape, [T / stride, rows]);
      // The same rows picked by hand (steps 0, 2, 4; rows 0..2 of each), all of them carrying U.
      const idx = [0, 2, 4].flatMap((t) => [0, 1, 2].map((r) => t * B + r));
      const take = <X extends tf.Tensor>(x: X) => tf.gather(x, idx) as X;
      const pick = (a: Float32Array) => Float32Array.from(idx, (i) => a[i]!);
      const want = stepwiseUncertaintyTerms(model, { images: take(images), states: take(states) }, take(actions), take(zs), { lengthObsPx: pick(cars.lengthObsPx), widthObsPx: pick(cars.widthObsPx) }, STATS, k, new FmNoise(7, true, 0), T / stride);
      for (const part of ['image', 'state', 'cost'] as const) {
        const [a, b] = [got[part].dataSync(), want[part].dataSync()];
        assert.deepEqual(Array.from(a), Array.from(b), part);
        assert.ok(a.some((v) => v > 0), `${part}: dropout gives some variance`);
      }
      // rows null and stride 1: every row of every step.
      assert.deepEqual(stepwiseUncertaintyTerms(model, { images, states }, actions, zs, cars, STATS, k, new FmNoise(7, true, 0), T).image.shape, [T, B]);
    });
  } finally {
    model.dispose();
  }
});
