/**
 * Convolution kernel throughput on the forward model's encoder layers (SPEC.md section 5:
 * 117x24x60 -> 58x12x64 -> 29x6x128 -> 14x3x256, 4x4 kernels, stride 2, padding 1): GFLOP/s of the
 * forward convolution, the input gradient (Conv2DBackpropInput, also the decoder's transposed
 * convolution) and the filter gradient (Conv2DBackpropFilter), counted as 2 * MACs of the
 * forward convolution, best of the measured repeats after one warm-up call. Measured for wasm
 * with our kernels, cpu with ours, and the stock cpu kernels as the baseline of the same run
 * (ratio = ours / stock cpu); stock wasm's input gradient and matrix products are shown too.
 * Also the dense layer 256 -> 10752 (the forward model's state / action MLP) products on wasm,
 * stock against ours, untransposed (forward) and transposed (its two gradients).
 *
 * The cpu kernels are scalar JavaScript; to keep the run short they are measured on a smaller
 * batch (`measuredBatch`, at least 1) when the requested one would take long; their GFLOP/s
 * hardly depend on the batch. The stock cpu filter gradient runs at ~10 MFLOP/s, so it is
 * measured once at batch 1.
 *
 *   npm run bench -- kernels [--batch 8,64] [--reps 3] [--json]
 */
import * as tf from '@tensorflow/tfjs';
import { cpus, loadavg } from 'node:os';
import { initBackend } from '../worldmodel/backend.js';
import { activeTrainingKernels, stockKernel, type TrainingKernel } from '../worldmodel/kernels/register.js';
import { Rng } from '../common/rng.js';
import { createProgress } from '../common/progress.js';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1]!;
}
const json = process.argv.includes('--json');
const batches = flag('batch', '8,64').split(',').map(Number);
const reps = Number(flag('reps', '3'));
if (batches.some((b) => !Number.isInteger(b) || b < 1) || !Number.isInteger(reps) || reps < 1) {
  process.stderr.write('usage: npm run bench -- kernels [--batch 8,64] [--reps 3] [--json]\n');
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

interface Row {
  backend: 'wasm' | 'cpu';
  kernels: 'ours' | 'stock';
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

/**
 * Best wall time (ms) of `n` calls after one warm-up; each result is disposed unread (wasm and cpu
 * compute synchronously, and reading back would add a copy of the output to the time).
 */
function bestMs(n: number, call: () => tf.TensorInfo): number {
  const run = () => tf.backend().disposeData(call().dataId);
  run();
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    run();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** Runs the registered kernel (ours where registered) or the stock one, at the backend level. */
function kernelCall(name: string, backendName: string, stock: boolean, inputs: tf.NamedTensorInfoMap, attrs: Record<string, unknown>) {
  const k = stock ? stockKernel(name, backendName) : tf.getKernel(name, backendName);
  if (!k) return null;
  return () => {
    const out = k.kernelFunc({ inputs, backend: tf.backend(), attrs: attrs as tf.NamedAttrMap });
    return Array.isArray(out) ? out[0]! : out;
  };
}

/**
 * Measures `ops` of every layer and batch for one configuration. A slow configuration's batch is
 * cut to SLOW_GFLOP per call; a (layer, op, measured batch) already timed is reused.
 */
async function measureConv(config: { backend: 'wasm' | 'cpu'; kernels: 'ours' | 'stock' }, ops: readonly Op[], onStep: () => void): Promise<Row[]> {
  await tf.setBackend(config.backend);
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
            ? kernelCall(KERNEL[op], config.backend, stock, { x, filter: f }, attrs)
            : op === 'inputGrad'
              ? kernelCall(KERNEL[op], config.backend, stock, { dy, filter: f }, { ...attrs, inputShape: [mb, L.h, L.w, L.ci] })
              : kernelCall(KERNEL[op], config.backend, stock, { x, dy }, { ...attrs, filterShape: [4, 4, L.ci, L.co] });
        if (call) {
          const ms = once ? timeOnce(call) : bestMs(cap === undefined ? reps : 1, call);
          const gflop = gflopPerSample * mb;
          // The forward Conv2D is always tfjs's own: label it so even in the "ours" configuration.
          const kernels = stock || !activeTrainingKernels(config.backend).includes(KERNEL[op] as TrainingKernel) ? 'stock' : 'ours';
          rows.push({ backend: config.backend, kernels, layer: L.name, op, batch, measuredBatch: mb, gflop, bestMs: ms, gflops: gflop / (ms / 1e3) });
        }
        tf.dispose([x, f, dy]);
      }
    }
  }
  return rows;
}

function timeOnce(call: () => tf.TensorInfo): number {
  const t0 = performance.now();
  tf.backend().disposeData(call().dataId);
  return performance.now() - t0;
}

interface MatRow {
  product: string;
  batch: number;
  stockMs: number;
  oursMs: number;
  speedup: number;
}

