/**
 * Backend set-up: our training kernels are registered for wasm (by initBackend, and by merely
 * importing worldmodel/backend.ts before a hand-made tf.setBackend), and GPU detection reads the
 * native binding's answers defensively (exercised with stand-ins: no native package here).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { initBackend, gpuInUse, ensureTrainingKernels } from '../../worldmodel/backend.js';
import { describeAdapter, adapterName } from '../../worldmodel/webgpu.js';
import { TRAINING_KERNELS, activeTrainingKernels, restoreStockKernels, stockKernel, registerTrainingKernels } from '../../worldmodel/kernels/register.js';

test('initBackend(wasm) registers our training kernels for wasm', async () => {
  tf.env().set('PROD', true);
  const choice = await initBackend({ requested: 'wasm' });
  assert.equal(choice.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm'), 'Conv2DBackpropFilter missing on wasm');
  assert.ok(tf.getKernel('UnsortedSegmentSum', 'wasm'), 'UnsortedSegmentSum missing on wasm');
  assert.deepEqual([...(choice.kernels ?? [])].sort(), [...TRAINING_KERNELS].sort());
  // Stock wasm has no filter gradient at all; the replaced input gradient is remembered.
  assert.equal(stockKernel('Conv2DBackpropFilter', 'wasm'), undefined);
  assert.ok(stockKernel('Conv2DBackpropInput', 'wasm'));
  assert.notEqual(stockKernel('Conv2DBackpropInput', 'wasm'), tf.getKernel('Conv2DBackpropInput', 'wasm'));
  // A filter gradient through the public API works.
  const g = tf.grad((w: tf.Tensor) => tf.conv2d(tf.ones([1, 6, 6, 2]) as tf.Tensor4D, w as tf.Tensor4D, 2, 'same').sum())(tf.ones([3, 3, 2, 2]));
  assert.deepEqual(g.shape, [3, 3, 2, 2]);
  assert.ok((g.dataSync() as Float32Array).every((v) => v > 0));
  g.dispose();
});

test('the stock kernels we replaced stay callable (their wasm set-up still runs)', () => {
  const dy = tf.ones([1, 3, 3, 2]);
  const filter = tf.ones([2, 2, 1, 2]);
  const attrs = { strides: 2, pad: 'valid', dataFormat: 'NHWC', inputShape: [1, 6, 6, 1] } as unknown as tf.NamedAttrMap;
  const out = stockKernel('Conv2DBackpropInput', 'wasm')!.kernelFunc({ inputs: { dy, filter }, backend: tf.backend(), attrs }) as tf.TensorInfo;
  const values = Array.from(tf.backend().readSync(out.dataId) as Float32Array);
  tf.backend().disposeData(out.dataId);
  assert.deepEqual(values, new Array(36).fill(2));
  tf.dispose([dy, filter]);
});

test('restoring stock kernels and registering again round-trips', () => {
  restoreStockKernels('wasm');
  assert.equal(tf.getKernel('Conv2DBackpropFilter', 'wasm'), undefined);
  assert.deepEqual(activeTrainingKernels('wasm'), []);
  assert.equal(tf.getKernel('Conv2DBackpropInput', 'wasm'), stockKernel('Conv2DBackpropInput', 'wasm'));
  registerTrainingKernels('wasm');
  assert.deepEqual(ensureTrainingKernels().sort(), [...TRAINING_KERNELS].sort());
});

test('importing worldmodel/backend.ts is enough for a hand-made tf.setBackend("wasm") to train', () => {
  const script = `
    import * as tf from '@tensorflow/tfjs';
    import './worldmodel/backend.ts';
    tf.env().set('PROD', true);
    await tf.setBackend('wasm');
    const g = tf.grad((w) => tf.conv2d(tf.ones([1, 5, 5, 1]), w, 1, 'valid').sum())(tf.ones([2, 2, 1, 1]));
    console.log(JSON.stringify({ backend: tf.getBackend(), grad: Array.from(g.dataSync()) }));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', cwd: process.cwd() });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!);
  assert.equal(out.backend, 'wasm');
  assert.deepEqual(out.grad, [16, 16, 16, 16]);
});

test('PPUU_STOCK_KERNELS leaves the named kernels stock', () => {
  const r = spawnSync(process.execPath, ['bin/ppuu.js', 'info', '--json', '--backend', 'wasm'], {
    encoding: 'utf8',
    env: { ...process.env, PPUU_STOCK_KERNELS: 'BatchMatMul,Conv2DBackpropInput' },
  });
  assert.equal(r.status, 0, r.stderr);
  const rest = TRAINING_KERNELS.filter((k) => k !== 'BatchMatMul' && k !== 'Conv2DBackpropInput');
  assert.deepEqual(JSON.parse(r.stdout).backend.kernels.sort(), [...rest].sort());
});

test('GPU detection: the backend flag, the binding, the device list, or unknown', () => {
  assert.deepEqual(gpuInUse({ isUsingGpuDevice: true, isGPUPackage: true }).gpu, true);
  const cpuOnly = gpuInUse({ isUsingGpuDevice: false, isGPUPackage: true });
  assert.equal(cpuOnly.gpu, false);
  assert.match(cpuOnly.evidence, /tfjs-node-gpu: libtensorflow found no GPU device/);
  assert.equal(gpuInUse({ binding: { isUsingGpuDevice: () => true } }).gpu, true);
  assert.equal(gpuInUse({ binding: { TFE_ContextListDevices: () => ['/job:localhost/replica:0/task:0/device:CPU:0'] } }).gpu, false);
  assert.equal(gpuInUse({ binding: { TFE_ContextListDevices: () => ['/device:CPU:0', '/device:GPU:0'] } }).gpu, true);
  // A binding that throws, or says nothing, gives "unknown" rather than a crash.
  assert.equal(gpuInUse({ binding: { isUsingGpuDevice: () => { throw new Error('boom'); } } }).gpu, null);
  assert.equal(gpuInUse({}).gpu, null);
  assert.equal(gpuInUse(null).gpu, null);
  const hidden = process.env.CUDA_VISIBLE_DEVICES;
  process.env.CUDA_VISIBLE_DEVICES = '-1';
  try {
    assert.match(gpuInUse({ isUsingGpuDevice: false }).evidence, /CUDA_VISIBLE_DEVICES hides every GPU/);
  } finally {
    if (hidden === undefined) delete process.env.CUDA_VISIBLE_DEVICES;
    else process.env.CUDA_VISIBLE_DEVICES = hidden;
  }
});

test('WebGPU adapters: hardware unless Dawn marks a fallback or the name is a software renderer', () => {
  const limits = { maxStorageBufferBindingSize: 2 ** 31, maxBufferSize: 2 ** 32, maxComputeWorkgroupStorageSize: 32768, maxComputeInvocationsPerWorkgroup: 1024 };
  const nvidia = describeAdapter({ info: { vendor: 'nvidia', architecture: 'ampere', device: '', description: 'NVIDIA A100', isFallbackAdapter: false }, limits });
  assert.equal(nvidia.hardware, true);
  assert.equal(nvidia.maxBufferSize, 2 ** 32);
  assert.equal(adapterName(nvidia), 'nvidia ampere (NVIDIA A100)');
  const swiftshader = describeAdapter({ info: { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0', isFallbackAdapter: true }, limits });
  assert.equal(swiftshader.hardware, false);
  assert.match(swiftshader.softwareWhy!, /fallback/);
  const llvmpipe = describeAdapter({ info: { vendor: 'mesa', architecture: '', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' }, limits });
  assert.equal(llvmpipe.hardware, false);
  assert.match(llvmpipe.softwareWhy!, /llvmpipe/);
});
