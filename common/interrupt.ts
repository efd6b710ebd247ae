/**
 * Ctrl-C (SIGINT) and SIGTERM for the `ppuu` process (installed by bin/ppuu.js only, so tests
 * that call the CLI in-process keep the default handling).
 *
 * - While a loop that polls is running (training, pipeline steps: `pollInterrupts()`), the first
 *   signal only sets a flag (`interruptRequested()`); the loop finishes its current step, saves
 *   what it must (a checkpoint) and throws `Interrupted` (exit code 130). Signal listeners
 *   (`onInterruptSignal`) hear it too (the pipeline forwards it to its running step).
 * - Otherwise, and on a second signal, the process stops at once: the registered clean-ups run
 *   (`onAbort`), the temporary files and folders in use (`trackTemp`, e.g. the `.NAME.tmp-XXXX/`
 *   folders of common/atomic.ts) are removed and the process exits with code 130.
 *
 * Work that holds the thread for long stretches yields now and then (`yieldToSignals`) so that a
 * signal is seen within a fraction of a second.
 */
import { rmSync } from 'node:fs';
import { UserError } from './errors.js';

export const INTERRUPT_EXIT_CODE = 130;

/** A run stopped by a signal after saving its state; the CLI exits with code 130. */
export class Interrupted extends UserError {
  override name = 'Interrupted';
  constructor(
    readonly signal: string,
    what = '',
  ) {
    super(`interrupted by ${signal}${what ? `; ${what}` : ''}`, INTERRUPT_EXIT_CODE);
  }
}

let requested: NodeJS.Signals | null = null;
let pollers = 0;
const notices: string[] = [];
const temps = new Set<string>();
const aborts = new Set<() => void>();
const listeners = new Set<(signal: NodeJS.Signals) => void>();
let installed = false;

/** Installs the SIGINT and SIGTERM handlers (once per process). */
export function installInterruptHandlers(): void {
  if (installed) return;
  installed = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => onSignal(sig));
}

function onSignal(sig: NodeJS.Signals): void {
  if (requested === null && pollers > 0) {
    requested = sig;
    const notice = notices[notices.length - 1];
    if (notice) process.stderr.write(`\nppuu: ${sig}: ${notice} (send it again to stop at once)\n`);
    for (const l of listeners) l(sig);
    return;
  }
  abortNow(sig);
}

/** Runs the clean-ups, removes the tracked temporary paths and exits with code 130. */
export function abortNow(sig: string): never {
  runAbortCleanups();
  process.stderr.write(`\nppuu: interrupted by ${sig}\n`);
  process.exit(INTERRUPT_EXIT_CODE);
}

/** The clean-ups of an immediate stop (exported for tests). */
export function runAbortCleanups(): void {
  for (const f of [...aborts]) {
    try {
      f();
    } catch {
      // A clean-up that fails must not keep the others from running.
    }
  }
  for (const t of temps) rmSync(t, { recursive: true, force: true });
  temps.clear();
}

/** The signal received while a loop polls, or null. */
export function interruptRequested(): NodeJS.Signals | null {
  return requested;
}

/**
 * Declares that a loop polls interruptRequested(); call the returned function when it ends.
 * `notice` is printed when the first signal arrives ('' prints nothing).
 */
export function pollInterrupts(notice = 'stopping after the current step'): () => void {
  pollers++;
  notices.push(notice);
  let done = false;
  return () => {
    if (!done) {
      pollers--;
      notices.splice(notices.lastIndexOf(notice), 1);
    }
    done = true;
  };
}

/** Calls `fn` with the signal when one is received while a loop polls; returns the unsubscribe function. */
export function onInterruptSignal(fn: (signal: NodeJS.Signals) => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Removes `path` (file or folder) if the process stops at once; returns the function that forgets it. */
export function trackTemp(path: string): () => void {
  temps.add(path);
  return () => temps.delete(path);
}

/** Runs `fn` if the process stops at once; returns the function that forgets it. */
export function onAbort(fn: () => void): () => void {
  aborts.add(fn);
  return () => aborts.delete(fn);
}

/** Lets pending signal handlers run (long synchronous work calls this every so often). */
export function yieldToSignals(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Test hook: forgets a received signal. */
export function resetInterruptRequest(): void {
  requested = null;
}

/** Test hook: behaves as if `sig` had been received. */
export function simulateSignal(sig: NodeJS.Signals): void {
  onSignal(sig);
}
