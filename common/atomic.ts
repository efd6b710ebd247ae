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
