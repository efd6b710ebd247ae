/**
 * Temporary folders for tests, removed when the test process exits (node's test runner runs each
 * file in its own process), so that no test leaves folders behind in the system temp folder.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh folder under the system temp folder, named `prefix` + random characters. */
export function tempDir(prefix = 'ppuu-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
