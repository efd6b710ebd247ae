/**
 * The webgpu backend (Dawn) against cpu: kernels on the forward model's convolution shapes and the
 * dense layers' products, one training step of the tiny forward model (both kinds) and one of
 * every policy method, within 1e-4 relative; a forward-model step reads back from the device once
 * and leaves tf.memory().numTensors flat.
 *
 * Where this machine has no Vulkan loader, the file runs itself again in a child process under
 * the SwiftShader driver of Debian's chromium package (swiftshaderEnv); where neither exists, or
 * Dawn offers no adapter, the tests are skipped with the reason, unless PPUU_REQUIRE_WEBGPU=1
 * (set by .ci/run), which makes that a failure.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { probeWebgpu, swiftshaderEnv, vulkanLoader } from '../../worldmodel/webgpu.js';
import { initBackend } from '../../worldmodel/backend.js';
import { fmConfig, type FmKind } from '../../worldmodel/fm/config.js';
import { ForwardModel } from '../../worldmodel/fm/model.js';
import { Adam } from '../../worldmodel/fm/adam.js';
import { FmNoise } from '../../worldmodel/fm/noise.js';
import { trainStep, type StepStats } from '../../worldmodel/fm/train-step.js';
import { randomWindowBatch } from '../../worldmodel/fm/windows.js';
import { PolicyNetwork } from '../../policy/network.js';
import { policyNetConfig, policyTrainConfig, POLICY_METHODS, type PolicyMethod } from '../../policy/config.js';
import { policyStep, stepNoise } from '../../policy/mpur.js';
import type { UStats } from '../../policy/uncertainty.js';
import type { NormStats } from '../../data/dataset-types.js';
import { convOutShape, normal, type Arg } from './kernels-helpers.js';

const TOL = 1e-4;
const required = process.env.PPUU_REQUIRE_WEBGPU === '1';
const self = fileURLToPath(import.meta.url);

/** |a - b| relative to the larger magnitude (values both below 1e-6 count as equal). */
function rel(a: number, b: number): number {
  const d = Math.abs(a - b);
  return d === 0 ? 0 : d / Math.max(Math.abs(a), Math.abs(b), 1e-6);
}

/** Largest element error relative to the reference's largest magnitude. */
function relArray(a: ArrayLike<number>, ref: ArrayLike<number>): number {
  assert.equal(a.length, ref.length);
  let err = 0;
  let scale = 1e-6;
  for (let i = 0; i < ref.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - ref[i]!));
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  return err / scale;
}

