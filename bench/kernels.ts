/**
 * Convolution kernel throughput on the forward model's encoder layers (docs/method.md section 5:
 * 117x24x60 -> 58x12x64 -> 29x6x128 -> 14x3x256, 4x4 kernels, stride 2, padding 1): GFLOP/s of the
 * forward convolution, the input gradient (Conv2DBackpropInput, also the decoder's transposed
 * convolution) and the filter gradient (Conv2DBackpropFilter), counted as 2 * MACs of the
 * forward convolution, best of the measured repeats after one warm-up call. Measured for wasm
 * with our kernels, cpu with ours, and the stock cpu kernels as the baseline of the same run
 * (ratio = ours / stock cpu); stock wasm's input gradient and matrix products are shown too.
 * Every call gets a filter tensor it has not seen, as in training (an update gives every weight a
 * new tensor): that is when XNNPACK packs it. On wasm the previous generation of our kernels
 * (`wasm-previous`: XNNPACK products through the stock Conv2D, the heap kernels switched off,
 * kernels/wasm-heap.ts) is measured in the same run, and `vsPrevious` = ours / previous; `ours` runs
 * on one thread, and where the products have helper threads (kernels/gemm-pool.ts) `wasm-threads`
 * repeats them on every core.
 * Also the dense layer 256 -> 10752 (the forward model's state / action MLP) products on wasm,
 * stock, previous and ours, untransposed (forward) and transposed (its two gradients), with new
 * weights each call.
 *
 * The cpu kernels are scalar JavaScript; to keep the run short they are measured on a smaller
 * batch (`measuredBatch`, at least 1) when the requested one would take long; their GFLOP/s
 * hardly depend on the batch. The stock cpu filter gradient runs at ~10 MFLOP/s, so it is
 * measured once at batch 1.
 *
 * With --backend webgpu the same convolutions and dense products run on the webgpu backend
 * instead (tfjs's own webgpu kernels), one configuration, with the adapter's name: each figure
 * is the best of `reps` calls after a warm-up call, timed by the device (timestamp queries) where
 * the adapter allows, else until the result is read back (`timer`), new weights every call.
 *
 *   npm run bench -- kernels [--batch 8,64] [--reps 3] [--backend wasm|webgpu] [--json]
 */
import * as tf from '@tensorflow/tfjs';
import { cpus, loadavg } from 'node:os';
import { initBackend } from '../worldmodel/backend.js';
import { activeTrainingKernels, stockKernel, type TrainingKernel } from '../worldmodel/kernels/register.js';
import { setHeapKernelsEnabled, WasmHeap } from '../worldmodel/kernels/wasm-heap.js';
import { setHelperThreadsEnabled } from '../worldmodel/kernels/gemm-pool.js';
import { gemmUsesFma } from '../worldmodel/kernels/gemm-wasm.js';
import { Rng } from '../common/rng.js';
import { createProgress } from '../common/progress.js';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1]!;
}
const json = process.argv.includes('--json');
const batches = flag('batch', '8,64').split(',').map(Number);
const reps = Number(flag('reps', '3'));
const backendFlag = flag('backend', 'wasm');
if (batches.some((b) => !Number.isInteger(b) || b < 1) || !Number.isInteger(reps) || reps < 1 || !['wasm', 'webgpu'].includes(backendFlag)) {
  process.stderr.write('usage: npm run bench -- kernels [--batch 8,64] [--reps 3] [--backend wasm|webgpu] [--json]\n');
  process.exit(2);
}

const LAYERS = [
  { name: 'enc1 117x24x60->64', h: 117, w: 24, ci: 60, co: 64 },
  { name: 'enc2 58x12x64->128', h: 58, w: 12, ci: 64, co: 128 },
  { name: 'enc3 29x6x128->256', h: 29, w: 6, ci: 128, co: 256 },
];
const OPS = ['forward', 'inputGrad', 'filterGrad'] as const;
type Op = (typeof OPS)[number];
const KERNEL: Record<Op, string> = { forward: 'Conv2D', inputGrad: 'Conv2DBackpropInput', filterGrad: 'Conv2DBackpropFilter' };

/** Largest work per call (GFLOP) a slow configuration is given; its batch is cut to fit. */
const SLOW_GFLOP: Record<string, number> = { 'cpu-ours': 0.3, 'cpu-stock': 0.3, 'wasm-stock': 0.6 };

type Kernels = 'ours' | 'threads' | 'previous' | 'stock';

