/**
 * The --out folder of a training run (`train fm`, `train policy`): OUT/checkpoint/ and
 * OUT/log.jsonl. The rules both trainers share:
 *
 * - `--resume` needs a checkpoint to continue; without one it is refused (nothing is written).
 * - A new run goes into a folder that does not exist or is empty: another folder (a typo, a
 *   dataset, the log of a run that never saved a checkpoint) is refused rather than written into.
 * - A run that fails, or is stopped at once by a signal, before its first checkpoint leaves
 *   nothing behind: its log.jsonl goes, and so does OUT when the run created it.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { UserError } from '../common/errors.js';
import { onAbort } from '../common/interrupt.js';

export const LOG_FILE = 'log.jsonl';

/**
 * Checks OUT before any work. `checkpointFile` is the file whose presence means "a checkpoint",
 * `what` names the kind of run in messages (e.g. 'forward-model').
 */
export function checkRunFolder(out: string, opts: { resume?: boolean; checkpointFile: string; what: string }): void {
  const has = existsSync(opts.checkpointFile);
  if (opts.resume) {
    if (!has) throw new UserError(`${out}: nothing to resume (no ${opts.what} checkpoint in ${dirname(opts.checkpointFile)}); drop --resume to start a new run`);
    return;
  }
  if (has || !existsSync(out)) return;
  if (!statSync(out).isDirectory()) throw new UserError(`${out}: exists and is not a folder; choose another --out`);
  const entries = readdirSync(out);
  if (entries.length === 0) return;
  if (entries.includes(LOG_FILE)) {
    throw new UserError(`${out}: holds ${LOG_FILE} of a run that saved no checkpoint; remove the folder (or choose another --out) to start a new run`);
  }
  throw new UserError(`${out}: exists, is not empty and holds no ${opts.what} checkpoint (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}); choose another --out`);
}

/**
 * Runs `train`; when it fails (or the process is stopped at once) before a checkpoint exists,
 * removes the log it wrote and OUT if it did not exist before.
 */
export async function withRunCleanup<T>(out: string, checkpointFile: string, train: () => Promise<T>): Promise<T> {
  const created = !existsSync(out);
  const hadLog = existsSync(join(out, LOG_FILE));
  const cleanup = () => {
    if (existsSync(checkpointFile)) return;
    if (created) rmSync(out, { recursive: true, force: true });
    else if (!hadLog) rmSync(join(out, LOG_FILE), { force: true });
  };
  const forget = onAbort(cleanup);
  try {
    return await train();
  } catch (e) {
    cleanup();
    throw e;
  } finally {
    forget();
  }
}
