/**
 * This project's generated wasm matrix products (worldmodel/kernels/gemm-wasm.ts) against float64
 * references on awkward sizes (tails of rows and columns, reductions that cross the blocking),
 * and the kernels built on them (Conv2D, _FusedMatMul) against tfjs's stock cpu kernels.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../worldmodel/backend.js';
import { WasmHeap } from '../../worldmodel/kernels/wasm-heap.js';
import { KC, MC } from '../../worldmodel/kernels/gemm-wasm.js';
import { convOutShape, normal, relError, runKernel } from './kernels-helpers.js';

const TOL = 1e-4;

before(async () => {
  tf.env().set('PROD', true);
  await initBackend({ requested: 'wasm' });
});

function heap(): WasmHeap {
  const h = WasmHeap.of(tf.backend());
  assert.ok(h, 'the products run on this wasm backend');
  return h;
}

/** A tensor's byte address on the wasm heap. */
const addr = (t: tf.Tensor) => heap().address({ dataId: t.dataId, shape: t.shape, dtype: t.dtype });

/** C = A B (+ C0) in float64; A given as [M, K] (or [K, M] when `transposed`). */
function reference(a: Float32Array, b: Float32Array, m: number, n: number, k: number, transposed: boolean, c0?: Float32Array): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = c0 ? c0[i * n + j]! : 0;
      for (let p = 0; p < k; p++) s += (transposed ? a[p * m + i]! : a[i * k + p]!) * b[p * n + j]!;
      c[i * n + j] = s;
    }
  }
  return c;
}

function maxRelError(got: Float32Array, want: Float64Array): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num = Math.max(num, Math.abs(got[i]! - want[i]!));
    den = Math.max(den, Math.abs(want[i]!));
  }
  return num / Math.max(den, 1e-30);
}

test('generated products (A B and A^T B, overwrite and accumulate) equal float64 references', async () => {
  await tf.setBackend('wasm');
  const sizes: Array<[number, number, number]> = [
    [1, 1, 1],
    [3, 5, 2],
    [7, 13, 9], // every row and column tail (4-row tiles, 8/4/1-wide columns)
    [MC + 5, 21, KC + 37], // crosses both blocking sizes
    [6, 8, 0], // empty sum
  ];
  for (const [m, n, k] of sizes) {
    for (const layout of ['nn', 'tn'] as const) {
      for (const accumulate of [false, true]) {
        const a = normal(layout === 'nn' ? [m, k] : [k, m], m + n + k);
        const b = normal([k, n], 2 * m + n);
        const c0 = normal([m, n], 3 * m + n);
        const ta = tf.tensor(a.values, a.shape);
        const tb = tf.tensor(b.values, b.shape);
        const tc = tf.tensor(c0.values, c0.shape);
        heap().gemm.product(layout, m, n, k, addr(ta), 4 * (layout === 'nn' ? k : m), addr(tb), 4 * n, addr(tc), 4 * n, accumulate);
        const got = tc.dataSync() as Float32Array;
        const want = reference(a.values as Float32Array, b.values as Float32Array, m, n, k, layout === 'tn', accumulate ? (c0.values as Float32Array) : undefined);
        const e = maxRelError(got, want);
        assert.ok(e <= 1e-5, `${layout} ${m}x${n}x${k} accumulate=${accumulate}: error ${e}`);
        tf.dispose([ta, tb, tc]);
      }
    }
  }
});

test('the SIMD transpose equals a plain one on every edge case (strided source and destination)', async () => {
  await tf.setBackend('wasm');
  for (const [rows, cols] of [[1, 1], [3, 5], [4, 4], [9, 6], [13, 17], [64, 60]]) {
    const srcCols = cols + 3; // a wider source row: a strided block
    const src = normal([rows, srcCols], rows * 31 + cols);
    const ts = tf.tensor(src.values, src.shape);
    const dstCols = rows + 2;
    const td = tf.fill([cols, dstCols], -7);
    heap().gemm.transpose(rows, cols, addr(ts), srcCols * 4, addr(td), dstCols * 4);
    const d = td.dataSync();
    for (let c = 0; c < cols; c++) {
      for (let r = 0; r < dstCols; r++) {
        const want = r < rows ? src.values[r * srcCols + c]! : -7; // outside the block: untouched
        assert.equal(d[c * dstCols + r], want, `${rows}x${cols} at (${c}, ${r})`);
      }
    }
    tf.dispose([ts, td]);
  }
});

