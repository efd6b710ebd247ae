import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { slidingContexts } from '../../policy/km-rollout.js';
import { Rng } from '../../common/rng.js';
import { setup } from './helpers.js';

before(setup);

test('slidingContexts: context t holds sequence frames t .. t + ncond - 1 (the context frames, then the future), step-major', () => {
  const [B, H, W, C, ncond, T] = [3, 5, 4, 3, 4, 7];
  const rng = new Rng(9);
  const rand = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(0, 1));
  tf.tidy(() => {
    const context = tf.tensor4d(rand(B * H * W * ncond * C), [B, H, W, ncond * C]);
    const future = Array.from({ length: T }, () => tf.tensor4d(rand(B * H * W * C), [B, H, W, C]));
    const got = slidingContexts(context, future, ncond, C, T);
    assert.deepEqual(got.shape, [T * B, H, W, ncond * C]);
    // Independent reference: sequence frame s of row b, then its channels c at slot j.
    const ctx = context.arraySync() as number[][][][];
    const fut = future.map((f) => f.arraySync() as number[][][][]);
    const seq = (s: number, b: number, i: number, k: number, c: number) => (s < ncond ? ctx[b]![i]![k]![s * C + c]! : fut[s - ncond]![b]![i]![k]![c]!);
    const out = got.arraySync() as number[][][][];
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        for (let i = 0; i < H; i++) for (let k = 0; k < W; k++) for (let j = 0; j < ncond; j++) for (let c = 0; c < C; c++) {
          assert.equal(out[t * B + b]![i]![k]![j * C + c], Math.fround(seq(t + j, b, i, k, c)), `t ${t} b ${b} pixel (${i}, ${k}) slot ${j} channel ${c}`);
        }
      }
    }
    // The last future frame is never in a context (it is the frame after the last step); fewer than T - 1 future frames is an error.
    assert.throws(() => slidingContexts(context, future.slice(0, T - 2), ncond, C, T), /cannot slide a context over 7 steps/);
  });
});
