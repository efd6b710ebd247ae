import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Adam } from '../../../worldmodel/fm/adam.js';
import { exclusiveView } from '../../../worldmodel/fm/tensor-memory.js';
import { setup } from './helpers.js';

before(setup);

/** A variable that alone owns its memory. */
function own(t: tf.Tensor): tf.Variable {
  const v = tf.variable(t);
  t.dispose();
  return v;
}

function weights(seed: number): Record<string, tf.Variable> {
  return { a: own(tf.randomNormal([3, 5], 0, 1, 'float32', seed)), b: own(tf.randomNormal([7], 0, 1, 'float32', seed + 1)) };
}

test('Adam follows the PyTorch update rule, in place or through tfjs ops alike', () => {
  const fast = weights(1);
  const slow = weights(1);
  // A reshape shares memory with the variable, which forces the tfjs-op path for `slow`.
  const aliases = Object.values(slow).map((v) => tf.reshape(v, v.shape));
  const start = fast.a!.dataSync().slice();
  const aFast = new Adam(fast, { learningRate: 0.01 });
  const aSlow = new Adam(slow, { learningRate: 0.01 });
  const g1 = { a: tf.randomNormal([3, 5], 0, 1, 'float32', 7), b: tf.randomNormal([7], 0, 1, 'float32', 8) };
  for (let i = 0; i < 3; i++) {
    aFast.apply(g1, 0.5);
    aSlow.apply({ a: g1.a, b: g1.b.dataSync() as Float32Array }, 0.5);
  }
  assert.ok(exclusiveView(fast.a!) !== null || !['wasm', 'cpu'].includes(tf.getBackend()), 'fast path available');
  for (const k of ['a', 'b'] as const) {
    const d = tf.max(tf.abs(tf.sub(fast[k]!, slow[k]!))).dataSync()[0]!;
    assert.ok(d < 1e-6, `${k}: ${d}`);
  }
  // Constant gradient g: every step moves each weight by lr * sign(g) (bias-corrected m / sqrt(v) = sign(g)).
  const moved = fast.a!.dataSync();
  const g = g1.a.dataSync();
  for (let i = 0; i < moved.length; i++) assert.ok(Math.abs(start[i]! - moved[i]! - 3 * 0.01 * Math.sign(g[i]!)) < 1e-5);
  // The alias still holds the starting values (nothing was written behind its back).
  assert.deepEqual(aliases[0]!.dataSync(), start);
});