test('products through address tables (gathered rows, scattered results) equal float64 references', async () => {
  await tf.setBackend('wasm');
  const h = heap();
  // A: 9 rows of 3 segments of 5 floats picked from a pool in a scrambled order; C rows scattered.
  const [m, n, nseg, seglen] = [9, 11, 3, 5];
  const pool = normal([40, seglen], 5);
  const b = normal([nseg * seglen, n], 6);
  const tp = tf.tensor(pool.values, pool.shape);
  const tb = tf.tensor(b.values, b.shape);
  const tc = tf.zeros([2 * m, n]);
  const pick = Array.from({ length: m * nseg }, (_, i) => (i * 17 + 3) % 40);
  const rowOf = Array.from({ length: m }, (_, i) => (i * 5 + 1) % (2 * m));
  const tab = tf.tensor(pick.map((p) => addr(tp) + p * seglen * 4), [m, nseg], 'int32');
  const ctab = tf.tensor(rowOf.map((r) => addr(tc) + r * n * 4), [m], 'int32');
  h.gemm.indirect(m, n, nseg, seglen, addr(tab), nseg * 4, addr(tb), n * 4, addr(ctab), false);
  const c = tc.dataSync() as Float32Array;
  const gathered = new Float32Array(m * nseg * seglen);
  pick.forEach((p, i) => gathered.set((pool.values as Float32Array).subarray(p * seglen, (p + 1) * seglen), i * seglen));
  const want = reference(gathered, b.values as Float32Array, m, n, nseg * seglen, false);
  const got = new Float32Array(m * n);
  rowOf.forEach((r, i) => got.set(c.subarray(r * n, (r + 1) * n), i * n));
  assert.ok(maxRelError(got, want) <= 1e-5, `indirect: error ${maxRelError(got, want)}`);
  // Rows of C no table entry points at stay untouched (zero).
  const untouched = Array.from({ length: 2 * m }, (_, r) => r).filter((r) => !rowOf.includes(r));
  for (const r of untouched) assert.ok(c.subarray(r * n, (r + 1) * n).every((v) => v === 0));
  // Transposed: C (seglen x n) = sum over table entries k of pool[pick[k]]^T b[k] (K = m entries).
  const bt = normal([m, n], 7);
  const tbt = tf.tensor(bt.values, bt.shape);
  const out = tf.zeros([seglen, n]);
  const tab1 = tf.tensor(pick.slice(0, m).map((p) => addr(tp) + p * seglen * 4), [m], 'int32');
  h.gemm.indirectT(seglen, n, m, addr(tab1), 4, 0, addr(tbt), n * 4, addr(out), n * 4, false);
  const at = new Float32Array(m * seglen);
  pick.slice(0, m).forEach((p, i) => at.set((pool.values as Float32Array).subarray(p * seglen, (p + 1) * seglen), i * seglen));
  const wantT = reference(at, bt.values as Float32Array, seglen, n, m, true);
  const gotT = out.dataSync() as Float32Array;
  assert.ok(maxRelError(gotT, wantT) <= 1e-5, `indirectT: error ${maxRelError(gotT, wantT)}`);
  // B through the table instead: C (6 x 4) = A^T B with A [K = 9, 6] in place and row k of B the
  // 4 floats of pool[pick[k]] after its first (boff = 4 bytes); then accumulated a second time.
  const [ma, nb] = [6, 4];
  const a2 = normal([m, ma], 8);
  const ta2 = tf.tensor(a2.values, a2.shape);
  const out2 = tf.zeros([ma, nb]);
  h.gemm.indirectBT(ma, nb, m, addr(ta2), ma * 4, addr(tab1), 4, 4, addr(out2), nb * 4, false);
  const bg = new Float32Array(m * nb);
  pick.slice(0, m).forEach((p, i) => bg.set((pool.values as Float32Array).subarray(p * seglen + 1, p * seglen + 1 + nb), i * nb));
  const wantBT = reference(a2.values as Float32Array, bg, ma, nb, m, true);
  assert.ok(maxRelError(out2.dataSync() as Float32Array, wantBT) <= 1e-5, `indirectBT: error ${maxRelError(out2.dataSync() as Float32Array, wantBT)}`);
  h.gemm.indirectBT(ma, nb, m, addr(ta2), ma * 4, addr(tab1), 4, 4, addr(out2), nb * 4, true);
  assert.ok(maxRelError(out2.dataSync() as Float32Array, wantBT.map((v) => 2 * v)) <= 1e-5, 'indirectBT accumulates');
  tf.dispose([tp, tb, tc, tab, ctab, tbt, out, tab1, ta2, out2]);
});