interface Row {
  backend: 'wasm' | 'cpu';
  kernels: Kernels;
  layer: string;
  op: Op;
  batch: number;
  measuredBatch: number;
  gflop: number;
  bestMs: number;
  gflops: number;
}

function randomTensor(shape: number[], seed: number): tf.Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.normal();
  return tf.tensor(v, shape);
}

/** A timed call: `prepare` (untimed) makes its inputs, `run` is timed, `done` (untimed) cleans up. */
interface Call {
  prepare(): void;
  run(): tf.TensorInfo;
  done(): void;
}

/**
 * Best wall time (ms) of `n` calls after one warm-up; each result is disposed unread (wasm and cpu
 * compute synchronously, and reading back would add a copy of the output to the time).
 */
function bestMs(n: number, call: Call): number {
  const once = () => {
    call.prepare();
    const t0 = performance.now();
    tf.backend().disposeData(call.run().dataId);
    const dt = performance.now() - t0;
    call.done();
    return dt;
  };
  once();
  let best = Infinity;
  for (let i = 0; i < n; i++) best = Math.min(best, once());
  return best;
}

/**
 * Runs the registered kernel (ours where registered) or the stock one, at the backend level;
 * `fresh` names an input that gets a new copy (a tensor no kernel has seen) before every call.
 */
function kernelCall(name: string, backendName: string, stock: boolean, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>, fresh?: string): Call | null {
  const k = stock ? stockKernel(name, backendName) : tf.getKernel(name, backendName);
  if (!k) return null;
  let copy: tf.Tensor | null = null;
  return {
    prepare: () => {
      if (fresh) copy = tf.add(inputs[fresh]!, 0);
    },
    run: () => {
      const ins = fresh && copy ? { ...inputs, [fresh]: copy } : inputs;
      const out = k.kernelFunc({ inputs: ins as unknown as tf.NamedTensorInfoMap, backend: tf.backend(), attrs: attrs as tf.NamedAttrMap });
      return Array.isArray(out) ? out[0]! : out;
    },
    done: () => {
      copy?.dispose();
      copy = null;
    },
  };
}

/**
 * Measures `ops` of every layer and batch for one configuration. A slow configuration's batch is
 * cut to SLOW_GFLOP per call; a (layer, op, measured batch) already timed is reused.
 */
async function measureConv(config: { backend: 'wasm' | 'cpu'; kernels: Kernels }, ops: readonly Op[], onStep: () => void): Promise<Row[]> {
  await tf.setBackend(config.backend);
  setHeapKernelsEnabled(config.kernels !== 'previous');
  setHelperThreadsEnabled(config.kernels === 'threads');
  try {
    return measureConvOn(config, ops, onStep);
  } finally {
    setHeapKernelsEnabled(true);
    setHelperThreadsEnabled(true);
  }
}

function measureConvOn(config: { backend: 'wasm' | 'cpu'; kernels: Kernels }, ops: readonly Op[], onStep: () => void): Row[] {
  const rows: Row[] = [];
  const key = `${config.backend}-${config.kernels}`;
  const stock = config.kernels === 'stock';
  for (const batch of batches) {
    for (const L of LAYERS) {
      const ho = Math.floor((L.h + 2 - 4) / 2) + 1;
      const wo = Math.floor((L.w + 2 - 4) / 2) + 1;
      const gflopPerSample = (2 * ho * wo * L.co * 16 * L.ci) / 1e9;
      for (const op of ops) {
        onStep();
        const cap = SLOW_GFLOP[key];
        // The stock cpu filter gradient (~10 MFLOP/s) gets one call at batch 1.
        const once = key === 'cpu-stock' && op === 'filterGrad';
        const mb = once ? 1 : cap === undefined ? batch : Math.max(1, Math.min(batch, Math.floor(cap / gflopPerSample)));
        const seen = rows.find((r) => r.layer === L.name && r.op === op && r.measuredBatch === mb);
        if (seen) {
          rows.push({ ...seen, batch });
          continue;
        }
        const x = randomTensor([mb, L.h, L.w, L.ci], 1);
        const f = randomTensor([4, 4, L.ci, L.co], 2);
        const dy = randomTensor([mb, ho, wo, L.co], 3);
        const attrs = { strides: 2, pad: 1, dataFormat: 'NHWC', dilations: 1 };
        const call =
          op === 'forward'
            ? kernelCall(KERNEL[op], config.backend, stock, { x, filter: f }, attrs, 'filter')
            : op === 'inputGrad'
              ? kernelCall(KERNEL[op], config.backend, stock, { dy, filter: f }, { ...attrs, inputShape: [mb, L.h, L.w, L.ci] }, 'filter')
              : kernelCall(KERNEL[op], config.backend, stock, { x, dy }, { ...attrs, filterShape: [4, 4, L.ci, L.co] });
        if (call) {
          const ms = once ? timeOnce(call) : bestMs(cap === undefined ? reps : 1, call);
          const gflop = gflopPerSample * mb;
          // A kernel we do not replace on this backend is tfjs's own: label it so.
          const kernels = stock || !activeTrainingKernels(config.backend).includes(KERNEL[op] as TrainingKernel) ? 'stock' : config.kernels;
          rows.push({ backend: config.backend, kernels, layer: L.name, op, batch, measuredBatch: mb, gflop, bestMs: ms, gflops: gflop / (ms / 1e3) });
        }
        tf.dispose([x, f, dy]);
      }
    }
  }
  return rows;
}

