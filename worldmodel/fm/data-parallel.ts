/**
 * Data-parallel training over worker threads, each with its own tfjs backend (wasm runs one
 * thread per backend in Node, so this is how both cores work on one step):
 *   1. the batch is cut into one share per worker;
 *   2. each worker computes its share's gradients into its slot of a SharedArrayBuffer;
 *   3. this thread averages the slots (weighted by rows) into the shared average slot, computes
 *      the global gradient norm and checks the loss and norm are finite;
 *   4. each worker applies the same clipped Adam update to its copy of the weights.
 * Batch k gets the same z-dropout coins as in single-thread training; dropout masks and latent
 * samples differ per share, so the loss curve is reproducible for a given worker count.
 */
import * as tf from '@tensorflow/tfjs';
import type { Worker } from 'node:worker_threads';
import { UserError } from '../../common/errors.js';
import type { FmConfig, FmKind } from './config.js';
import type { ForwardModel } from './model.js';
import type { Adam } from './adam.js';
import { startTsWorker } from './prefetch.js';
import { batchBuffers, sliceBatch, type WindowBatch } from './windows.js';
import type { StepStats } from './train-step.js';
import type { FmHparams, TrainState } from './checkpoint.js';

export interface LayoutEntry {
  name: string;
  shape: number[];
  offset: number;
  size: number;
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
  /** (workers + 1) slots of `total` floats: one per worker, then the average. */
  shared: SharedArrayBuffer;
  weights: Float32Array;
  adam: { m: Float32Array; v: Float32Array; t: number } | null;
}

export type DpRequest =
  | { type: 'grads'; step: number; batch: WindowBatch }
  | { type: 'apply'; scale: number; names: string[] }
  | { type: 'save'; dir: string; hparams: FmHparams; state: TrainState }
  | { type: 'close' };

export type DpReply =
  | { type: 'ready'; backend: string }
  | { type: 'grads'; step: number; shard: number; rows: number; parts: number[]; present: string[]; zDropped: number; zDraws: number }
  | { type: 'applied' }
  | { type: 'saved' }
  | { type: 'closed' }
  | { type: 'error'; message: string; user: boolean };

/** Flattens named tensors into one Float32Array in layout order (reads the values: call outside tidy). */
function flatten(layout: LayoutEntry[], total: number, get: (name: string) => tf.Tensor): Float32Array {
  const out = new Float32Array(total);
  for (const l of layout) out.set(get(l.name).dataSync() as Float32Array, l.offset);
  return out;
}

class Channel {
  private queue: DpReply[] = [];
  private waiting: Array<(r: DpReply) => void> = [];
  constructor(readonly worker: Worker) {
    worker.on('message', (r: DpReply) => {
      const w = this.waiting.shift();
      if (w) w(r);
      else this.queue.push(r);
    });
    worker.on('error', (e) => {
      const r: DpReply = { type: 'error', message: e.message, user: false };
      const w = this.waiting.shift();
      if (w) w(r);
      else this.queue.push(r);
    });
  }
  async next(): Promise<DpReply> {
    const r = this.queue.shift() ?? (await new Promise<DpReply>((res) => this.waiting.push(res)));
    if (r.type === 'error') throw r.user ? new UserError(r.message) : new Error(`data-parallel worker: ${r.message}`);
    return r;
  }
}

export class DataParallelTrainer {
  /** Workers whose 'applied' reply for the last update has not been read yet. */
  private pendingApply: boolean[];

  private constructor(
    private readonly channels: Channel[],
    private readonly shared: SharedArrayBuffer,
    private readonly total: number,
    private readonly layout: LayoutEntry[],
    private readonly clip: number,
  ) {
    this.pendingApply = channels.map(() => false);
  }

  private async expect(w: number, type: DpReply['type']): Promise<DpReply> {
    const r = await this.channels[w]!.next();
    if (r.type !== type) throw new Error(`data-parallel worker ${w}: expected '${type}', got '${r.type}'`);
    return r;
  }

