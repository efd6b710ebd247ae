/**
 * Launches Debian's Chromium through playwright-core for the renderer's end-to-end tests, with
 * software WebGL (SwiftShader). `chromiumPath()` is null where it is not installed; tests then
 * skip with that reason.
 */
import { existsSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-angle=swiftshader',
  '--enable-unsafe-swiftshader',
];

export function chromiumPath(): string | null {
  const p = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  return existsSync(p) ? p : null;
}

export const SKIP_NO_CHROMIUM = chromiumPath() ? false : 'Chromium not found at /usr/bin/chromium (apt-get install chromium); browser tests skipped';

export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: chromiumPath()!, args: CHROMIUM_ARGS, timeout: 30_000 });
}

/** test-output/renderer under the repository root (gitignored). */
export function outputDir(): string {
  const dir = join(process.cwd(), 'test-output', 'renderer');
  mkdirSync(dir, { recursive: true });
  return dir;
}