function timeOnce(call: Call): number {
  call.prepare();
  const t0 = performance.now();
  tf.backend().disposeData(call.run().dataId);
  const dt = performance.now() - t0;
  call.done();
  return dt;
}

interface MatRow {
  product: string;
  batch: number;
  stockMs: number;
  previousMs: number;
  oursMs: number;
  speedup: number;
  vsPrevious: number;
}

/**
 * The dense layer 256 -> 10752 on wasm: y = x W (forward), dX = dY W^T, dW = X^T dY; W is a new
 * tensor every call (as after every training update).
 */
function measureDense(onStep: () => void): MatRow[] {
  const rows: MatRow[] = [];
  const stock = stockKernel('BatchMatMul', 'wasm')!;
  const ours = tf.getKernel('BatchMatMul', 'wasm')!;
  for (const batch of batches) {
    const x = randomTensor([batch, 256], 4);
    const w = randomTensor([256, 10752], 5);
    const dy = randomTensor([batch, 10752], 6);
    const cases: Array<[string, tf.Tensor, tf.Tensor, boolean, boolean, 'a' | 'b' | undefined]> = [
      ['forward x W', x, w, false, false, 'b'],
      ['input grad dY W^T', dy, w, false, true, 'b'],
      ['weight grad X^T dY', x, dy, true, false, undefined],
    ];
    for (const [product, a, b, ta, tb, fresh] of cases) {
      onStep();
      const call = (k: tf.KernelConfig) => productCall(k, a, b, ta, tb, fresh);
      const s = bestMs(ta || tb ? 1 : Math.max(reps, 7), call(stock));
      setHeapKernelsEnabled(false);
      const p = bestMs(Math.max(reps, 7), call(ours));
      setHeapKernelsEnabled(true);
      setHelperThreadsEnabled(false);
      const o = bestMs(Math.max(reps, 7), call(ours));
      setHelperThreadsEnabled(true);
      rows.push({ product, batch, stockMs: s, previousMs: p, oursMs: o, speedup: s / o, vsPrevious: p / o });
    }
    tf.dispose([x, w, dy]);
  }
  return rows;
}

/**
 * One call of a matrix-product kernel on (a, b) with the given transposes; `fresh` names the
 * operand that gets a new tensor before every call (as a weight does after every update).
 */
function productCall(k: tf.KernelConfig, a: tf.Tensor, b: tf.Tensor, ta: boolean, tb: boolean, fresh: 'a' | 'b' | undefined): Call {
  let copy: tf.Tensor | null = null;
  return {
    prepare: () => {
      if (fresh) copy = tf.add(fresh === 'a' ? a : b, 0);
    },
    run: () => {
      const inputs = { a: fresh === 'a' && copy ? copy : a, b: fresh === 'b' && copy ? copy : b };
      const out = k.kernelFunc({ inputs, backend: tf.backend(), attrs: { transposeA: ta, transposeB: tb } as unknown as tf.NamedAttrMap });
      return Array.isArray(out) ? out[0]! : out;
    },
    done: () => {
      copy?.dispose();
      copy = null;
    },
  };
}

/**
 * Ms per call on webgpu, best of `reps` after a warm-up call (which compiles the shaders): the
 * device's own time of the kernel's programs (tf.time's kernelMs, from timestamp queries) where
 * the adapter has them, else the wall time until the result is read back. Inputs are made before
 * each timed call and are not counted.
 */