if (!vulkanLoader()) {
  const env = swiftshaderEnv();
  test('webgpu on SwiftShader (this file again, in a child process)', (t) => {
    if (!env) {
      assert.ok(!required, 'PPUU_REQUIRE_WEBGPU=1 but there is neither a Vulkan loader nor SwiftShader (apt-get install chromium)');
      t.skip('no Vulkan loader and no SwiftShader driver (apt-get install chromium)');
      return;
    }
    const childEnv: NodeJS.ProcessEnv = { ...env };
    // A nested test runner reports to its parent when this is set; the child reports as TAP here.
    delete childEnv.NODE_TEST_CONTEXT;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', self], { encoding: 'utf8', env: childEnv, timeout: 600_000 });
    const out = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.status, 0, out.slice(-6000));
    const pass = Number(/^# pass (\d+)/m.exec(r.stdout)?.[1] ?? 0);
    const skip = Number(/^# skip (\d+)/m.exec(r.stdout)?.[1] ?? 0);
    if (skip > 0 && pass === 0) t.skip(`the child skipped: ${/# SKIP (.*)/.exec(r.stdout)?.[1] ?? 'see its output'}`);
    else assert.ok(pass >= 5, `child passed only ${pass} tests:\n${out.slice(-3000)}`);
  });
} else {
  let skipWhy: string | false = false;
  before(async () => {
    tf.env().set('PROD', true);
    const p = await probeWebgpu();
    if (!p.adapter) {
      skipWhy = `no WebGPU adapter: ${p.why}`;
      assert.ok(!required, `PPUU_REQUIRE_WEBGPU=1 but ${skipWhy}`);
      return;
    }
    await initBackend({ requested: 'webgpu' });
  });

  /** Runs `fn` with `name` the active backend. */
  async function on<T>(name: 'webgpu' | 'cpu', fn: () => Promise<T>): Promise<T> {
    assert.ok(await tf.setBackend(name), `${name} did not start`);
    return fn();
  }

  async function kernel(name: string, inputs: Record<string, Arg>, attrs: Record<string, unknown>): Promise<{ values: Float32Array; shape: number[] }> {
    const made = Object.fromEntries(Object.entries(inputs).map(([k, a]) => [k, tf.tensor(a.values, a.shape, a.dtype ?? 'float32')]));
    const out = tf.engine().runKernel(name, made as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
    const values = (await out.data()) as Float32Array;
    const shape = out.shape;
    tf.dispose([out, ...Object.values(made)]);
    return { values, shape };
  }

  const CONV = [
    { name: 'encoder 1: 117x24 -> 58x12, 4x4 s2 p1, batch 2', x: [2, 117, 24, 6], f: [4, 4, 6, 8], strides: 2, pad: 1 as const },
    { name: 'decoder 1: 5x4 s2 explicit padding', x: [2, 29, 6, 8], f: [5, 4, 8, 16], strides: 2, pad: [[0, 0], [1, 1], [1, 1], [0, 0]] },
    { name: '3x3 same, stride 1', x: [2, 9, 7, 3], f: [3, 3, 3, 5], strides: 1, pad: 'same' as const },
  ];

  test('kernels on webgpu equal cpu: convolutions and their gradients, transposed products', async (t) => {
    if (skipWhy) return t.skip(skipWhy);
    for (const [i, c] of CONV.entries()) {
      const yShape = convOutShape(c.x, c.f, c.strides, c.pad as never, 1);
      const x = normal(c.x, 10 + i);
      const f = normal(c.f, 100 + i);
      const dy = normal(yShape, 1000 + i);
      const base = { strides: c.strides, pad: c.pad, dataFormat: 'NHWC', dilations: 1 };
      const cases: Array<[string, Record<string, Arg>, Record<string, unknown>]> = [
        ['Conv2D', { x, filter: f }, base],
        ['Conv2DBackpropFilter', { x, dy }, { ...base, filterShape: c.f }],
        ['Conv2DBackpropInput', { dy, filter: f }, { ...base, inputShape: c.x }],
      ];
      for (const [k, ins, attrs] of cases) {
        const got = await on('webgpu', () => kernel(k, ins, attrs));
        const ref = await on('cpu', () => kernel(k, ins, attrs));
        assert.deepEqual(got.shape, ref.shape, `${k} ${c.name}`);
        const e = relArray(got.values, ref.values);
        assert.ok(e <= TOL, `${k} ${c.name}: relative error ${e}`);
      }
    }
    // The dense layers' products: forward and both gradients (transposed operands), batched.
    const a = normal([3, 16, 40], 7);
    const b = normal([3, 40, 24], 8);
    const bt = normal([3, 24, 40], 9);
    const at = normal([3, 40, 16], 10);
    for (const [ins, attrs] of [
      [{ a, b }, { transposeA: false, transposeB: false }],
      [{ a, b: bt }, { transposeA: false, transposeB: true }],
      [{ a: at, b }, { transposeA: true, transposeB: false }],
    ] as Array<[Record<string, Arg>, Record<string, unknown>]>) {
      const got = await on('webgpu', () => kernel('BatchMatMul', ins, attrs));
      const ref = await on('cpu', () => kernel('BatchMatMul', ins, attrs));
      const e = relArray(got.values, ref.values);
      assert.ok(e <= TOL, `BatchMatMul ${JSON.stringify(attrs)}: relative error ${e}`);
    }
  });

  test('a program the device rejects makes the next read throw instead of returning zeros', async (t) => {
    if (skipWhy) return t.skip(skipWhy);
    await tf.setBackend('webgpu');
    // One AddN binds every input as a storage buffer: 12 exceed the default limit of 8 per stage.
    const ts = Array.from({ length: 12 }, (_, i) => tf.fill([4], i + 1));
    const s = tf.addN(ts);
    await assert.rejects(s.data(), /WebGPU device error: .*storage buffers/);
    tf.dispose([s, ...ts]);
    const ok = tf.add(tf.ones([2]), 1);
    assert.deepEqual(Array.from(await ok.data()), [2, 2]);
    ok.dispose();
  });

  const cfg = fmConfig('tiny', { npred: 2 });


  /** Two training steps of a fresh tiny model; readbacks (read / readSync calls) and numTensors per step. */
  async function fmSteps(kind: FmKind): Promise<{ stats: StepStats[]; reads: number[]; syncReads: number[]; tensors: number[] }> {
    const m = ForwardModel.create(cfg, kind, 1);
    const adam = new Adam(m.weights, { learningRate: 1e-3 });
    const backend = tf.backend() as unknown as { read(id: object): Promise<unknown>; readSync(id: object): unknown };
    const read = backend.read;
    const readSync = backend.readSync;
    let reads = 0;
    let syncReads = 0;
    backend.read = function (this: unknown, id: object) {
      reads++;
      return read.call(this, id);
    };
    backend.readSync = function (this: unknown, id: object) {
      syncReads++;
      return readSync.call(this, id);
    };
    const out = { stats: [] as StepStats[], reads: [] as number[], syncReads: [] as number[], tensors: [] as number[] };
    try {
      for (let k = 0; k < 2; k++) {
        reads = syncReads = 0;
        out.stats.push(await trainStep(m, adam, randomWindowBatch({ batch: 2, ncond: cfg.ncond, npred: cfg.npred, channels: cfg.channels }, k + 1), FmNoise.forStep(1, k, true)));
        out.reads.push(reads);
        out.syncReads.push(syncReads);
        out.tensors.push(tf.memory().numTensors);
      }
    } finally {
      backend.read = read;
      backend.readSync = readSync;
      adam.dispose();
      m.dispose();
    }
    return out;
  }

  for (const kind of ['deterministic', 'vae'] as const) {
    test(`a tiny ${kind} forward-model step on webgpu equals cpu; one readback per step, flat numTensors`, async (t) => {
      if (skipWhy) return t.skip(skipWhy);
      const got = await on('webgpu', () => fmSteps(kind));
      const ref = await on('cpu', () => fmSteps(kind));
      for (let k = 0; k < 2; k++) {
        const g = got.stats[k]!;
        const r = ref.stats[k]!;
        assert.equal(g.skipped, false);
        for (const part of ['total', 'image', 'state', 'kl', 'gradNorm'] as const) {
          assert.ok(rel(g[part], r[part]) <= TOL, `step ${k} ${part}: webgpu ${g[part]} cpu ${r[part]}`);
        }
      }
      assert.ok(got.stats[0]!.total > 0 && got.stats[0]!.gradNorm > 0, 'a real loss and gradient');
      // The loss parts and the gradient norm come back in one read; nothing reads synchronously.
      assert.deepEqual(got.reads, [1, 1], `reads per step ${got.reads}`);
      assert.deepEqual(got.syncReads, [0, 0], `synchronous reads per step ${got.syncReads}`);
      assert.equal(got.tensors[1], got.tensors[0], `numTensors ${got.tensors}`);
    });
  }

  const STATS: NormStats = { stateMean: [900, 120, 55, 0], stateStd: [400, 40, 20, 1], actionMean: [0, 0], actionStd: [4, 0.001] };

  async function policyOnce(method: PolicyMethod): Promise<{ total: number; gradNorm: number; skipped: boolean }> {
    // Small enough for SwiftShader: batch 2, a 2-step horizon, 2 dropout copies for U.
    const pcfg = policyTrainConfig('tiny', method, method === 'il' ? { batch: 2 } : { batch: 2, npred: 2, k: 2 });
    const kind: FmKind = method === 'vg' || method === 'vg-km' ? 'deterministic' : 'vae';
    const model = ForwardModel.create(cfg, kind, 1);
    model.setTrainable(false);
    const policy = PolicyNetwork.create(policyNetConfig('tiny', cfg.ncond, cfg.channels), 1);
    const adam = new Adam(policy.weights, { learningRate: pcfg.learningRate });
    const z = Array(pcfg.npred).fill(0);
    const uStats: UStats = { npred: pcfg.npred, samples: 1, imageMean: z, imageStd: z.map(() => 1e-4), stateMean: z, stateStd: z.map(() => 1e-3), costMean: z, costStd: z.map(() => 1e-4) };
    try {
      const s = await policyStep({ model, policy, cfg: pcfg, stats: STATS, uStats, noise: stepNoise(1, 0) }, adam, randomWindowBatch({ batch: pcfg.batch, ncond: cfg.ncond, npred: pcfg.npred, channels: cfg.channels }, 5));
      return { total: s.parts.total, gradNorm: s.gradNorm, skipped: s.skipped };
    } finally {
      adam.dispose();
      policy.dispose();
      model.dispose();
    }
  }

  test(`one step of every policy method on webgpu equals cpu (${POLICY_METHODS.join(', ')})`, async (t) => {
    if (skipWhy) return t.skip(skipWhy);
    for (const method of POLICY_METHODS) {
      const got = await on('webgpu', () => policyOnce(method));
      const ref = await on('cpu', () => policyOnce(method));
      assert.equal(got.skipped, false, method);
      assert.ok(rel(got.total, ref.total) <= TOL, `${method} loss: webgpu ${got.total} cpu ${ref.total}`);
      assert.ok(rel(got.gradNorm, ref.gradNorm) <= TOL, `${method} gradient norm: webgpu ${got.gradNorm} cpu ${ref.gradNorm}`);
    }
  });
}
