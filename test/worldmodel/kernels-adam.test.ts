/**
 * The wasm-heap Adam update and sum of squares (worldmodel/kernels/adam-wasm.ts) against float64
 * references, on sizes with and without a tail of fewer than four values.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../worldmodel/backend.js';
import { adamOnHeap, sumSquaresOnHeap } from '../../worldmodel/kernels/adam-wasm.js';
import { normal } from './kernels-helpers.js';

before(async () => {
  tf.env().set('PROD', true);
  await initBackend({ requested: 'wasm' });
});

const info = (t: tf.Tensor): tf.TensorInfo => ({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });

test('Adam on the wasm heap follows the update rule (moments in place, new weights in a new tensor)', async () => {
  await tf.setBackend('wasm');
  for (const n of [1, 7, 64, 1003]) {
    const w0 = normal([n], 10 + n).values as Float32Array;
    const m0 = normal([n], 20 + n).values.map((x) => x * 0.1) as Float32Array;
    const v0 = normal([n], 30 + n).values.map((x) => x * x * 0.01) as Float32Array;
    const g0 = normal([n], 40 + n).values as Float32Array;
    const [w, m, v, g] = [w0, m0, v0, g0].map((a) => tf.tensor1d(a));
    const p = { scale: 0.7, beta1: 0.9, beta2: 0.999, step: 1e-3 / (1 - 0.9 ** 3), rootBc2: Math.sqrt(1 - 0.999 ** 3), eps: 1e-8 };
    for (const gArg of ['tensor', 'array'] as const) {
      const mm = tf.add(m!, 0);
      const vv = tf.add(v!, 0);
      const out = adamOnHeap(tf.backend(), info(w!), info(mm), info(vv), gArg === 'tensor' ? info(g!) : g0, p);
      assert.ok(out, 'runs on the wasm heap');
      const next = tf.engine().makeTensorFromTensorInfo(out);
      const [wn, mn, vn] = [next, mm, vv].map((t) => t.dataSync());
      for (let i = 0; i < n; i++) {
        const gi = g0[i]! * p.scale;
        const mi = p.beta1 * m0[i]! + (1 - p.beta1) * gi;
        const vi = p.beta2 * v0[i]! + (1 - p.beta2) * gi * gi;
        const wi = w0[i]! - (p.step * mi) / (Math.sqrt(vi) / p.rootBc2 + p.eps);
        assert.ok(Math.abs(mn[i]! - mi) <= 1e-6 * (1 + Math.abs(mi)), `n=${n} m[${i}]`);
        assert.ok(Math.abs(vn[i]! - vi) <= 1e-6 * (1 + Math.abs(vi)), `n=${n} v[${i}]`);
        assert.ok(Math.abs(wn[i]! - wi) <= 1e-6 * (1 + Math.abs(wi)), `n=${n} w[${i}]: ${wn[i]} vs ${wi}`);
      }
      // The old weights are untouched.
      assert.deepEqual(w!.dataSync(), w0);
      tf.dispose([next, mm, vv]);
    }
    tf.dispose([w!, m!, v!, g!]);
  }
});

test('sum of squares on the wasm heap equals a float64 sum', async () => {
  await tf.setBackend('wasm');
  for (const n of [1, 5, 4096, 10001]) {
    const a = normal([n], 50 + n).values as Float32Array;
    const t = tf.tensor1d(a);
    let want = 0;
    for (const x of a) want += x * x;
    const got = sumSquaresOnHeap(tf.backend(), info(t));
    assert.ok(got !== null && Math.abs(got - want) <= 1e-9 * want, `n=${n}: ${got} vs ${want}`);
    t.dispose();
  }
  // Tensors of another backend are not read through this heap.
  await tf.setBackend('cpu');
  const c = tf.tensor1d([1, 2]);
  await tf.setBackend('wasm');
  assert.equal(sumSquaresOnHeap(tf.backend(), info(c)), null);
  c.dispose();
});