async function deviceMs(call: Call): Promise<{ ms: number; timer: 'device' | 'wall' }> {
  let best = Infinity;
  let timer: 'device' | 'wall' = 'device';
  for (let i = 0; i <= reps; i++) {
    call.prepare();
    let out: tf.TensorInfo | null = null;
    const t0 = performance.now();
    const info = await tf.time(() => {
      out = call.run();
    });
    const result = tf.engine().makeTensorFromTensorInfo(out!);
    await result.data();
    const wall = performance.now() - t0;
    result.dispose();
    call.done();
    const k = info.kernelMs;
    if (typeof k !== 'number' || !(k > 0)) timer = 'wall';
    if (i > 0) best = Math.min(best, timer === 'device' ? (k as number) : wall);
  }
  return { ms: best, timer };
}

/** The convolutions and dense products on webgpu (stock tfjs kernels); prints JSON and exits. */
async function benchWebgpu(): Promise<never> {
  const { adapterName } = await import('../worldmodel/webgpu.js');
  const choice = await initBackend({ requested: 'webgpu' });
  const adapter = choice.webgpu?.adapter ? adapterName(choice.webgpu.adapter) : null;
  const t0 = performance.now();
  const conv: Array<{ layer: string; op: Op; batch: number; gflop: number; ms: number; gflops: number; timer: string }> = [];
  for (const batch of batches) {
    for (const L of LAYERS) {
      const ho = Math.floor((L.h + 2 - 4) / 2) + 1;
      const wo = Math.floor((L.w + 2 - 4) / 2) + 1;
      const gflop = (2 * ho * wo * L.co * 16 * L.ci * batch) / 1e9;
      const x = randomTensor([batch, L.h, L.w, L.ci], 1);
      const f = randomTensor([4, 4, L.ci, L.co], 2);
      const dy = randomTensor([batch, ho, wo, L.co], 3);
      const attrs = { strides: 2, pad: 1, dataFormat: 'NHWC', dilations: 1 };
      for (const op of OPS) {
        const call =
          op === 'forward'
            ? kernelCall(KERNEL[op], 'webgpu', false, { x, filter: f }, attrs, 'filter')
            : op === 'inputGrad'
              ? kernelCall(KERNEL[op], 'webgpu', false, { dy, filter: f }, { ...attrs, inputShape: [batch, L.h, L.w, L.ci] }, 'filter')
              : kernelCall(KERNEL[op], 'webgpu', false, { x, dy }, { ...attrs, filterShape: [4, 4, L.ci, L.co] });
        if (!call) continue;
        const { ms, timer } = await deviceMs(call);
        conv.push({ layer: L.name, op, batch, gflop: round(gflop), ms: round(ms), gflops: round(gflop / (ms / 1e3)), timer });
        if (!json) process.stderr.write(`webgpu ${L.name} ${op} batch ${batch}: ${round(ms)} ms, ${round(gflop / (ms / 1e3))} GFLOP/s\n`);
      }
      tf.dispose([x, f, dy]);
    }
  }
  const dense: Array<{ product: string; batch: number; gflop: number; ms: number; gflops: number; timer: string }> = [];
  const k = tf.getKernel('BatchMatMul', 'webgpu')!;
  for (const batch of batches) {
    const x = randomTensor([batch, 256], 4);
    const w = randomTensor([256, 10752], 5);
    const dy = randomTensor([batch, 10752], 6);
    const gflop = (2 * batch * 256 * 10752) / 1e9;
    const cases: Array<[string, tf.Tensor, tf.Tensor, boolean, boolean, 'a' | 'b' | undefined]> = [
      ['forward x W', x, w, false, false, 'b'],
      ['input grad dY W^T', dy, w, false, true, 'b'],
      ['weight grad X^T dY', x, dy, true, false, undefined],
    ];
    for (const [product, a, b, ta, tb, fresh] of cases) {
      const { ms, timer } = await deviceMs(productCall(k, a, b, ta, tb, fresh));
      dense.push({ product, batch, gflop: round(gflop), ms: round(ms), gflops: round(gflop / (ms / 1e3)), timer });
    }
    tf.dispose([x, w, dy]);
  }
  const result = {
    bench: 'kernels', backend: choice.name, adapter, hardware: choice.webgpu?.adapter?.hardware ?? null,
    batches, reps, cores: cpus().length, loadAvg1m: round(loadavg()[0]!), seconds: round((performance.now() - t0) / 1e3), conv, dense,
  };
  console.log(JSON.stringify(result));
  process.exit(0);
}

