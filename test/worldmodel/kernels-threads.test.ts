/**
 * The shareable wasm heap (worldmodel/kernels/shared-heap.ts) and the helper threads of the
 * products (gemm-pool.ts): the binary patch, the heap being shared after backend start, and
 * products, convolutions and a gradient giving bit-identical results with and without helpers
 * (rows are split between threads, never a sum).
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../worldmodel/backend.js';
import { WasmHeap } from '../../worldmodel/kernels/wasm-heap.js';
import { shareMemory } from '../../worldmodel/kernels/shared-heap.js';
import { poolThreads, setHelperThreadsEnabled } from '../../worldmodel/kernels/gemm-pool.js';
import { normal } from './kernels-helpers.js';

before(async () => {
  tf.env().set('PROD', true);
  await initBackend({ requested: 'wasm' });
});

/** A minimal module: a memory section (id 5) with one memory of the given limits flags. */
function moduleWithMemory(flags: number): Uint8Array {
  const limits = flags & 1 ? [flags, 0x01, 0x02] : [flags, 0x01];
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, limits.length + 1, 0x01, ...limits]);
}

test('the memory patch marks a bounded memory shared and refuses other layouts', () => {
  const patched = shareMemory(moduleWithMemory(0x01));
  assert.ok(patched);
  assert.ok(WebAssembly.validate(patched as BufferSource), 'the patched module is valid');
  const m = new WebAssembly.Module(patched as BufferSource);
  const inst = new WebAssembly.Instance(m, {});
  assert.equal(Object.keys(inst.exports).length, 0);
  assert.equal(shareMemory(moduleWithMemory(0x00)), null, 'no maximum: cannot be shared');
  assert.equal(shareMemory(moduleWithMemory(0x03)), null, 'already shared');
  assert.equal(shareMemory(new Uint8Array([1, 2, 3])), null, 'not wasm');
  // tfjs's own binary: exactly one byte changes.
  const require = createRequire(import.meta.url);
  const original = readFileSync(require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-simd.wasm'));
  const tfjsPatched = shareMemory(original);
  assert.ok(tfjsPatched && WebAssembly.validate(tfjsPatched as BufferSource));
  let changed = 0;
  for (let i = 0; i < original.length; i++) if (original[i] !== tfjsPatched![i]) changed++;
  assert.equal(changed, 1);
});

test('the wasm heap is shared and the products have helper threads (unless PPUU_THREADS=1 or one core)', async () => {
  await tf.setBackend('wasm');
  const heap = WasmHeap.of(tf.backend());
  assert.ok(heap);
  const want = poolThreads();
  assert.equal(heap.memory.buffer instanceof SharedArrayBuffer, want > 1);
  assert.equal(heap.gemm.threads, want > 1 ? want : 1);
});

test('products, convolutions and gradients are bit-identical with and without helper threads', async () => {
  await tf.setBackend('wasm');
  const xa = normal([4, 29, 6, 128], 1);
  const wa = normal([4, 4, 128, 256], 2);
  const da = normal([256, 64], 3);
  const run = () =>
    tf.tidy(() => {
      const x = tf.tensor4d(xa.values, xa.shape as [number, number, number, number]);
      const w = tf.tensor4d(wa.values, wa.shape as [number, number, number, number]);
      const d = tf.tensor2d(da.values, da.shape as [number, number]);
      const f = (xx: tf.Tensor, ww: tf.Tensor) => {
        const y = tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]);
        return tf.sum(tf.square(tf.matMul(tf.reshape(y, [-1, 256]) as tf.Tensor2D, d)));
      };
      const [gx, gw] = tf.grads(f)([x, w]);
      return [gx!, gw!, tf.conv2d(x, w, 2, 'same')].map((t) => Array.from(t.dataSync()));
    });
  setHelperThreadsEnabled(false);
  let one: number[][];
  try {
    one = run();
  } finally {
    setHelperThreadsEnabled(true);
  }
  const many = run();
  ['input gradient', 'filter gradient', 'convolution'].forEach((what, i) => {
    assert.deepEqual(many[i], one[i], `${what} differs between 1 and ${WasmHeap.of(tf.backend())!.gemm.threads} threads`);
  });
});