  /** Waits until every worker has applied the last update. */
  async sync(): Promise<void> {
    for (let w = 0; w < this.channels.length; w++) {
      if (this.pendingApply[w]) {
        await this.expect(w, 'applied');
        this.pendingApply[w] = false;
      }
    }
  }

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
    const shared = new SharedArrayBuffer((opts.workers + 1) * total * 4);
    const channels: Channel[] = [];
    for (let w = 0; w < opts.workers; w++) {
      const init: DpInit = {
        config: model.cfg, kind: model.kind, seed: opts.seed, shard: w, workers: opts.workers, backend: opts.backend,
        layout, total, shared, weights, adam: adamState,
      };
      channels.push(new Channel(startTsWorker(new URL('./dp-worker.ts', import.meta.url), { init })));
    }
    const t = new DataParallelTrainer(channels, shared, total, layout, model.cfg.gradClip);
    try {
      for (const c of channels) await c.next();
    } catch (e) {
      await t.close();
      throw e;
    }
    return t;
  }

  async step(batch: WindowBatch, step: number): Promise<StepStats> {
    const W = this.channels.length;
    const per = Math.ceil(batch.batch / W);
    const shares: WindowBatch[] = [];
    for (let w = 0; w < W; w++) {
      const from = Math.min(batch.batch, w * per);
      const to = Math.min(batch.batch, from + per);
      if (to > from) shares.push(sliceBatch(batch, from, to));
    }
    // Workers take messages in order: the previous update is applied before these gradients.
    shares.forEach((s, w) => this.channels[w]!.worker.postMessage({ type: 'grads', step, batch: s } satisfies DpRequest, batchBuffers(s)));
    await this.sync();
    const replies: Array<Extract<DpReply, { type: 'grads' }>> = [];
    for (let w = 0; w < shares.length; w++) replies.push((await this.expect(w, 'grads')) as Extract<DpReply, { type: 'grads' }>);
    // Weighted average of the shares' gradients and losses (each is a mean over its rows).
    const N = batch.batch;
    const avg = new Float32Array(this.shared, W * this.total * 4, this.total);
    const slots = replies.map((_, w) => new Float32Array(this.shared, w * this.total * 4, this.total));
    const weights = replies.map((r) => r.rows / N);
    let sq = 0;
    if (slots.length === 2) {
      const [a, b] = slots as [Float32Array, Float32Array];
      const [wa, wb] = weights as [number, number];
      for (let i = 0; i < this.total; i++) {
        const v = wa * a[i]! + wb * b[i]!;
        avg[i] = v;
        sq += v * v;
      }
    } else {
      for (let i = 0; i < this.total; i++) {
        let v = 0;
        for (let w = 0; w < slots.length; w++) v += weights[w]! * slots[w]![i]!;
        avg[i] = v;
        sq += v * v;
      }
    }
    const parts = [0, 1, 2, 3].map((j) => replies.reduce((s, r, w) => s + weights[w]! * r.parts[j]!, 0));
    const gradNorm = Math.sqrt(sq);
    const skipped = !(Number.isFinite(parts[0]!) && Number.isFinite(gradNorm));
    if (!skipped) {
      const names = [...new Set(replies.flatMap((r) => r.present))];
      const scale = gradNorm > this.clip ? this.clip / (gradNorm + 1e-6) : 1;
      this.channels.forEach((c, w) => {
        c.worker.postMessage({ type: 'apply', scale, names } satisfies DpRequest);
        this.pendingApply[w] = true;
      });
    }
    return {
      total: parts[0]!, image: parts[1]!, state: parts[2]!, kl: parts[3]!, gradNorm, skipped,
      zDropped: replies[0]!.zDropped, zDraws: replies[0]!.zDraws,
    };
  }

  /** Writes a checkpoint from worker 0's copy (after every update sent so far). */
  async save(dir: string, hparams: FmHparams, state: TrainState): Promise<void> {
    await this.sync();
    this.channels[0]!.worker.postMessage({ type: 'save', dir, hparams, state } satisfies DpRequest);
    await this.expect(0, 'saved');
  }

  async close(): Promise<void> {
    await Promise.all(this.channels.map((c) => c.worker.terminate()));
  }

  get layoutNames(): string[] {
    return this.layout.map((l) => l.name);
  }
}
