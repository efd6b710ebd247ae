/**
 * Helper threads for this project's matrix products on a shared wasm heap (shared-heap.ts): each
 * helper instantiates the products module (gemm-wasm.ts) on the same memory. A dispatch is a
 * list of tasks, each a sequence of calls writing rows no other task writes (a row chunk of a
 * product with its whole reduction); the calling thread and the helpers take tasks one at a time
 * from a shared counter until none is left, so a helper slowed by other processes on its core
 * simply takes fewer (a fixed split would make the caller wait for it).
 *
 * Shared control block (Int32): [seq, ticket, status, tasks completed], then per task [first
 * call, end call], then call records of JOB_INTS (function index, argument count, arguments).
 * The ticket word packs the round (8 bits), the round's task count (11 bits) and the next task
 * index (13 bits), so that one Atomics.add hands out a task together with the round it belongs
 * to: a helper that wakes late can never take a task of a finished round, nor miss one of the
 * current round. The caller writes the tables, publishes the ticket, bumps seq and wakes the
 * helpers; every thread takes tasks and counts those it finished; the caller returns once all
 * are counted, without waiting for helpers that took none (a helper whose core is busy
 * elsewhere may not even have woken up). A trap sets status. Helpers spin briefly before
 * sleeping (products follow each other within microseconds) and are unref'd, so they never keep
 * the process alive.
 *
 * Threads: PPUU_THREADS if set (1 turns the helpers off), else the machine's cores; helpers are
 * started only on the main thread (data-parallel workers already use the other cores).
 */
import { Worker, isMainThread } from 'node:worker_threads';
import { availableParallelism, cpus } from 'node:os';

/** A call of an exported function of the products module, by index into its names. */
export interface PoolCall {
  fn: number;
  args: number[];
}

/** Ints per call record: function index, argument count, up to 12 arguments. */
export const JOB_INTS = 14;
/** Calls and tasks one dispatch holds; larger dispatches run in several rounds. */
const MAX_CALLS = 4096;
const MAX_TASKS = 2047;
const MAX_HELPERS = 63;
/** Header slots: seq, ticket, status, completed. */
const [SEQ, TICKET, STATUS, COMPLETED] = [0, 1, 2, 3];
const HEADER = 8;
const TASKS_AT = HEADER;
const CALLS_AT = TASKS_AT + 2 * MAX_TASKS;
/** How long the caller waits for a helper before giving up (a helper that died). */
const JOIN_TIMEOUT_MS = 10 * 60 * 1000;

/** The helper's program (CommonJS, run with eval: no file to ship). */
const HELPER = `
const { workerData } = require('node:worker_threads');
const { module, memory, ctl: ctlBuffer, names, spin } = workerData;
const ex = new WebAssembly.Instance(module, { env: { memory } }).exports;
const fns = names.map((n) => ex[n]);
const ctl = new Int32Array(ctlBuffer);
let seen = 0;
for (;;) {
  let seq = Atomics.load(ctl, ${SEQ});
  for (let i = 0; seq === seen && i < spin; i++) seq = Atomics.load(ctl, ${SEQ});
  if (seq === seen) {
    Atomics.wait(ctl, ${SEQ}, seen);
    continue;
  }
  seen = seq;
  for (;;) {
    const v = Atomics.add(ctl, ${TICKET}, 1) >>> 0;
    const t = v & 0x1fff;
    if (v >>> 24 === 0 || t >= ((v >>> 13) & 0x7ff)) break;
    try {
      const end = ctl[${TASKS_AT} + 2 * t + 1];
      for (let c = ctl[${TASKS_AT} + 2 * t]; c < end; c++) {
        const o = ${CALLS_AT} + c * ${JOB_INTS};
        // Every call gets twelve arguments; a function ignores those past its own.
        fns[ctl[o]](ctl[o + 2], ctl[o + 3], ctl[o + 4], ctl[o + 5], ctl[o + 6], ctl[o + 7], ctl[o + 8], ctl[o + 9], ctl[o + 10], ctl[o + 11], ctl[o + 12], ctl[o + 13]);
      }
    } catch (e) {
      Atomics.store(ctl, ${STATUS}, 1);
    }
    Atomics.add(ctl, ${COMPLETED}, 1);
    Atomics.notify(ctl, ${COMPLETED});
  }
}
`;

let helpersOn = true;

/** Lets products use the helper threads (default) or keeps them on the calling thread (A/B runs). */
export function setHelperThreadsEnabled(on: boolean): void {
  helpersOn = on;
}

export function helperThreadsEnabled(): boolean {
  return helpersOn;
}

/** Threads to use (including the calling one). */
export function poolThreads(): number {
  const env = typeof process !== 'undefined' ? process.env.PPUU_THREADS : undefined;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    return Number.isInteger(n) && n >= 1 ? n : 1;
  }
  return typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
}

/** Rounds over which the calling thread's waiting is averaged. */
const WINDOW = 16;
/** Share of a round's time the calling thread may spend waiting for helpers before they rest. */
const MAX_WAIT_SHARE = 0.35;
/** Dispatches the calling thread then runs alone before trying the helpers again. */
const REST_DISPATCHES = 256;

