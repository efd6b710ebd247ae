/**
 * Builds the viewer page's script with esbuild (renderer/web/main.ts and what it imports, three
 * included) into one ES module, in memory, once per process. The HTTP server serves it; the
 * Electron launcher writes it next to index.html. One build, one code path for both.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { writeFileAtomic } from '../../common/atomic.js';

export const WEB_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'web');

export interface WebAssets {
  'index.html': string;
  'viewer.css': string;
  'viewer.js': string;
}

let cached: Promise<WebAssets> | null = null;

/** The page's three files (bundling on first use, ~0.5 s). */
export function webAssets(): Promise<WebAssets> {
  cached ??= (async () => {
    const result = await build({
      entryPoints: [join(WEB_DIR, 'main.ts')],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify: true,
      sourcemap: 'inline',
      write: false,
      logLevel: 'silent',
      legalComments: 'none',
    });
    return {
      'index.html': readFileSync(join(WEB_DIR, 'index.html'), 'utf8'),
      'viewer.css': readFileSync(join(WEB_DIR, 'viewer.css'), 'utf8'),
      'viewer.js': result.outputFiles[0]!.text,
    };
  })();
  cached.catch(() => (cached = null));
  return cached;
}

/** Writes the page's files into `dir` (for Electron's loadFile). */
export async function writeWebAssets(dir: string): Promise<void> {
  const assets = await webAssets();
  for (const [name, text] of Object.entries(assets)) writeFileAtomic(join(dir, name), text);
}
