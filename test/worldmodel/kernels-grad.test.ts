/**
 * Training through our kernels on wasm: a finite-difference check of the gradients of a tiny
 * encoder / decoder network that uses every op the forward model needs (conv2d, leakyRelu,
 * dropout, dense, gather, conv2dTranspose, sigmoid, exp, mean), and flat tensor and backend
 * memory across repeated optimiser steps.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../worldmodel/backend.js';
import { activeTrainingKernels } from '../../worldmodel/kernels/register.js';
import { normal } from './kernels-helpers.js';

before(async () => {
  tf.env().set('PROD', true);
  await initBackend({ requested: 'wasm' });
  assert.equal(tf.getBackend(), 'wasm');
});

type Params = Record<'w1' | 'w2' | 'w3' | 'w4' | 'emb', tf.Tensor>;

const SHAPES: Record<keyof Params, number[]> = {
  w1: [4, 4, 3, 4], // conv 12x6x3 -> 6x3x4, stride 2
  w2: [4, 4, 3, 4], // transposed conv 6x3x4 -> 12x6x3
  w3: [72, 8], // dense code
  w4: [8, 72], // dense back to the feature map
  emb: [5, 8], // gathered rows
};

function makeParams(scale = 0.3): Params {
  const p = {} as Params;
  (Object.keys(SHAPES) as Array<keyof Params>).forEach((k, i) => {
    const a = normal(SHAPES[k], 500 + i);
    p[k] = tf.tensor(a.values, a.shape).mul(scale);
  });
  return p;
}

const X = normal([2, 12, 6, 3], 600);
const TARGET = normal([2, 12, 6, 3], 601);

/** The network's scalar loss; dropout uses a fixed seed so repeated evaluations agree. */
function loss(p: Params, training = true): tf.Scalar {
  return tf.tidy(() => {
    const x = tf.tensor4d(X.values, X.shape as [number, number, number, number]);
    const target = tf.sigmoid(tf.tensor(TARGET.values, TARGET.shape));
    const h1 = tf.leakyRelu(tf.conv2d(x, p.w1 as tf.Tensor4D, 2, 'same'), 0.2);
    const h1d = training ? tf.dropout(h1, 0.1, [2, 1, 1, 4], 7) : h1;
    const code = tf.matMul(h1d.reshape([2, 72]), p.w3 as tf.Tensor2D).add(tf.gather(p.emb, tf.tensor1d([1, 3], 'int32')));
    const h2 = h1d.add(tf.matMul(code, p.w4 as tf.Tensor2D).reshape([2, 6, 3, 4]));
    const y = tf.sigmoid(tf.conv2dTranspose(h2 as tf.Tensor4D, p.w2 as tf.Tensor4D, [2, 12, 6, 3], 2, 'same').add(x));
    const rec = tf.mean(tf.square(y.sub(target)));
    return rec.add(tf.mean(tf.exp(tf.square(code).neg())).mul(0.1)) as tf.Scalar;
  });
}

test('our kernels are active on wasm', () => {
  assert.deepEqual([...activeTrainingKernels('wasm')].sort(), ['BatchMatMul', 'Concat', 'Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput', 'Identity', 'PadV2', 'Slice', 'UnsortedSegmentSum', '_FusedMatMul']);
});

test('gradients of a tiny conv net on wasm match central finite differences', () => {
  const p = makeParams();
  const names = Object.keys(SHAPES) as Array<keyof Params>;
  const grads = tf.grads((...ts: tf.Tensor[]) => loss(Object.fromEntries(names.map((n, i) => [n, ts[i]!])) as Params))(names.map((n) => p[n]));
  const eps = 1e-2;
  names.forEach((name, i) => {
    const g = grads[i]!;
    assert.ok(Math.max(...(g.abs().dataSync() as Float32Array)) > 1e-5, `${name}: gradient is all zero`);
    for (let trial = 0; trial < 2; trial++) {
      const dir = tf.tidy(() => {
        const v = tf.tensor(normal(SHAPES[name], 700 + 10 * i + trial).values, SHAPES[name]);
        return v.div(v.norm());
      });
      const shifted = (sign: number) => {
        const moved = { ...p, [name]: p[name].add(dir.mul(sign * eps)) } as Params;
        const l = loss(moved);
        const v = l.dataSync()[0]!;
        tf.dispose([l, moved[name]]);
        return v;
      };
      const fd = (shifted(1) - shifted(-1)) / (2 * eps);
      const an = tf.tidy(() => g.mul(dir).sum().dataSync()[0]!);
      const err = Math.abs(fd - an) / Math.max(Math.abs(an), Math.abs(fd), 1e-4);
      assert.ok(err < 2e-2, `${name} direction ${trial}: finite difference ${fd} vs gradient ${an} (relative error ${err})`);
      dir.dispose();
    }
  });
  tf.dispose([...grads, ...Object.values(p)]);
});

