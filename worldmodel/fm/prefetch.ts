/**
 * Prefetcher: a worker thread builds the next `depth` training batches while the compute runs,
 * so reading episodes and normalising images never blocks a training step.
 */
import type { Worker } from 'node:worker_threads';
import { UserError } from '../../common/errors.js';
import { startWorker } from '../../common/locate.js';
import type { BatchLoader, BatchSpec } from './batches.js';
import { checkWindowBatch, type WindowBatch } from './windows.js';

type Msg =
  | { type: 'ready' }
  | { type: 'batch'; step: number; batch: WindowBatch }
  | { type: 'error'; step: number; message: string; user: boolean };

export class Prefetcher implements BatchLoader {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (b: WindowBatch) => void; reject: (e: Error) => void }>();
  private readonly done = new Map<number, WindowBatch>();
  private failure: Error | null = null;
  private requestedUpTo = -1;

  constructor(
    datasetDir: string,
    spec: BatchSpec,
    private readonly depth = 2,
    cacheBytes = 2 * 1024 ** 3,
  ) {
    this.worker = startWorker('fm-loader', { init: { datasetDir, spec, cacheBytes } });
    this.worker.on('message', (m: Msg) => this.onMessage(m));
    this.worker.on('error', (e) => this.fail(e));
  }

  private onMessage(m: Msg): void {
    if (m.type === 'ready') return;
    if (m.type === 'error') return this.fail(m.user ? new UserError(m.message) : new Error(m.message));
    let batch: WindowBatch;
    try {
      batch = checkWindowBatch(m.batch, `batch of step ${m.step} from the loader thread`);
    } catch (e) {
      return this.fail(e as Error);
    }
    const p = this.pending.get(m.step);
    if (p) {
      this.pending.delete(m.step);
      p.resolve(batch);
    } else this.done.set(m.step, batch);
  }

  private fail(e: Error): void {
    this.failure = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private request(upTo: number): void {
    for (let s = Math.max(this.requestedUpTo + 1, 0); s <= upTo; s++) this.worker.postMessage({ type: 'want', step: s });
    this.requestedUpTo = Math.max(this.requestedUpTo, upTo);
  }

  async next(step: number): Promise<WindowBatch> {
    if (this.failure) throw this.failure;
    if (this.requestedUpTo < step) this.requestedUpTo = step - 1; // skip steps never asked for (resume)
    this.request(step + this.depth);
    const ready = this.done.get(step);
    if (ready) {
      this.done.delete(step);
      return ready;
    }
    return new Promise((resolve, reject) => this.pending.set(step, { resolve, reject }));
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
