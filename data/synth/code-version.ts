/**
 * A fingerprint of the code that produces synthetic traffic: a hash of every TypeScript file
 * under data/ (the generator, the NGSIM importer it writes through, the track-store format) and
 * the package version. Caches of generated traffic are keyed by it, so a change to that code
 * never reuses traffic the old code made. The portable build (common/locate.ts) carries the
 * fingerprint of the sources it was built from, so its caches are keyed as theirs are.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundle } from '../../common/locate.js';
import { ppuuVersion } from '../version.js';

let cached: string | null = null;

/** 12 hex digits. */
export function synthCodeVersion(): string {
  if (cached !== null) return cached;
  if (bundle) return (cached = bundle.synthCodeVersion);
  const h = createHash('sha256').update(ppuuVersion());
  const root = fileURLToPath(new URL('..', import.meta.url));
  if (existsSync(root)) {
    const files = readdirSync(root, { recursive: true }).map(String).filter((f) => f.endsWith('.ts')).sort();
    for (const f of files) h.update(`\0${f.replace(/\\/g, '/')}\0`).update(readFileSync(join(root, f)));
  }
  cached = h.digest('hex').slice(0, 12);
  return cached;
}
