/** `ppuu info`: versions, the compute backend chosen and why, and which optional tools exist. */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { bundle, packageVersion } from '../../common/locate.js';
import { printJson, say } from '../output.js';

const require = createRequire(import.meta.url);

/** Electron's binary is usable when the electron package resolved its path and the file exists. */
export function electronBinary(): { available: boolean; path: string | null; why: string } {
  try {
    const p = require('electron') as unknown;
    if (typeof p === 'string' && existsSync(p)) return { available: true, path: p, why: 'electron binary found' };
    return { available: false, path: null, why: 'electron package present but its binary was not downloaded' };
  } catch {
    return { available: false, path: null, why: 'electron is not installed (optional dependency)' };
  }
}

export function chromiumBinary(): { available: boolean; path: string | null } {
  for (const p of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) {
    if (p && existsSync(p)) return { available: true, path: p };
  }
  return { available: false, path: null };
}

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('print versions, the compute backend chosen and why, and whether Electron and Chromium are available')
    .option('--backend <name>', 'backend to try instead of the automatic choice (tensorflow-gpu, tensorflow, webgpu, wasm, cpu)')
    .option('--json', 'print one JSON object')
    .action(async (opts: { backend?: string; json?: boolean }) => {
      const { initBackend, webgpuReport } = await import('../../worldmodel/backend.js');
      const backend = await initBackend({ requested: opts.backend });
      // The adapter Dawn offers is reported even where another backend was chosen.
      backend.webgpu ??= await webgpuReport();
      const tf = await import('@tensorflow/tfjs');
      const info = {
        ppuu: packageVersion(),
        // 'portable': the bundle of `npm run bundle` (its own Node binary); 'sources': through tsx.
        build: bundle ? 'portable' : 'sources',
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        tfjs: tf.version.tfjs,
        backend,
        electron: electronBinary(),
        chromium: chromiumBinary(),
      };
      if (opts.json) return printJson(info);
      say(`ppuu ${info.ppuu}${bundle ? ' (portable build)' : ''} on Node ${info.node} (${info.platform}), tfjs ${info.tfjs}`);
      say(`backend: ${backend.name} (${backend.reason})${backend.gpu !== null ? `, GPU in use: ${backend.gpu}` : ''}`);
      for (const s of backend.skipped) say(`  skipped ${s.name}: ${s.why}`);
      const w = backend.webgpu;
      const a = w.adapter;
      say(`webgpu: ${w.used ? 'used' : 'not used'} (${w.why})`);
      if (a) {
        say(`  adapter: ${[a.vendor, a.architecture].filter(Boolean).join(' ') || '?'}, ${a.description || a.device || 'no description'}, ${a.hardware ? 'hardware' : 'software'}`);
        say(`  maxStorageBufferBindingSize ${a.maxStorageBufferBindingSize} B, maxBufferSize ${a.maxBufferSize} B`);
      }
      say(`electron: ${info.electron.available ? info.electron.path : info.electron.why}`);
      say(`chromium: ${info.chromium.available ? info.chromium.path : 'not found (apt-get install chromium)'}`);
    });
}