test('Conv2D on wasm (table-driven products) equals stock cpu', async () => {
  const cases: Array<{ x: number[]; f: number[]; s: number | [number, number]; pad: 'same' | 'valid' | number | number[][]; d?: [number, number] }> = [
    { x: [2, 117, 24, 6], f: [4, 4, 6, 8], s: 2, pad: 1 },
    { x: [3, 29, 6, 12], f: [4, 4, 12, 20], s: 2, pad: 1 },
    { x: [2, 14, 3, 9], f: [4, 1, 9, 6], s: [2, 1], pad: 'valid' },
    { x: [2, 9, 7, 3], f: [3, 3, 3, 5], s: 1, pad: 'same' },
    { x: [2, 12, 10, 3], f: [3, 3, 3, 2], s: 2, pad: [[0, 0], [2, 1], [0, 3], [0, 0]] },
    { x: [1, 11, 9, 2], f: [3, 2, 2, 3], s: 1, pad: 'same', d: [2, 3] },
    { x: [1, 29, 6, 128], f: [4, 4, 128, 256], s: 2, pad: 1 },
  ];
  for (const [i, c] of cases.entries()) {
    const x = normal(c.x, 200 + i);
    const f = normal(c.f, 300 + i);
    const attrs = { strides: c.s, pad: c.pad, dataFormat: 'NHWC', dilations: c.d ?? 1, dimRoundingMode: undefined };
    const ref = await runKernel('cpu', 'Conv2D', { x, filter: f }, attrs, true);
    const ours = await runKernel('wasm', 'Conv2D', { x, filter: f }, attrs);
    assert.deepEqual(ours.shape, convOutShape(c.x, c.f, c.s, c.pad as 'same', c.d ?? 1));
    assert.ok(relError(ours.values, ref.values) <= TOL, `case ${i}: error ${relError(ours.values, ref.values)}`);
  }
});

test('_FusedMatMul on wasm equals stock cpu (bias, activations, transposes, batches)', async () => {
  const cases: Array<{ a: number[]; b: number[]; ta: boolean; tb: boolean; bias?: number[]; act?: string }> = [
    { a: [8, 256], b: [256, 300], ta: false, tb: false, bias: [300] },
    { a: [5, 33], b: [33, 7], ta: false, tb: false, bias: [1, 7], act: 'relu' },
    { a: [33, 5], b: [7, 33], ta: true, tb: true, bias: [7], act: 'leakyrelu' },
    { a: [6, 40], b: [19, 40], ta: false, tb: true, act: 'sigmoid' },
    { a: [3, 4, 10], b: [3, 10, 6], ta: false, tb: false, bias: [6], act: 'elu' },
    { a: [4, 9], b: [9, 5], ta: false, tb: false, bias: [4, 5] }, // a bias of several rows, added after the product
  ];
  for (const [i, c] of cases.entries()) {
    const inputs: Record<string, ReturnType<typeof normal>> = { a: normal(c.a, 400 + i), b: normal(c.b, 500 + i) };
    if (c.bias) inputs.bias = normal(c.bias, 600 + i);
    const attrs = { transposeA: c.ta, transposeB: c.tb, activation: c.act ?? 'linear', leakyreluAlpha: 0.2 };
    const ref = await runKernel('cpu', '_FusedMatMul', inputs, attrs, true);
    const ours = await runKernel('wasm', '_FusedMatMul', inputs, attrs);
    assert.deepEqual(ours.shape, ref.shape, `case ${i}`);
    assert.ok(relError(ours.values, ref.values) <= TOL, `case ${i}: error ${relError(ours.values, ref.values)}`);
  }
});

test('dense and convolution layers train through the new kernels: gradients equal cpu', async () => {
  const xa = normal([3, 10, 8, 4], 700);
  const wa = normal([3, 3, 4, 6], 701);
  const da = normal([5 * 4 * 6, 7], 702);
  const ba = normal([7], 703);
  const grads: Record<string, Float32Array[]> = {};
  for (const be of ['cpu', 'wasm']) {
    await tf.setBackend(be);
    const x = tf.tensor4d(xa.values, xa.shape as [number, number, number, number]);
    const w = tf.tensor4d(wa.values, wa.shape as [number, number, number, number]);
    const d = tf.tensor2d(da.values, da.shape as [number, number]);
    const bias = tf.tensor1d(ba.values as Float32Array);
    const f = (xx: tf.Tensor, ww: tf.Tensor, dd: tf.Tensor, bb: tf.Tensor) => {
      const h = tf.leakyRelu(tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 2, 'same'), 0.2);
      const y = tf.fused.matMul({ a: tf.reshape(h, [3, -1]) as tf.Tensor2D, b: dd as tf.Tensor2D, bias: bb });
      return tf.sum(tf.square(y));
    };
    const g = tf.grads(f)([x, w, d, bias]);
    grads[be] = g.map((t) => t.dataSync() as Float32Array);
    tf.dispose([x, w, d, bias, ...g]);
  }
  ['x', 'filter', 'dense', 'bias'].forEach((name, i) => {
    const e = relError(grads.wasm![i]!, grads.cpu![i]!);
    assert.ok(e <= TOL, `${name} gradient: error ${e}`);
  });
});