tf.env().set('PROD', true);
if (backendFlag === 'webgpu') await benchWebgpu();
const choice = await initBackend({ requested: 'wasm' });
const threads = WasmHeap.of(tf.backend())?.gemm.threads ?? 1;
const steps = ((threads > 1 ? 4 : 3) * OPS.length + 2) * batches.length * LAYERS.length + 3 * batches.length;
const bar = createProgress('kernels', steps, { json });
let done = 0;
const step = () => bar.update(++done);
const t0 = performance.now();
const conv: Row[] = [
  ...(await measureConv({ backend: 'wasm', kernels: 'ours' }, OPS, step)),
  ...(threads > 1 ? await measureConv({ backend: 'wasm', kernels: 'threads' }, OPS, step) : []),
  ...(await measureConv({ backend: 'wasm', kernels: 'previous' }, OPS, step)),
  // cpu keeps its stock forward and input gradient (ours is slower there): only the filter gradient.
  ...(await measureConv({ backend: 'cpu', kernels: 'ours' }, OPS.filter((op) => activeTrainingKernels('cpu').includes(KERNEL[op] as TrainingKernel)), step)),
  ...(await measureConv({ backend: 'cpu', kernels: 'stock' }, OPS, step)),
  // Stock wasm has an input gradient (a scalar loop) but no filter gradient.
  ...(await measureConv({ backend: 'wasm', kernels: 'stock' }, ['forward', 'inputGrad'], step)),
];
await tf.setBackend('wasm');
const dense = measureDense(step);
bar.stop();

const stockCpu = (r: Row) => conv.find((s) => s.backend === 'cpu' && s.kernels === 'stock' && s.layer === r.layer && s.op === r.op && s.batch === r.batch);
const previous = (r: Row) => conv.find((s) => s.backend === 'wasm' && s.kernels === 'previous' && s.layer === r.layer && s.op === r.op && s.batch === r.batch);
const ratios = conv
  .filter((r) => r.kernels === 'ours' || r.kernels === 'threads')
  .map((r) => ({
    backend: r.backend, layer: r.layer, op: r.op, batch: r.batch, gflops: round(r.gflops),
    vsStockCpu: round(r.gflops / (stockCpu(r)?.gflops ?? NaN)),
    ...(r.backend === 'wasm' ? { vsPrevious: round(r.gflops / (previous(r)?.gflops ?? NaN)) } : {}),
  }));

/** Three significant digits (JSON-friendly; non-finite values pass through). */
function round(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(3)) : v;
}

const result = {
  bench: 'kernels',
  backend: choice.name,
  kernels: { wasm: activeTrainingKernels('wasm'), cpu: activeTrainingKernels('cpu') },
  fma: gemmUsesFma(),
  threads,
  batches,
  reps,
  // Other processes on the machine slow every figure; the load average says how busy it was.
  cores: cpus().length,
  loadAvg1m: round(loadavg()[0]!),
  seconds: round((performance.now() - t0) / 1e3),
  conv: conv.map((r) => ({ ...r, gflop: round(r.gflop), bestMs: round(r.bestMs), gflops: round(r.gflops) })),
  ratios,
  dense: dense.map((r) => ({ ...r, stockMs: round(r.stockMs), previousMs: round(r.previousMs), oursMs: round(r.oursMs), speedup: round(r.speedup), vsPrevious: round(r.vsPrevious) })),
};

if (!json) {
  const pad = (s: string | number, n: number) => String(s).padEnd(n);
  console.log(`${pad('backend', 15)}${pad('layer', 22)}${pad('op', 12)}${pad('batch', 7)}${pad('meas.', 7)}${pad('GFLOP/s', 10)}${pad('x stock cpu', 13)}x previous`);
  for (const r of conv) {
    const ratio = r.backend === 'cpu' && r.kernels === 'stock' ? '' : round(r.gflops / (stockCpu(r)?.gflops ?? NaN));
    const vsPrev = r.backend === 'wasm' && (r.kernels === 'ours' || r.kernels === 'threads') ? round(r.gflops / (previous(r)?.gflops ?? NaN)) : '';
    console.log(`${pad(`${r.backend}-${r.kernels}`, 15)}${pad(r.layer, 22)}${pad(r.op, 12)}${pad(r.batch, 7)}${pad(r.measuredBatch, 7)}${pad(round(r.gflops), 10)}${pad(ratio, 13)}${vsPrev}`);
  }
  console.log('\ndense 256 -> 10752 on wasm, new weights every call (ms, best of repeats)');
  for (const r of dense) console.log(`  ${pad(r.product, 22)}batch ${pad(r.batch, 4)} stock ${pad(round(r.stockMs), 8)} previous ${pad(round(r.previousMs), 8)} ours ${pad(round(r.oursMs), 8)} x${round(r.speedup)} vs stock, x${round(r.vsPrevious)} vs previous`);
}
console.log(JSON.stringify(result));
