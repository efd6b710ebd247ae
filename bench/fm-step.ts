/**
 * One training step of the forward model (default: the paper VAE, one predicted step, the
 * default backend): median wall time over the measured steps, achieved GFLOP/s, peak RSS and
 * whether tf.memory().numTensors stays flat. The baseline, measured in the same run, is the
 * single-thread step; with --workers 2 the data-parallel step (two compute threads, gradients
 * averaged through shared memory) is measured after it on the same batches.
 * On wasm the single-thread step is also measured with this project's heap kernels switched off
 * (`previous`: XNNPACK products that pack every new weight tensor, Adam in JavaScript, copying
 * Identity; kernels/wasm-heap.ts), and, where the products have helper threads
 * (kernels/gemm-pool.ts), the step with them (`threads`: large products split over every core);
 * the variants take turns step by step on the same batches so that load from other processes
 * hits them alike (with --workers 2 the data-parallel step likewise, its workers started with
 * PPUU_STOCK_KERNELS=heap for `previousDataParallel`); --no-previous skips the previous kernels.
 * On webgpu every step ends by reading the loss and gradient norm back, so its wall time includes
 * the device's work; `adapter` names the adapter it ran on.
 *
 *   npm run bench -- fm-step [--batch 8] [--npred 1] [--preset paper] [--model vae]
 *                            [--steps 5] [--warmup 2] [--workers 1|2] [--no-previous]
 *                            [--backend NAME] [--json]
 */
import * as tf from '@tensorflow/tfjs';
import { loadavg, cpus } from 'node:os';
import { initFmBackend } from '../worldmodel/fm/setup.js';
import { fmConfig, type FmKind } from '../worldmodel/fm/config.js';
import { IMAGE_H, IMAGE_W } from '../data/layout.js';
import { ForwardModel } from '../worldmodel/fm/model.js';
import { Adam } from '../worldmodel/fm/adam.js';
import { FmNoise } from '../worldmodel/fm/noise.js';
import { trainStep } from '../worldmodel/fm/train-step.js';
import { Rng } from '../common/rng.js';
import type { WindowBatch } from '../worldmodel/fm/windows.js';
import { forwardFlops } from '../worldmodel/fm/flops.js';
import { setHeapKernelsEnabled, heapKernelsEnabled } from '../worldmodel/kernels/wasm-heap.js';
import { gemmUsesFma } from '../worldmodel/kernels/gemm-wasm.js';
import { setHelperThreadsEnabled, helperThreadsEnabled } from '../worldmodel/kernels/gemm-pool.js';
import { WasmHeap } from '../worldmodel/kernels/wasm-heap.js';
import { adapterName } from '../worldmodel/webgpu.js';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1]!;
}
const batch = Number(flag('batch', '8'));
const npred = Number(flag('npred', '1'));
const preset = flag('preset', 'paper');
const kind = flag('model', 'vae') as FmKind;
const steps = Number(flag('steps', '5'));
const warmup = Number(flag('warmup', '2'));
const workers = Number(flag('workers', '1'));
const json = process.argv.includes('--json');
const backendFlag = process.argv.includes('--backend') ? flag('backend', '') : undefined;
const withPrevious = !process.argv.includes('--no-previous');