test('Identity on wasm shares memory with its input (and a clone outlives the original)', async () => {
  await tf.setBackend('wasm');
  const x = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
  const before = tf.memory().numBytes;
  const y = tf.engine().runKernel('Identity', { x }) as tf.Tensor;
  assert.equal(heap().address({ dataId: y.dataId, shape: y.shape, dtype: y.dtype }), addr(x), 'same heap memory');
  assert.ok(tf.memory().numBytes >= before);
  x.dispose();
  assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3, 4, 5, 6]);
  y.dispose();
  // With the heap kernels off, the stock kernel copies.
  const { setHeapKernelsEnabled } = await import('../../worldmodel/kernels/wasm-heap.js');
  setHeapKernelsEnabled(false);
  try {
    const a = tf.tensor1d([7, 8]);
    const b = tf.engine().runKernel('Identity', { x: a }) as tf.Tensor;
    const be = tf.backend() as unknown as { dataIdMap: { get(d: object): { memoryOffset: number } } };
    assert.notEqual(be.dataIdMap.get(b.dataId).memoryOffset, be.dataIdMap.get(a.dataId).memoryOffset);
    tf.dispose([a, b]);
  } finally {
    setHeapKernelsEnabled(true);
  }
});

test('Slice on wasm (heap to heap) equals stock cpu for every rank, run length and dtype', async () => {
  const cases: Array<{ shape: number[]; begin: number[]; size: number[]; dtype?: 'int32' }> = [
    { shape: [3, 117, 24, 60], begin: [0, 0, 0, 57], size: [-1, -1, -1, 3] }, // the last context frame
    { shape: [2, 118, 24, 3], begin: [0, 0, 0, 0], size: [-1, 117, -1, -1] }, // contiguous crop
    { shape: [5, 70], begin: [1, 2], size: [3, 64] }, // long runs (copyWithin)
    { shape: [4, 6, 5], begin: [1, 0, 2], size: [2, 6, 3] },
    { shape: [2, 3, 2, 2, 5], begin: [0, 1, 0, 1, 1], size: [2, 2, 2, 1, 3] },
    { shape: [3, 4, 5, 6], begin: [1, 0, 0, 2], size: [2, -1, -1, 3] }, // whole middle axes merged into one strided group
    { shape: [2, 3, 4], begin: [0, 1, 0], size: [2, 2, -1] }, // a whole last axis lengthens the run
    { shape: [4, 3, 5, 2], begin: [1, 1, 0, 0], size: [2, 1, 5, 2] }, // runs of whole inner axes at two outer strides
    { shape: [2, 6, 7], begin: [0, 0, 0], size: [-1, -1, -1] }, // the whole tensor
    { shape: [9], begin: [4], size: [0] }, // empty
    { shape: [4, 7], begin: [1, 3], size: [2, 4], dtype: 'int32' },
  ];
  for (const [i, c] of cases.entries()) {
    const n = c.shape.reduce((a, b) => a * b, 1);
    const x = c.dtype === 'int32'
      ? { shape: c.shape, values: Int32Array.from({ length: n }, (_, j) => (j * 7919) % 1000 - 500), dtype: 'int32' as const }
      : normal(c.shape, 800 + i);
    const attrs = { begin: c.begin, size: c.size };
    const ref = await runKernel('cpu', 'Slice', { x }, attrs, true);
    const ours = await runKernel('wasm', 'Slice', { x }, attrs);
    assert.deepEqual(ours.shape, ref.shape, `case ${i}`);
    assert.deepEqual(Array.from(ours.values), Array.from(ref.values), `case ${i}`);
  }
});