/** The dense layer 256 -> 10752 on wasm: y = x W (forward), dX = dY W^T, dW = X^T dY. */
function measureDense(onStep: () => void): MatRow[] {
  const rows: MatRow[] = [];
  const stock = stockKernel('BatchMatMul', 'wasm')!;
  const ours = tf.getKernel('BatchMatMul', 'wasm')!;
  for (const batch of batches) {
    const x = randomTensor([batch, 256], 4);
    const w = randomTensor([256, 10752], 5);
    const dy = randomTensor([batch, 10752], 6);
    const cases: Array<[string, tf.Tensor, tf.Tensor, boolean, boolean]> = [
      ['forward x W', x, w, false, false],
      ['input grad dY W^T', dy, w, false, true],
      ['weight grad X^T dY', x, dy, true, false],
    ];
    for (const [product, a, b, ta, tb] of cases) {
      onStep();
      const run = (k: tf.KernelConfig) => () => {
        const out = k.kernelFunc({ inputs: { a, b }, backend: tf.backend(), attrs: { transposeA: ta, transposeB: tb } as unknown as tf.NamedAttrMap });
        return Array.isArray(out) ? out[0]! : out;
      };
      const s = bestMs(ta || tb ? 1 : Math.max(reps, 7), run(stock));
      const o = bestMs(Math.max(reps, 7), run(ours));
      rows.push({ product, batch, stockMs: s, oursMs: o, speedup: s / o });
    }
    tf.dispose([x, w, dy]);
  }
  return rows;
}

tf.env().set('PROD', true);
const choice = await initBackend({ requested: 'wasm' });
const steps = (2 * OPS.length + 2) * batches.length * LAYERS.length + 3 * batches.length;
const bar = createProgress('kernels', steps, { json });
let done = 0;
const step = () => bar.update(++done);
const t0 = performance.now();
const conv: Row[] = [
  ...(await measureConv({ backend: 'wasm', kernels: 'ours' }, OPS, step)),
  // cpu keeps its stock forward and input gradient (ours is slower there): only the filter gradient.
  ...(await measureConv({ backend: 'cpu', kernels: 'ours' }, OPS.filter((op) => activeTrainingKernels('cpu').includes(KERNEL[op] as TrainingKernel)), step)),
  ...(await measureConv({ backend: 'cpu', kernels: 'stock' }, OPS, step)),
  // Stock wasm has an input gradient (a scalar loop) but no filter gradient; its Conv2D is ours too.
  ...(await measureConv({ backend: 'wasm', kernels: 'stock' }, ['inputGrad'], step)),
];
await tf.setBackend('wasm');
const dense = measureDense(step);
bar.stop();

const stockCpu = (r: Row) => conv.find((s) => s.backend === 'cpu' && s.kernels === 'stock' && s.layer === r.layer && s.op === r.op && s.batch === r.batch);
const ratios = conv
  .filter((r) => !(r.backend === 'cpu' && r.kernels === 'stock') && !(r.backend === 'wasm' && r.kernels === 'stock' && r.op !== 'forward'))
  .map((r) => ({ backend: r.backend, layer: r.layer, op: r.op, batch: r.batch, gflops: round(r.gflops), vsStockCpu: round(r.gflops / (stockCpu(r)?.gflops ?? NaN)) }));

/** Three significant digits (JSON-friendly; non-finite values pass through). */
function round(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(3)) : v;
}

const result = {
  benchmark: 'kernels',
  backend: choice.name,
  kernels: { wasm: activeTrainingKernels('wasm'), cpu: activeTrainingKernels('cpu') },
  batches,
  reps,
  // Other processes on the machine slow every figure; the load average says how busy it was.
  cores: cpus().length,
  loadAvg1m: round(loadavg()[0]!),
  seconds: round((performance.now() - t0) / 1e3),
  conv: conv.map((r) => ({ ...r, gflop: round(r.gflop), bestMs: round(r.bestMs), gflops: round(r.gflops) })),
  ratios,
  dense: dense.map((r) => ({ ...r, stockMs: round(r.stockMs), oursMs: round(r.oursMs), speedup: round(r.speedup) })),
};

if (!json) {
  const pad = (s: string | number, n: number) => String(s).padEnd(n);
  console.log(`${pad('backend', 12)}${pad('layer', 22)}${pad('op', 12)}${pad('batch', 7)}${pad('meas.', 7)}${pad('GFLOP/s', 10)}x stock cpu`);
  for (const r of conv) {
    const ratio = r.backend === 'cpu' && r.kernels === 'stock' ? '' : round(r.gflops / (stockCpu(r)?.gflops ?? NaN));
    console.log(`${pad(`${r.backend}-${r.kernels}`, 12)}${pad(r.layer, 22)}${pad(r.op, 12)}${pad(r.batch, 7)}${pad(r.measuredBatch, 7)}${pad(round(r.gflops), 10)}${ratio}`);
  }
  console.log('\ndense 256 -> 10752 on wasm (ms, best of repeats)');
  for (const r of dense) console.log(`  ${pad(r.product, 22)}batch ${pad(r.batch, 4)} stock ${pad(round(r.stockMs), 8)} ours ${pad(round(r.oursMs), 8)} x${round(r.speedup)}`);
}
console.log(JSON.stringify(result));
