/**
 * Starting the desktop app from `ppuu app`: finds Electron's binary (the optional `electron`
 * package resolves to its path, which exists only where its download succeeded), writes the
 * page and the bundled preload (sandboxed preloads must be one CommonJS file) under out/electron,
 * and runs Electron on entry.mjs with the launch settings in PPUU_APP_CONFIG.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { writeWebAssets } from '../server/bundle.js';
import type { AppConfig } from './main.js';

const here = dirname(fileURLToPath(import.meta.url));

export interface ElectronBinary {
  available: boolean;
  path: string | null;
  why: string;
}

export function electronBinary(resolveElectron: () => unknown = () => createRequire(import.meta.url)('electron')): ElectronBinary {
  let p: unknown;
  try {
    p = resolveElectron();
  } catch {
    return { available: false, path: null, why: 'electron is not installed (optional dependency)' };
  }
  if (typeof p === 'string' && existsSync(p)) return { available: true, path: p, why: 'electron binary found' };
  return { available: false, path: null, why: "the electron package is present but its binary was not downloaded" };
}

/** Writes the page and the preload bundle into outDir; returns their paths. */
export async function prepareElectronFiles(outDir: string): Promise<{ webDir: string; preloadPath: string }> {
  const webDir = join(outDir, 'web');
  await writeWebAssets(webDir);
  const preloadPath = join(outDir, 'preload.cjs');
  await build({
    entryPoints: [join(here, 'preload.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['electron'],
    outfile: preloadPath,
    logLevel: 'silent',
  });
  return { webDir, preloadPath };
}

/** Runs Electron on the app; the child inherits stdio. */
export function spawnElectron(binary: string, cfg: AppConfig): ChildProcess {
  return spawn(binary, [join(here, 'entry.mjs')], {
    stdio: 'inherit',
    env: { ...process.env, PPUU_APP_CONFIG: JSON.stringify(cfg) },
  });
}