test('PadV2 on wasm (heap to heap) equals stock cpu for every rank, constant and dtype', async () => {
  const cases: Array<{ shape: number[]; paddings: Array<[number, number]>; value: number; dtype?: 'int32' }> = [
    { shape: [4, 117, 24, 1], paddings: [[0, 0], [0, 0], [0, 0], [1, 1]], value: 0 }, // a channel slice's gradient
    { shape: [2, 117, 24, 3], paddings: [[0, 0], [0, 1], [0, 0], [0, 0]], value: 0 }, // a crop's gradient
    { shape: [2, 5, 6, 4], paddings: [[0, 0], [1, 1], [2, 1], [0, 0]], value: -1.5 }, // a convolution's padding
    { shape: [3, 4], paddings: [[2, 1], [0, 3]], value: 7 },
    { shape: [5], paddings: [[0, 0]], value: 0 }, // nothing to pad
    { shape: [2, 0, 3], paddings: [[1, 0], [1, 1], [0, 0]], value: 2 }, // an empty input: the constant only
    { shape: [2, 3, 2], paddings: [[0, 1], [1, 0], [1, 1]], value: -4, dtype: 'int32' },
  ];
  for (const [i, c] of cases.entries()) {
    const n = c.shape.reduce((a, b) => a * b, 1);
    const x = c.dtype === 'int32'
      ? { shape: c.shape, values: Int32Array.from({ length: n }, (_, j) => (j * 7919) % 1000 - 500), dtype: 'int32' as const }
      : normal(c.shape, 900 + i);
    const attrs = { paddings: c.paddings, constantValue: c.value };
    const ref = await runKernel('cpu', 'PadV2', { x }, attrs, true);
    const ours = await runKernel('wasm', 'PadV2', { x }, attrs);
    assert.deepEqual(ours.shape, ref.shape, `case ${i}`);
    assert.deepEqual(Array.from(ours.values), Array.from(ref.values), `case ${i}`);
  }
});

test('Concat on wasm (heap to heap) equals stock cpu on every axis, with empty inputs and int32', async () => {
  const cases: Array<{ shapes: number[][]; axis: number; dtype?: 'int32' }> = [
    { shapes: [[3, 117, 24, 57], [3, 117, 24, 3]], axis: 3 }, // a predicted frame appended to the context
    { shapes: [[2, 80], [2, 4]], axis: 1 },
    { shapes: [[2, 3, 40], [4, 3, 40]], axis: 0 },
    { shapes: [[2, 5, 3], [2, 0, 3], [2, 7, 3]], axis: 1 },
    { shapes: [[4, 6], [4, 35]], axis: -1, dtype: 'int32' },
  ];
  for (const [i, c] of cases.entries()) {
    const xs = c.shapes.map((shape, j) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return c.dtype === 'int32'
        ? { shape, values: Int32Array.from({ length: n }, (_, k) => k * 13 - j), dtype: 'int32' as const }
        : normal(shape, 900 + 10 * i + j);
    });
    const ref = await runKernel('cpu', 'Concat', xs, { axis: c.axis }, true);
    const ours = await runKernel('wasm', 'Concat', xs, { axis: c.axis });
    assert.deepEqual(ours.shape, ref.shape, `case ${i}`);
    assert.deepEqual(Array.from(ours.values), Array.from(ref.values), `case ${i}`);
  }
});

test('BatchMatMul with transposed B and row counts that are not multiples of 4 (padded product) equals stock cpu', async () => {
  const cases: Array<[number[], number[], boolean, boolean]> = [
    [[6, 300], [64, 300], false, true], // a dense layer's input gradient at batch 6
    [[1, 300], [64, 300], false, true],
    [[3, 5, 40], [3, 9, 40], false, true],
    [[40, 5], [7, 40], true, true],
    [[2, 40, 3], [40, 11], true, false],
    [[7, 30], [2, 9, 30], false, true], // A broadcast against a batch of B
  ];
  for (const [as, bs, ta, tb] of cases) {
    const a = normal(as, 1000 + as[0]!);
    const b = normal(bs, 1100 + bs[0]!);
    const attrs = { transposeA: ta, transposeB: tb };
    const ref = await runKernel('cpu', 'BatchMatMul', { a, b }, attrs, true);
    const ours = await runKernel('wasm', 'BatchMatMul', { a, b }, attrs);
    assert.deepEqual(ours.shape, ref.shape, `${as} x ${bs}`);
    assert.ok(relError(ours.values, ref.values) <= TOL, `${as} x ${bs} (${ta}, ${tb}): error ${relError(ours.values, ref.values)}`);
  }
});
