/**
 * Writes that never leave a half-written result behind: data goes to a temporary sibling first
 * and is renamed into place (rename is atomic within one file system). The temporary paths are
 * tracked (common/interrupt.ts) so that a process stopped by a signal removes them.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync, existsSync, mkdtempSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { trackTemp } from './interrupt.js';

/** Writes one file atomically (temp file in the same folder, then rename). */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
  const forget = trackTemp(tmp);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    forget();
  }
}

/**
 * Builds a whole folder atomically: `fill` writes into a fresh temporary folder next to `dir`,
 * which then replaces `dir` (an existing `dir` is removed only once the new one is complete).
 * On error the temporary folder is removed and `dir` is left as it was.
 */
export async function writeDirAtomic<T>(dir: string, fill: (tmpDir: string) => Promise<T> | T): Promise<T> {
  mkdirSync(dirname(dir) || '.', { recursive: true });
  const tmp = mkdtempSync(join(dirname(dir) || '.', `.${basename(dir)}.tmp-`));
  const forget = trackTemp(tmp);
  try {
    const result = await fill(tmp);
    if (existsSync(dir)) {
      const old = `${dir}.old-${process.pid}-${Date.now()}`;
      renameSync(dir, old);
      renameSync(tmp, dir);
      rmSync(old, { recursive: true, force: true });
    } else {
      renameSync(tmp, dir);
    }
    return result;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    forget();
  }
}

/**
 * Builds `dir` once, safely among concurrent builders (other processes included): `fill` writes
 * into `path`, a fresh folder of a private temporary parent next to `dir`, which is then renamed
 * to `dir`. When another builder has already put `dir` in place, this build is discarded and the
 * existing folder kept (builders of one `dir` are expected to produce the same content).
 * Returns whether this call's build was the one kept. The temporary parent is always removed.
 */
export async function writeDirOnce(dir: string, fill: (path: string) => Promise<unknown> | unknown): Promise<boolean> {
  mkdirSync(dirname(dir) || '.', { recursive: true });
  const parent = mkdtempSync(join(dirname(dir) || '.', `.${basename(dir)}.build-`));
  try {
    const path = join(parent, basename(dir));
    await fill(path);
    try {
      renameSync(path, dir);
      return true;
    } catch (e) {
      // rename(2) refuses to replace a non-empty folder: another builder finished first.
      const code = (e as NodeJS.ErrnoException).code;
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(dir)) return false;
      throw e;
    }
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
}