export class GemmPool {
  private seq = 0;
  private round = 0;
  private resting = 0;
  /** Time spent in the last rounds, and the part of it the calling thread waited for helpers. */
  private windowMs = 0;
  private waitedMs = 0;
  private windowRounds = 0;

  private constructor(
    private readonly workers: Worker[],
    private readonly ctl: Int32Array,
    private readonly names: readonly string[],
  ) {}

  /**
   * Helpers for `memory` (shared) running `module` (the products module compiled for a shared
   * memory, exporting `names`); null when there is no other thread to use.
   */
  static start(module: WebAssembly.Module, memory: WebAssembly.Memory, names: readonly string[]): GemmPool | null {
    const n = Math.min(MAX_HELPERS, poolThreads() - 1);
    if (n < 1 || !isMainThread) return null;
    const ctlBuffer = new SharedArrayBuffer((CALLS_AT + MAX_CALLS * JOB_INTS) * 4);
    const workers: Worker[] = [];
    for (let i = 0; i < n; i++) {
      const worker = new Worker(HELPER, { eval: true, workerData: { module, memory, ctl: ctlBuffer, names: [...names], spin: 2500 } });
      worker.unref();
      workers.push(worker);
    }
    return new GemmPool(workers, new Int32Array(ctlBuffer), names);
  }

  /** Threads a dispatch runs on (the helpers and the calling thread). */
  get threads(): number {
    return this.workers.length + 1;
  }

  /**
   * Whether dispatches should use the helpers now. When other processes keep the helpers' cores
   * busy, a helper is often descheduled in the middle of a task and the calling thread waits for
   * it; when that waiting exceeds MAX_WAIT_SHARE of the time over WINDOW rounds, the calling
   * thread works alone for REST_DISPATCHES dispatches, then tries again.
   */
  available(): boolean {
    if (this.resting > 0) {
      this.resting--;
      return false;
    }
    return true;
  }

  /**
   * Runs every task (a list of calls; tasks write disjoint memory, the calls of a task run in
   * order) on this thread (through `local`, one call at a time) and the helpers; returns when
   * all are done. A trap in a helper is rethrown here.
   */
  run(tasks: PoolCall[][], local: (call: PoolCall) => void): void {
    let i = 0;
    while (i < tasks.length) {
      // One round: as many whole tasks as the control block holds.
      const round: PoolCall[][] = [];
      let calls = 0;
      while (i < tasks.length && round.length < MAX_TASKS && (round.length === 0 || calls + tasks[i]!.length <= MAX_CALLS)) {
        calls += tasks[i]!.length;
        round.push(tasks[i++]!);
      }
      if (calls > MAX_CALLS) {
        // A single task too long for the block: run it here.
        for (const c of round[0]!) local(c);
        continue;
      }
      this.runRound(round, local);
    }
  }

  private runRound(tasks: PoolCall[][], local: (call: PoolCall) => void): void {
    const ctl = this.ctl;
    const start = performance.now();
    let c = 0;
    tasks.forEach((task, t) => {
      ctl[TASKS_AT + 2 * t] = c;
      for (const call of task) {
        const o = CALLS_AT + c * JOB_INTS;
        if (call.args.length > JOB_INTS - 2) throw new Error(`gemm pool: ${this.names[call.fn]} has too many arguments`);
        ctl[o] = call.fn;
        ctl[o + 1] = call.args.length;
        for (let a = 0; a < call.args.length; a++) ctl[o + 2 + a] = call.args[a]!;
        c++;
      }
      ctl[TASKS_AT + 2 * t + 1] = c;
    });
    Atomics.store(ctl, STATUS, 0);
    Atomics.store(ctl, COMPLETED, 0);
    this.round = (this.round % 255) + 1;
    Atomics.store(ctl, TICKET, ((this.round << 24) | (tasks.length << 13)) | 0);
    this.seq = (this.seq % 0x3fffffff) + 1;
    Atomics.store(ctl, SEQ, this.seq);
    Atomics.notify(ctl, SEQ);
    // Take tasks here too, reading them from our own lists.
    for (;;) {
      const t = (Atomics.add(ctl, TICKET, 1) >>> 0) & 0x1fff;
      if (t >= tasks.length) break;
      for (const call of tasks[t]!) local(call);
      Atomics.add(ctl, COMPLETED, 1);
    }
    const ownDone = performance.now();
    // Wait for the tasks helpers took (not for helpers that took none).
    const t0 = Date.now();
    for (;;) {
      const done = Atomics.load(ctl, COMPLETED);
      if (done >= tasks.length) break;
      if (Date.now() - t0 > JOIN_TIMEOUT_MS) throw new Error('gemm pool: a helper thread did not answer');
      Atomics.wait(ctl, COMPLETED, done, 1000);
    }
    const end = performance.now();
    this.windowMs += end - start;
    this.waitedMs += end - ownDone;
    if (++this.windowRounds >= WINDOW) {
      if (this.waitedMs > MAX_WAIT_SHARE * this.windowMs) this.resting = REST_DISPATCHES;
      this.windowMs = this.waitedMs = this.windowRounds = 0;
    }
    if (Atomics.load(ctl, STATUS) !== 0) throw new Error('gemm pool: a product trapped in a helper thread');
  }
}