test('tensor count and backend data stay flat across Adam steps on wasm', () => {
  const p = makeParams();
  const vars = Object.fromEntries(Object.entries(p).map(([k, t]) => [k, tf.variable(t, true, `gc_${k}`)])) as unknown as Params;
  tf.dispose(Object.values(p));
  const opt = tf.train.adam(1e-2);
  const step = () => {
    const l = opt.minimize(() => loss(vars), true) as tf.Scalar;
    const v = l.dataSync()[0]!;
    l.dispose();
    return v;
  };
  const first = step();
  step();
  const tensors = tf.memory().numTensors;
  const dataIds = tf.backend().numDataIds();
  let last = first;
  for (let i = 0; i < 5; i++) last = step();
  assert.equal(tf.memory().numTensors, tensors, 'engine tensors leaked');
  assert.equal(tf.backend().numDataIds(), dataIds, 'backend data leaked');
  assert.ok(last < first, `loss did not fall: ${first} -> ${last}`);
  opt.dispose();
  tf.dispose(Object.values(vars));
});

test('phase filters are cached per weight tensor and shape, and dropped with the weights', async () => {
  const { derivedCacheFor } = await import('../../worldmodel/kernels/derived-cache.js');
  const be = tf.backend();
  const cache = derivedCacheFor(be);
  cache.clear();
  const dy = tf.tensor(normal([2, 7, 3, 8], 800).values, [2, 7, 3, 8]) as tf.Tensor4D;
  const flat = tf.tensor(normal([4 * 4 * 4 * 8], 801).values);
  const w = flat.reshape([4, 4, 4, 8]) as tf.Tensor4D; // shares flat's data
  const deconv = (f: tf.Tensor4D, ci: number) => tf.conv2dTranspose(dy, f, [2, 14, 6, ci], 2, 'same');
  const first = deconv(w, 4);
  const idsAfterFirst = be.numDataIds();
  const again = deconv(w, 4);
  assert.equal(be.numDataIds(), idsAfterFirst + 1, 'a repeated call made more than its output');
  assert.deepEqual(Array.from(again.dataSync()), Array.from(first.dataSync()));
  assert.equal(cache.size, 1);
  // Same data read as another shape: a new entry, and the right answer (checked on cpu).
  const w2 = flat.reshape([4, 4, 8, 4]) as tf.Tensor4D;
  const dy2 = tf.tensor(normal([2, 7, 3, 4], 802).values, [2, 7, 3, 4]) as tf.Tensor4D;
  const other = tf.conv2dTranspose(dy2, w2, [2, 14, 6, 8], 2, 'same');
  assert.equal(cache.size, 2);
  await tf.setBackend('cpu');
  const ref = tf.conv2dTranspose(tf.tensor4d(dy2.dataSync(), [2, 7, 3, 4]), tf.tensor4d(w2.dataSync(), [4, 4, 8, 4]), [2, 14, 6, 8], 2, 'same');
  const refValues = ref.dataSync();
  ref.dispose();
  await tf.setBackend('wasm');
  const got = other.dataSync();
  let err = 0;
  let scale = 0;
  for (let i = 0; i < got.length; i++) {
    err = Math.max(err, Math.abs(got[i]! - refValues[i]!));
    scale = Math.max(scale, Math.abs(refValues[i]!));
  }
  assert.ok(err / scale <= 1e-4, `reshaped weights: error ${err / scale}`);
  // Disposing the weights releases their phase filters at the next lookup.
  tf.dispose([flat, w, w2]);
  const fresh = tf.ones([4, 4, 4, 8]) as tf.Tensor4D;
  deconv(fresh, 4).dispose();
  assert.equal(cache.size, 1);
  tf.dispose([dy, dy2, first, again, other, fresh]);
  cache.clear();
});