function randomBatch(cfg: ReturnType<typeof fmConfig>, seed: number): WindowBatch {
  const rng = new Rng(seed);
  const fill = (n: number, lo: number, hi: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rng.uniform(lo, hi);
    return a;
  };
  const C = cfg.channels;
  return {
    batch, ncond: cfg.ncond, npred, channels: C,
    ctxImages: fill(batch * IMAGE_H * IMAGE_W * cfg.ncond * C, 0, 1),
    ctxStates: fill(batch * cfg.ncond * 4, -1, 1),
    actions: fill(npred * batch * 2, -1, 1),
    targetImages: fill(npred * batch * IMAGE_H * IMAGE_W * C, 0, 1),
    targetStates: fill(npred * batch * 4, -1, 1),
    episodeIds: Array(batch).fill('bench'), starts: Array(batch).fill(0),
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const log = (s: string) => {
  if (!json) process.stderr.write(s + '\n');
};

const backend = await initFmBackend(backendFlag, { training: true });
const cfg = fmConfig(preset, { npred, batch });
const batches = Array.from({ length: warmup + steps }, (_, i) => randomBatch(cfg, i + 1));
const flopsPerStep = 3 * forwardFlops(cfg, kind) * npred * batch;

/** CPU milliseconds of the whole process (all threads) since `since`. */
function cpuMs(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
}

interface Run {
  ms: number[];
  cpu: number[];
  tensors: number[];
  loss: number[];
}

/**
 * Single-thread steps, one model per variant, the variants taking turns on each batch. `heap`:
 * whether this project's heap kernels are on for that variant. Returns per-step wall and CPU ms
 * and numTensors after each step, per variant.
 */
async function singleThread(variants: Array<{ name: string; heap: boolean; helpers?: boolean }>): Promise<Record<string, Run>> {
  const runs = variants.map((v) => {
    const model = ForwardModel.create(cfg, kind, 1);
    return { ...v, model, adam: new Adam(model.weights, { learningRate: cfg.learningRate }), run: { ms: [], cpu: [], tensors: [], loss: [] } as Run };
  });
  const heapBefore = heapKernelsEnabled();
  const helpersBefore = helperThreadsEnabled();
  try {
    for (const [i, b] of batches.entries()) {
      for (const v of runs) {
        setHeapKernelsEnabled(v.heap);
        setHelperThreadsEnabled(v.helpers ?? false);
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const s = await trainStep(v.model, v.adam, b, FmNoise.forStep(1, i, true));
        const dt = performance.now() - t0;
        v.run.loss.push(s.total);
        v.run.tensors.push(tf.memory().numTensors);
        if (i >= warmup) {
          v.run.ms.push(dt);
          v.run.cpu.push(cpuMs(c0));
        }
        log(`${v.name} single-thread step ${i}${i < warmup ? ' (warm-up)' : ''}: ${dt.toFixed(0)} ms, loss ${s.total.toFixed(4)}`);
      }
    }
  } finally {
    setHeapKernelsEnabled(heapBefore);
    setHelperThreadsEnabled(helpersBefore);
    for (const v of runs) {
      v.adam.dispose();
      v.model.dispose();
    }
  }
  return Object.fromEntries(runs.map((v) => [v.name, v.run]));
}

const model0 = ForwardModel.create(cfg, kind, 1);
const params = model0.paramCount();
model0.dispose();
log(`${kind} ${preset}: ${params.total.toLocaleString('en')} parameters (${params.withoutResidual.toLocaleString('en')} without the residual block); batch ${batch}, npred ${npred}, backend ${backend.name}`);
const compare = withPrevious && backend.name === 'wasm';
// Threads the products can use (1 where the heap is not shared or PPUU_THREADS=1).
const productThreads = backend.name === 'wasm' ? (WasmHeap.of(tf.backend())?.gemm.threads ?? 1) : 1;
const single = await singleThread([
  ...(compare ? [{ name: 'previous', heap: false }] : []),
  { name: 'current', heap: heapKernelsEnabled() },
  ...(productThreads > 1 ? [{ name: `${productThreads} threads`, heap: heapKernelsEnabled(), helpers: true }] : []),
]);
const base = single.current!;
const threaded = single[`${productThreads} threads`];
const result: Record<string, unknown> = {
  bench: 'fm-step', backend: backend.name, preset, kind, batch, npred, ncond: cfg.ncond, params: params.total, paramsWithoutResidual: params.withoutResidual,
  gflopPerStep: flopsPerStep / 1e9,
  cores: cpus().length, loadAvg1m: loadavg()[0],
  baseline: { workers: 1, medianMs: median(base.ms), medianCpuMs: median(base.cpu), gflops: flopsPerStep / 1e9 / (median(base.ms) / 1000), stepsMs: base.ms.map(Math.round) },
  numTensors: { first: base.tensors[0], last: base.tensors[base.tensors.length - 1], flat: base.tensors.every((t) => t === base.tensors[0]) },
  adapter: backend.webgpu?.used && backend.webgpu.adapter ? adapterName(backend.webgpu.adapter) : null,
  fma: backend.name === 'wasm' ? gemmUsesFma() : null,
};
if (threaded) {
  result.threads = {
    threads: productThreads, medianMs: median(threaded.ms), medianCpuMs: median(threaded.cpu), gflops: flopsPerStep / 1e9 / (median(threaded.ms) / 1000),
    stepsMs: threaded.ms.map(Math.round), speedup: median(base.ms) / median(threaded.ms),
  };
}
const prev = single.previous;
if (prev) {
  result.previous = { workers: 1, medianMs: median(prev.ms), medianCpuMs: median(prev.cpu), gflops: flopsPerStep / 1e9 / (median(prev.ms) / 1000), stepsMs: prev.ms.map(Math.round), firstLoss: prev.loss[0] };
  result.speedupVsPrevious = median(prev.ms) / median(base.ms);
  result.cpuSpeedupVsPrevious = median(prev.cpu) / median(base.cpu);
}
let best = Math.min(median(base.ms), threaded ? median(threaded.ms) : Infinity);
if (workers > 1) {
  const { DataParallelTrainer } = await import('../worldmodel/fm/data-parallel.js');
  /** Starts a trainer; `previous`: its workers start with the heap kernels off (they read PPUU_STOCK_KERNELS). */
  const start = async (previous: boolean) => {
    const model = ForwardModel.create(cfg, kind, 1);
    const adam = new Adam(model.weights, { learningRate: cfg.learningRate });
    const env = process.env.PPUU_STOCK_KERNELS;
    if (previous) process.env.PPUU_STOCK_KERNELS = [env, 'heap'].filter(Boolean).join(',');
    try {
      return await DataParallelTrainer.start(model, adam, { workers, seed: 1, backend: backendFlag });
    } finally {
      if (env === undefined) delete process.env.PPUU_STOCK_KERNELS;
      else process.env.PPUU_STOCK_KERNELS = env;
      model.dispose();
      adam.dispose();
    }
  };
  // Like the single-thread steps: the previous kernels' trainer takes turns with the current one.
  const trainers = [...(compare ? [{ name: 'previous', dp: await start(true) }] : []), { name: 'current', dp: await start(false) }].map((t) => ({
    ...t, ms: [] as number[], cpu: [] as number[], loss: [] as number[],
  }));
  try {
    for (let i = 0; i < batches.length; i++) {
      for (const t of trainers) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const s = await t.dp.step(batches[i]!, i);
        const dt = performance.now() - t0;
        t.loss.push(s.total);
        if (i >= warmup) {
          t.ms.push(dt);
          t.cpu.push(cpuMs(c0));
        }
        log(`${t.name} ${workers} workers step ${i}${i < warmup ? ' (warm-up)' : ''}: ${dt.toFixed(0)} ms, loss ${s.total.toFixed(4)}`);
      }
    }
  } finally {
    for (const t of trainers) await t.dp.close();
  }
  const cur = trainers[trainers.length - 1]!;
  const { ms, cpu, loss } = cur;
  result.dataParallel = { workers, medianMs: median(ms), medianCpuMs: median(cpu), gflops: flopsPerStep / 1e9 / (median(ms) / 1000), stepsMs: ms.map(Math.round), speedup: median(base.ms) / median(ms), firstLoss: loss[0], baselineFirstLoss: base.loss[0] };
  const prevDp = trainers.length > 1 ? trainers[0]! : null;
  if (prevDp) {
    result.previousDataParallel = { workers, medianMs: median(prevDp.ms), medianCpuMs: median(prevDp.cpu), stepsMs: prevDp.ms.map(Math.round), firstLoss: prevDp.loss[0] };
    result.dataParallelSpeedupVsPrevious = median(prevDp.ms) / median(ms);
  }
  best = Math.min(best, median(ms));
}
result.medianMs = best;
result.peakRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
process.stdout.write(JSON.stringify(result) + '\n');
