/**
 * Data-parallel training over worker threads, each with its own tfjs backend (wasm runs one
 * thread per backend in Node, so this is how both cores work on one step). Per step:
 *   1. this thread cuts the batch into one share per worker and posts the shares;
 *   2. each worker computes its share's gradients into its slot of a SharedArrayBuffer;
 *   3. (barrier) each worker averages one range of the parameters over the slots, weighted by
 *      rows, into the shared average, with that range's sum of squares;
 *   4. (barrier) every worker reads the global norm and loss, skips a non-finite step or applies
 *      the same clipped Adam update from the shared average to its own copy of the weights.
 * The copies stay identical without ever being sent. Batch k gets the same z-dropout coins as in
 * single-thread training; dropout masks and latent samples differ per share, so a curve is
 * reproducible for a given number of workers.
 */
import * as tf from '@tensorflow/tfjs';
import type { Worker } from 'node:worker_threads';
import { UserError } from '../../common/errors.js';
import type { FmConfig, FmKind } from './config.js';
import type { ForwardModel } from './model.js';
import type { Adam } from './adam.js';
import { startWorker } from '../../common/locate.js';
import { batchBuffers, sliceBatch, type WindowBatch } from './windows.js';
import type { StepStats } from './train-step.js';
import type { FmHparams, TrainState } from './checkpoint.js';

export interface LayoutEntry {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** Per-worker values in the shared `info` array. */
export const INFO = { rows: 0, total: 1, image: 2, state: 3, kl: 4, normSq: 5, zDropped: 6, zDraws: 7 } as const;
export const INFO_STRIDE = 8;

export interface DpShared {
  /** (workers + 1) slots of `total` floats: one per worker, then the average. */
  grads: SharedArrayBuffer;
  /** Int32 [count, generation] of the barrier. */
  barrier: SharedArrayBuffer;
  /** Float64 [workers * INFO_STRIDE]. */
  info: SharedArrayBuffer;
  /** Int32 [workers * tensors]: 1 where that worker has a gradient for that tensor. */
  present: SharedArrayBuffer;
}

export interface DpInit {
  config: FmConfig;
  kind: FmKind;
  seed: number;
  shard: number;
  workers: number;
  backend?: string;
  layout: LayoutEntry[];
  total: number;
  shared: DpShared;
  weights: Float32Array;
  adam: { m: Float32Array; v: Float32Array; t: number } | null;
}

export type DpRequest = { type: 'step'; step: number; batch: WindowBatch } | { type: 'save'; dir: string; hparams: FmHparams; state: TrainState };

export type DpReply =
  | { type: 'ready'; backend: string }
  | { type: 'step'; step: number; stats: StepStats }
  | { type: 'saved' }
  | { type: 'error'; message: string; user: boolean };

/** Flattens named tensors into one Float32Array in layout order (reads the values: call outside tidy). */
function flatten(layout: LayoutEntry[], total: number, get: (name: string) => tf.Tensor): Float32Array {
  const out = new Float32Array(total);
  for (const l of layout) out.set(get(l.name).dataSync() as Float32Array, l.offset);
  return out;
}

/** Waits until all `n` threads have called it (generation barrier on Atomics; worker threads only). */
export function barrier(ctl: Int32Array, n: number): void {
  const gen = Atomics.load(ctl, 1);
  if (Atomics.add(ctl, 0, 1) === n - 1) {
    Atomics.store(ctl, 0, 0);
    Atomics.add(ctl, 1, 1);
    Atomics.notify(ctl, 1);
  } else {
    while (Atomics.load(ctl, 1) === gen) Atomics.wait(ctl, 1, gen);
  }
}

class Channel {
  private queue: DpReply[] = [];
  private waiting: Array<(r: DpReply) => void> = [];
  constructor(readonly worker: Worker) {
    const push = (r: DpReply) => {
      const w = this.waiting.shift();
      if (w) w(r);
      else this.queue.push(r);
    };
    worker.on('message', push);
    worker.on('error', (e) => push({ type: 'error', message: e.message, user: false }));
  }
  async next<T extends DpReply['type']>(type: T): Promise<Extract<DpReply, { type: T }>> {
    const r = this.queue.shift() ?? (await new Promise<DpReply>((res) => this.waiting.push(res)));
    if (r.type === 'error') throw r.user ? new UserError(r.message) : new Error(`data-parallel worker: ${r.message}`);
    if (r.type !== type) throw new Error(`data-parallel worker: expected '${type}', got '${r.type}'`);
    return r as Extract<DpReply, { type: T }>;
  }
}

export class DataParallelTrainer {
  private constructor(private readonly channels: Channel[]) {}

  /** Starts `workers` threads holding copies of `model` and `adam` (whose state is copied, not moved). */
  static async start(model: ForwardModel, adam: Adam, opts: { workers: number; seed: number; backend?: string }): Promise<DataParallelTrainer> {
    const layout: LayoutEntry[] = [];
    let total = 0;
    for (const s of model.specs) {
      const size = s.shape.reduce((a, b) => a * b, 1);
      layout.push({ name: s.name, shape: s.shape, offset: total, size });
      total += size;
    }
    const weights = flatten(layout, total, (n) => model.weights[n]!);
    const st = adam.stateTensors();
    const adamState = adam.t > 0 ? { m: flatten(layout, total, (n) => st[`m.${n}`]!), v: flatten(layout, total, (n) => st[`v.${n}`]!), t: adam.t } : null;
    const W = opts.workers;
    const shared: DpShared = {
      grads: new SharedArrayBuffer((W + 1) * total * 4),
      barrier: new SharedArrayBuffer(8),
      info: new SharedArrayBuffer(W * INFO_STRIDE * 8),
      present: new SharedArrayBuffer(W * layout.length * 4),
    };
    const channels: Channel[] = [];
    for (let w = 0; w < W; w++) {
      const init: DpInit = { config: model.cfg, kind: model.kind, seed: opts.seed, shard: w, workers: W, backend: opts.backend, layout, total, shared, weights, adam: adamState };
      channels.push(new Channel(startWorker('fm-dp', { init })));
    }
    const t = new DataParallelTrainer(channels);
    try {
      for (const c of channels) await c.next('ready');
    } catch (e) {
      await t.close();
      throw e;
    }
    return t;
  }

  get workers(): number {
    return this.channels.length;
  }

  /** One update on `batch` (at least one row per worker). */
  async step(batch: WindowBatch, step: number): Promise<StepStats> {
    const W = this.channels.length;
    if (batch.batch < W) throw new UserError(`field batch: ${W} data-parallel workers need a batch of at least ${W}, got ${batch.batch}`);
    for (let w = 0; w < W; w++) {
      const share = sliceBatch(batch, Math.floor((w * batch.batch) / W), Math.floor(((w + 1) * batch.batch) / W));
      this.channels[w]!.worker.postMessage({ type: 'step', step, batch: share } satisfies DpRequest, batchBuffers(share));
    }
    let stats: StepStats | null = null;
    for (let w = 0; w < W; w++) {
      const r = await this.channels[w]!.next('step');
      stats ??= r.stats;
    }
    return stats!;
  }

  /** Writes a checkpoint from worker 0's copy. */
  async save(dir: string, hparams: FmHparams, state: TrainState): Promise<void> {
    this.channels[0]!.worker.postMessage({ type: 'save', dir, hparams, state } satisfies DpRequest);
    await this.channels[0]!.next('saved');
  }

  async close(): Promise<void> {
    await Promise.all(this.channels.map((c) => c.worker.terminate()));
  }
}
