/**
 * Where the files that ppuu needs beside its own code are at run time, for the two ways it runs:
 *
 * - from the TypeScript sources through tsx (bin/ppuu.js, the tests): files are found relative to
 *   the sources, and a worker thread boots through a small .mjs file that registers tsx in the
 *   worker before importing its TypeScript entry;
 * - from the portable build (`npm run bundle`, scripts/bundle.ts): esbuild defines PPUU_BUNDLE,
 *   each worker is its own bundled file beside ppuu.mjs (worker-NAME.mjs), and tfjs-backend-wasm's
 *   binaries lie beside it too (where its Emscripten loader looks by default: its script's folder).
 *
 * Every place that starts a worker or looks for such a file asks this module, so the two stay one
 * code path apart from here.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';

/** What the bundle build records about itself (esbuild `define`; absent from the sources). */
export interface BundleInfo {
  /** The package version it was built from. */
  version: string;
  /** data/synth/code-version.ts's fingerprint of the sources it was built from. */
  synthCodeVersion: string;
}

declare const PPUU_BUNDLE: BundleInfo | undefined;

/** The portable build's record, or null when running from the sources. */
export const bundle: BundleInfo | null = typeof PPUU_BUNDLE === 'undefined' ? null : PPUU_BUNDLE;

/**
 * The worker threads of the project: a name, its TypeScript entry and the boot file that starts it
 * from the sources (paths from the repository root). The bundle build makes one file per entry.
 */
export const WORKERS = {
  'fm-loader': { entry: 'worldmodel/fm/loader-worker.ts', boot: 'worldmodel/fm/worker-boot.mjs' },
  'fm-dp': { entry: 'worldmodel/fm/dp-worker.ts', boot: 'worldmodel/fm/worker-boot.mjs' },
  dump: { entry: 'sim/io/dump-worker.ts', boot: 'sim/io/worker-entry.mjs' },
} as const satisfies Record<string, { entry: string; boot: string }>;

export type WorkerName = keyof typeof WORKERS;

/** The file name of a worker's bundled entry, beside ppuu.mjs. */
export function bundledWorkerFile(name: WorkerName): string {
  return `worker-${name}.mjs`;
}

/** The repository root (from the sources); this file is common/locate.ts. */
const ROOT = new URL('../', import.meta.url);

/**
 * Starts worker `name` with `workerData` (the worker reads its fields; from the sources `entry`
 * is added, the URL of the TypeScript module that the boot file imports).
 */
export function startWorker(name: WorkerName, workerData: Record<string, unknown>): Worker {
  if (bundle) return new Worker(new URL(`./${bundledWorkerFile(name)}`, import.meta.url), { workerData });
  const w = WORKERS[name];
  return new Worker(new URL(w.boot, ROOT), { workerData: { entry: new URL(w.entry, ROOT).href, ...workerData } });
}

/** The folder (with a trailing slash) that holds tfjs-backend-wasm's .wasm binaries. */
export function tfjsWasmDir(): string {
  if (bundle) return `${dirname(fileURLToPath(import.meta.url))}/`;
  const require = createRequire(import.meta.url);
  return `${dirname(require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-simd.wasm'))}/`;
}

/** The version in package.json (recorded at build time in the bundle). */
export function packageVersion(): string {
  if (bundle) return bundle.version;
  return (JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { version: string }).version;
}

/**
 * The script that runs the `ppuu` command line under process.execPath (bin/ppuu.js from the
 * sources, ppuu.mjs in the bundle): for commands that start ppuu as a child process.
 */
export function cliEntry(): string {
  return fileURLToPath(bundle ? new URL('./ppuu.mjs', import.meta.url) : new URL('bin/ppuu.js', ROOT));
}
