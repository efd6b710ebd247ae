/**
 * The training loop that `train fm` (worldmodel/fm/train.ts) and `train policy`
 * (policy/mpur.ts) share: one copy of the logic every run folder depends on (run-folder.ts has
 * the rules of the folder itself).
 *
 * What it owns:
 * - the step loop from the start step (0, or a resumed run's checkpoint step) up to the total;
 * - SIGINT / SIGTERM (common/interrupt.ts): the current step finishes, a checkpoint of the step
 *   reached is saved (unless one exists for that very step) and `Interrupted` is thrown;
 * - counting the skipped (non-finite) steps, on top of a resumed run's count;
 * - the per-step JSON-lines log OUT/log.jsonl: `{ step, ...fields, ms, stepsPerS }` a line, where
 *   `step` counts the updates done, `ms` times the update alone (not the batch it waited for) and
 *   `stepsPerS` is this run's rate so far; a new run starts it empty (`newLog`), a resumed one
 *   drops what a crashed run wrote after its checkpoint (`truncateLog`);
 * - the progress callback, after the log line of each step;
 * - the checkpoint cadence: every `checkpointEvery` updates, after the last one, and at the end
 *   if no checkpoint exists yet, never twice for the same step;
 * - closing the caller's loaders (`close`) however the loop ends;
 * - the summary numbers: first and last loss, the mean loss of the first and the last 10 % of the
 *   run's non-skipped steps (at least one each), seconds per step.
 *
 * What the caller supplies: `next(k)`, the input of step k (a batch; not timed); `step(input, k)`,
 * one update returning its loss, whether it was skipped and the fields it logs; `save(step,
 * skipped)`, a checkpoint at `step` updates; the log file; the file whose presence means a
 * checkpoint (and the folder named in the interrupt message); the start step with its skipped
 * count; the total steps; checkpointEvery; callbacks. Models, optimisers, noise and what a step
 * computes stay with the trainer. `openBatchLoader` builds the batches both trainers read.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { interruptRequested, Interrupted, pollInterrupts, yieldToSignals } from '../common/interrupt.js';
import { SyncBatches, type BatchLoader, type BatchSpec } from './fm/batches.js';
import { Prefetcher } from './fm/prefetch.js';
import type { EpisodeSource } from './fm/windows.js';

/** What one update reports: the loss it adds to the summary, whether it was skipped, what it logs. */
export interface LoopStep<F extends object> {
  loss: number;
  skipped: boolean;
  /** Logged between `step` and `ms`, in this order. */
  fields: F;
}

export interface StepTiming {
  step: number;
  ms: number;
  stepsPerS: number;
}

export interface TrainLoopOptions<I, F extends object> {
  /** Updates already done (a resumed run's checkpoint step, else 0). */
  startStep: number;
  /** Skipped steps among those (from the checkpoint). */
  skipped: number;
  /** Total updates; a run resumed at or past it runs none. */
  steps: number;
  /** Default 1000. */
  checkpointEvery?: number;
  logFile: string;
  /** The file whose presence means a checkpoint exists. */
  checkpointFile: string;
  /** The folder named in the interrupt message. */
  checkpointDir: string;
  /** The input of step k (a batch), fetched before the update's timing starts. */
  next(k: number): Promise<I>;
  /** Update k. */
  step(input: I, k: number): Promise<LoopStep<F>>;
  /** Writes a checkpoint at `step` updates with `skipped` skipped steps. */
  save(step: number, skipped: number): Promise<void>;
  /** Releases the loaders; runs however the loop ends. */
  close?: () => Promise<void>;
  onStep?: (entry: StepTiming & F) => void;
}

/** The loop's part of a trainer's summary, in the order the summaries print it. */
export interface LoopSummary {
  /** The step the run ended at: max(steps, startStep). */
  steps: number;
  skipped: number;
  firstLoss: number | null;
  lastLoss: number | null;
  /** Mean loss over the first and the last 10 % of this run's non-skipped steps (at least one each). */
  meanLossHead: number | null;
  meanLossTail: number | null;
  secondsPerStep: number;
}

function mean(a: number[]): number | null {
  return a.length === 0 ? null : a.reduce((s, x) => s + x, 0) / a.length;
}

/** Runs the steps startStep .. steps - 1 (see the top of this file). */
export async function runTrainLoop<I, F extends object>(o: TrainLoopOptions<I, F>): Promise<LoopSummary> {
  const every = o.checkpointEvery ?? 1000;
  const final = Math.max(o.steps, o.startStep);
  const losses: number[] = [];
  let skipped = o.skipped;
  const t0 = performance.now();
  let lastSaved = o.startStep;
  const release = pollInterrupts('stopping after the current step and saving a checkpoint');
  try {
    for (let k = o.startStep; k < o.steps; k++) {
      // A step's awaits can all settle as microtasks (the wasm backend's reads do), which never
      // lets the event loop deliver a signal: give it a turn before each step.
      await yieldToSignals();
      const signal = interruptRequested();
      if (signal) {
        if (k !== lastSaved || !existsSync(o.checkpointFile)) await o.save(k, skipped);
        throw new Interrupted(signal, `checkpoint at step ${k} saved in ${o.checkpointDir}; continue with --resume`);
      }
      const input = await o.next(k);
      const ts = performance.now();
      const s = await o.step(input, k);
      const ms = performance.now() - ts;
      if (s.skipped) skipped++;
      else losses.push(s.loss);
      const done = k + 1;
      const entry = { step: done, ...s.fields, ms, stepsPerS: (done - o.startStep) / ((performance.now() - t0) / 1000) } as StepTiming & F;
      appendFileSync(o.logFile, JSON.stringify(entry) + '\n');
      o.onStep?.(entry);
      if (done % every === 0 || done === o.steps) {
        await o.save(done, skipped);
        lastSaved = done;
      }
    }
    if (lastSaved !== final || !existsSync(o.checkpointFile)) await o.save(final, skipped);
  } finally {
    release();
    await o.close?.();
  }
  const ran = Math.max(0, o.steps - o.startStep);
  const tenth = Math.max(1, Math.ceil(losses.length / 10));
  return {
    steps: final, skipped,
    firstLoss: losses[0] ?? null, lastLoss: losses[losses.length - 1] ?? null,
    meanLossHead: mean(losses.slice(0, tenth)), meanLossTail: mean(losses.slice(-tenth)),
    secondsPerStep: ran > 0 ? (performance.now() - t0) / 1000 / ran : 0,
  };
}

/** Starts the empty log of a new run (creating its folder). */
export function newLog(file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileAtomic(file, '');
}

/** Keeps the log lines of steps <= `step` (drops what a crashed run wrote after its checkpoint). */
export function truncateLog(file: string, step: number): void {
  if (!existsSync(file)) return;
  const keep = readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => {
      try {
        return l.trim() !== '' && (JSON.parse(l) as { step: number }).step <= step;
      } catch {
        return false;
      }
    });
  writeFileAtomic(file, keep.map((l) => l + '\n').join(''));
}

/** The training batches: built in a worker thread ahead of the compute, or on this thread from `source` when `prefetch` is false. */
export function openBatchLoader(dataset: string, source: EpisodeSource, spec: BatchSpec, prefetch?: boolean): BatchLoader {
  return prefetch === false ? new SyncBatches(source, spec) : new Prefetcher(dataset, spec);
}
