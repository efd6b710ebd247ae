/**
 * Our training kernels on wasm (and cpu) against tfjs's stock cpu kernels: convolution filter and
 * input gradients on the forward model's encoder and decoder shapes and on every padding /
 * stride / kernel-shape case, UnsortedSegmentSum and BatchMatMul.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../worldmodel/backend.js';
import { convOutShape, ints, naiveFilterGrad, normal, relError, runKernel } from './kernels-helpers.js';

const TOL = 1e-4;

before(async () => {
  tf.env().set('PROD', true); // no "already registered" or debug chatter
  await initBackend({ requested: 'wasm' });
});

interface ConvCase {
  name: string;
  x: number[];
  f: number[];
  strides: number | [number, number];
  pad: 'same' | 'valid' | number | number[][];
  round?: 'floor' | 'round' | 'ceil';
}

// Spatial sizes are the forward model's (docs/method.md section 5); channel counts are cut where the
// stock cpu filter gradient (a scalar loop at ~10 MFLOP/s) would take minutes.
const CASES: ConvCase[] = [
  { name: 'encoder 1: 117x24 -> 58x12, 4x4 s2 p1, batch 2', x: [2, 117, 24, 6], f: [4, 4, 6, 8], strides: 2, pad: 1 },
  { name: 'policy encoder 1: 4 frames of 3 channels -> 4 maps (the filter gradient as dy^T x)', x: [2, 117, 24, 12], f: [4, 4, 12, 4], strides: 2, pad: 1 },
  { name: 'few output channels, odd widths: 13 -> 5 maps (tiles of 8, 4 and 1 columns)', x: [3, 9, 7, 13], f: [3, 3, 13, 5], strides: 2, pad: 'same' },
  { name: 'encoder 2: 58x12 -> 29x6, batch 1', x: [1, 58, 12, 16], f: [4, 4, 16, 24], strides: 2, pad: 1 },
  { name: 'encoder 3: 29x6 -> 14x3, batch 3', x: [3, 29, 6, 12], f: [4, 4, 12, 20], strides: 2, pad: 1 },
  // tfjs sizes a numeric pad with the filter height on both axes, so non-square filters use explicit padding.
  { name: 'decoder 1: 14x3 <- 29x6, 5x4 s2 p1', x: [2, 29, 6, 8], f: [5, 4, 8, 16], strides: 2, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
  { name: 'decoder 3: 59x12 <- 118x24, 4x4 s2 p1', x: [2, 118, 24, 3], f: [4, 4, 3, 8], strides: 2, pad: 1 },
  { name: '4x1 kernel, stride (2,1), valid', x: [2, 14, 3, 8], f: [4, 1, 8, 6], strides: [2, 1], pad: 'valid' },
  { name: '3x3 same, stride 1', x: [2, 9, 7, 3], f: [3, 3, 3, 5], strides: 1, pad: 'same' },
  { name: '3x2 same, stride (2,3)', x: [2, 10, 8, 3], f: [3, 2, 3, 4], strides: [2, 3], pad: 'same' },
  { name: '5x3 valid, stride (3,2), batch 1', x: [1, 11, 9, 2], f: [5, 3, 2, 3], strides: [3, 2], pad: 'valid' },
  { name: 'explicit padding, uneven', x: [2, 12, 10, 3], f: [3, 3, 3, 2], strides: 2, pad: [[0, 0], [2, 1], [0, 3], [0, 0]] },
  { name: '1x1 stride 2 on odd sizes (phases without taps)', x: [2, 7, 5, 3], f: [1, 1, 3, 4], strides: 2, pad: 'valid' },
  { name: 'numeric pad 2, ceil rounding, 5x5 stride 3', x: [2, 13, 11, 3], f: [5, 5, 3, 4], strides: 3, pad: 2, round: 'ceil' },
  { name: '2x2 stride 2 valid (even split)', x: [3, 8, 6, 5], f: [2, 2, 5, 7], strides: 2, pad: 'valid' },
  { name: 'batch 50 (the large-batch transpose path), 3x3 s2 same', x: [50, 9, 7, 3], f: [3, 3, 3, 4], strides: 2, pad: 'same' },
];

CASES.forEach((c, i) => {
  test(`conv gradients on wasm equal stock cpu: ${c.name}`, async () => {
    const yShape = convOutShape(c.x, c.f, c.strides, c.pad, 1, c.round);
    const x = normal(c.x, 10 + i);
    const f = normal(c.f, 100 + i);
    const dy = normal(yShape, 1000 + i);
    const attrsW = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: c.round, filterShape: c.f };
    const attrsX = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dimRoundingMode: c.round, inputShape: c.x };
    const dwRef = await runKernel('cpu', 'Conv2DBackpropFilter', { x, dy }, attrsW, true);
    const dw = await runKernel('wasm', 'Conv2DBackpropFilter', { x, dy }, attrsW);
    assert.deepEqual(dw.shape, c.f);
    assert.ok(relError(dw.values, dwRef.values) <= TOL, `filter gradient error ${relError(dw.values, dwRef.values)}`);
    const dxRef = await runKernel('cpu', 'Conv2DBackpropInput', { dy, filter: f }, attrsX, true);
    const dx = await runKernel('wasm', 'Conv2DBackpropInput', { dy, filter: f }, attrsX);
    assert.deepEqual(dx.shape, c.x);
    assert.ok(relError(dx.values, dxRef.values) <= TOL, `input gradient error ${relError(dx.values, dxRef.values)}`);
  });
});

test('full-size encoder layers (batch 1, all channels): wasm gradients equal float64 references and stock cpu', async () => {
  for (const [xs, fs] of [
    [[1, 117, 24, 60], [4, 4, 60, 64]],
    [[1, 29, 6, 128], [4, 4, 128, 256]],
  ] as const) {
    const x = normal([...xs], 7);
    const f = normal([...fs], 8);
    const dy = normal(convOutShape([...xs], [...fs], 2, 1), 9);
    const dw = await runKernel('wasm', 'Conv2DBackpropFilter', { x, dy }, { strides: 2, pad: 1, dataFormat: 'NHWC', filterShape: fs });
    const ref = naiveFilterGrad(x, dy, [...fs], [2, 2], [1, 1], 1, 1);
    assert.ok(relError(dw.values, ref) <= TOL, `filter gradient ${xs}: error ${relError(dw.values, ref)}`);
    const attrsX = { strides: 2, pad: 1, dataFormat: 'NHWC', inputShape: xs };
    const dxRef = await runKernel('cpu', 'Conv2DBackpropInput', { dy, filter: f }, attrsX, true);
    const dx = await runKernel('wasm', 'Conv2DBackpropInput', { dy, filter: f }, attrsX);
    assert.ok(relError(dx.values, dxRef.values) <= TOL, `input gradient ${xs}: error ${relError(dx.values, dxRef.values)}`);
  }
});

test('filter gradient with dilation (kernel attribute) equals a float64 reference', async () => {
  const cases: Array<{ x: number[]; f: number[]; s: [number, number]; d: [number, number]; pad: 'same' | 'valid' }> = [
    { x: [2, 9, 8, 3], f: [3, 3, 3, 2], s: [1, 1], d: [2, 2], pad: 'valid' },
    { x: [2, 11, 9, 2], f: [3, 2, 2, 3], s: [2, 1], d: [2, 3], pad: 'same' },
  ];
  for (const c of cases) {
    const info = tf.backend_util.computeConv2DInfo(c.x as [number, number, number, number], c.f as [number, number, number, number], c.s, c.d, c.pad);
    const x = normal(c.x, 21);
    const dy = normal(info.outShape, 22);
    const ref = naiveFilterGrad(x, dy, c.f, c.s, c.d, info.padInfo.top, info.padInfo.left);
    for (const be of ['wasm', 'cpu']) {
      const dw = await runKernel(be, 'Conv2DBackpropFilter', { x, dy }, { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f, dilations: c.d });
      assert.ok(relError(dw.values, ref) <= TOL, `${be} ${JSON.stringify(c)}: error ${relError(dw.values, ref)}`);
    }
  }
});

test('NCHW data format gives the NHWC results, transposed', async () => {
  const xs = [2, 10, 7, 3];
  const fs = [3, 3, 3, 4];
  const x = normal(xs, 31);
  const f = normal(fs, 32);
  const ys = convOutShape(xs, fs, 2, 'same');
  const dy = normal(ys, 33);
  const toNchw = (a: { shape: number[]; values: Float32Array | Int32Array }) => {
    const t = tf.tidy(() => tf.transpose(tf.tensor(a.values, a.shape), [0, 3, 1, 2]));
    const r = { shape: t.shape, values: t.dataSync() as Float32Array };
    t.dispose();
    return r;
  };
  await tf.setBackend('wasm');
  const dwN = await runKernel('wasm', 'Conv2DBackpropFilter', { x: toNchw(x), dy: toNchw(dy) }, { strides: 2, pad: 'same', dataFormat: 'NCHW', filterShape: fs });
  const dwRef = await runKernel('cpu', 'Conv2DBackpropFilter', { x, dy }, { strides: 2, pad: 'same', dataFormat: 'NHWC', filterShape: fs }, true);
  assert.ok(relError(dwN.values, dwRef.values) <= TOL);
  const dxN = await runKernel('wasm', 'Conv2DBackpropInput', { dy: toNchw(dy), filter: f }, { strides: 2, pad: 'same', dataFormat: 'NCHW', inputShape: [2, 3, 10, 7] });
  const dxRef = await runKernel('cpu', 'Conv2DBackpropInput', { dy, filter: f }, { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: xs }, true);
  assert.deepEqual(dxN.shape, [2, 3, 10, 7]);
  assert.ok(relError(dxN.values, toNchw(dxRef).values) <= TOL);
});

test('our cpu filter gradient equals the stock cpu one', async () => {
  for (const c of [CASES[0]!, CASES[5]!, CASES[9]!]) {
    const x = normal(c.x, 41);
    const dy = normal(convOutShape(c.x, c.f, c.strides, c.pad), 42);
    const attrs = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.f };
    const ours = await runKernel('cpu', 'Conv2DBackpropFilter', { x, dy }, attrs);
    const stock = await runKernel('cpu', 'Conv2DBackpropFilter', { x, dy }, attrs, true);
    assert.ok(relError(ours.values, stock.values) <= TOL, c.name);
  }
});

test('transposed convolution (decoder) forward and gradients: wasm equals cpu', async () => {
  // 14x3 -> 29x6 -> 59x12 -> 118x24, as a decoder of the forward model would.
  const layers: Array<{ x: number[]; f: number[]; out: number[] }> = [
    { x: [2, 14, 3, 16], f: [5, 4, 8, 16], out: [2, 29, 6, 8] },
    { x: [2, 29, 6, 8], f: [5, 4, 4, 8], out: [2, 59, 12, 4] },
    { x: [2, 59, 12, 4], f: [4, 4, 3, 4], out: [2, 118, 24, 3] },
  ];
  for (const [i, l] of layers.entries()) {
    const xa = normal(l.x, 50 + i);
    const fa = normal(l.f, 60 + i);
    const results: Record<string, Float32Array[]> = {};
    for (const be of ['cpu', 'wasm']) {
      await tf.setBackend(be);
      const x = tf.tensor4d(xa.values, l.x as [number, number, number, number]);
      const f = tf.tensor4d(fa.values, l.f as [number, number, number, number]);
      const pad = [[0, 0], [1, 1], [1, 1], [0, 0]] as tf.backend_util.ExplicitPadding;
      const out = l.out as [number, number, number, number];
      const loss = (xx: tf.Tensor, ff: tf.Tensor) => tf.conv2dTranspose(xx as tf.Tensor4D, ff as tf.Tensor4D, out, 2, pad).square().mean();
      const y = tf.conv2dTranspose(x, f, out, 2, pad);
      const [gx, gf] = tf.grads(loss)([x, f]);
      results[be] = [y, gx!, gf!].map((t) => t.dataSync() as Float32Array);
      tf.dispose([x, f, y, gx!, gf!]);
    }
    ['output', 'input gradient', 'filter gradient'].forEach((what, k) => {
      const e = relError(results.wasm![k]!, results.cpu![k]!);
      assert.ok(e <= TOL, `layer ${i} ${what}: error ${e}`);
    });
  }
});

test('UnsortedSegmentSum on wasm equals stock cpu; gather back-propagates on wasm', async () => {
  const x = normal([6, 4, 3], 70);
  const ids = ints([6], [2, 0, 2, 4, 1, 2]);
  const ref = await runKernel('cpu', 'UnsortedSegmentSum', { x, segmentIds: ids }, { numSegments: 5 }, true);
  const ours = await runKernel('wasm', 'UnsortedSegmentSum', { x, segmentIds: ids }, { numSegments: 5 });
  assert.deepEqual(ours.shape, [5, 4, 3]);
  assert.ok(relError(ours.values, ref.values) <= TOL);
  // Ids outside [0, numSegments) are dropped, as on cpu.
  const odd = ints([6], [-1, 0, 7, 3, 3, 1]);
  const refOdd = await runKernel('cpu', 'UnsortedSegmentSum', { x, segmentIds: odd }, { numSegments: 4 }, true);
  const oursOdd = await runKernel('wasm', 'UnsortedSegmentSum', { x, segmentIds: odd }, { numSegments: 4 });
  assert.ok(relError(oursOdd.values, refOdd.values) <= TOL);
  // The gradient of gather (axis 0 and 1) through the public API.
  const grads: Record<string, Float32Array> = {};
  for (const be of ['cpu', 'wasm']) {
    await tf.setBackend(be);
    const table = tf.tensor(x.values, x.shape);
    const idx = tf.tensor1d([1, 3, 1, 0], 'int32');
    const g = tf.grad((t: tf.Tensor) => tf.gather(t, idx, 0).square().sum().add(tf.gather(t, idx.slice(0, 3), 1).sum()))(table);
    grads[be] = g.dataSync() as Float32Array;
    tf.dispose([table, idx, g]);
  }
  assert.ok(relError(grads.wasm!, grads.cpu!) <= TOL);
});

test('BatchMatMul on wasm equals stock cpu for every transpose and batch layout', async () => {
  const cases: Array<[number[], number[], boolean, boolean]> = [
    [[8, 64], [64, 300], false, false],
    [[8, 300], [64, 300], false, true], // a dense layer's input gradient
    [[8, 64], [8, 300], true, false], // a dense layer's weight gradient
    [[30, 8], [50, 30], true, true],
    [[4, 40, 32], [4, 32, 48], false, false],
    [[4, 32, 40], [32, 48], true, false],
    [[40, 32], [3, 48, 32], false, true],
    [[2, 3, 30, 40], [2, 3, 20, 30], true, true],
    [[2, 1, 5, 7], [1, 3, 7, 4], false, false],
  ];
  for (const [as, bs, ta, tb] of cases) {
    const a = normal(as, 80);
    const b = normal(bs, 81);
    const attrs = { transposeA: ta, transposeB: tb };
    const ref = await runKernel('cpu', 'BatchMatMul', { a, b }, attrs, true);
    const ours = await runKernel('wasm', 'BatchMatMul', { a, b }, attrs);
    assert.deepEqual(ours.shape, ref.shape, `${as} x ${bs}`);
    assert.ok(relError(ours.values, ref.values) <= TOL, `${as} x ${bs} (${ta}, ${tb}): error ${relError(ours.values, ref.values)}`);
  }
});
