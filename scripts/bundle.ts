/**
 * `npm run bundle [-- --out DIR] [--no-tar]`: the portable build of the command line, for Linux
 * x86-64 machines without Node or npm (GPU cluster nodes). Writes DIR/ppuu-linux-x64/ (DIR
 * defaults to dist/):
 *
 *   ppuu                      sh script: runs ./node ./ppuu.mjs "$@" (no other tool needed)
 *   node                      the Node binary this script runs on (process.execPath)
 *   ppuu.mjs                  the CLI (cli/portable.ts), bundled by esbuild into one ES module
 *   worker-NAME.mjs           each worker thread's entry, bundled the same way (common/locate.ts)
 *   tfjs-backend-wasm*.wasm   tfjs's wasm binaries (its loader looks beside its script)
 *   node_modules/             the native addons, loaded at run time, not bundled: webgpu
 *                             (dawn.node, linux-x64 only) and @resvg/resvg-js with its linux-x64-gnu
 *                             binding
 *
 * and DIR/ppuu-linux-x64.tar.gz of that folder (gzip -6, its default: -9 took twice as long for
 * 0.4 % less; `tar xzf` unpacks it anywhere). Prints
 * one JSON object: the folder, the archive, and their sizes in bytes. Fails (exit 1) where the
 * archive is over 60 MB (60,000,000 bytes), or on another platform than linux-x64.
 *
 * Not in the build: `ppuu app` (the viewer is bundled with esbuild at run time, and Electron is
 * not shipped) and the optional @tensorflow/tfjs-node(-gpu) packages.
 */
import { build, type Plugin } from 'esbuild';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, createWriteStream, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip } from 'node:zlib';
import { WORKERS, bundledWorkerFile, packageVersion, tfjsWasmDir, type BundleInfo, type WorkerName } from '../common/locate.js';
import { synthCodeVersion } from '../data/synth/code-version.js';

export const TARGET = 'linux-x64';
export const MAX_COMPRESSED_BYTES = 60_000_000;

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const requireHere = createRequire(import.meta.url);

/** Packages loaded at run time from the build's node_modules/ (native addons, or optional ones not shipped). */
const EXTERNAL = ['webgpu', '@resvg/resvg-js', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'electron'];

/**
 * `require`, `__dirname` and `__filename` for the CommonJS packages inside an ES module bundle
 * (tfjs's node builds call require('fs'); tfjs-backend-wasm's Emscripten loader reads __dirname).
 * Names chosen not to collide with the bundle's own imports.
 */
const BANNER = [
  "import { createRequire as __ppuuCreateRequire } from 'node:module';",
  "import { fileURLToPath as __ppuuFileURLToPath } from 'node:url';",
  "import { dirname as __ppuuDirname } from 'node:path';",
  'const require = __ppuuCreateRequire(import.meta.url);',
  'const __filename = __ppuuFileURLToPath(import.meta.url);',
  'const __dirname = __ppuuDirname(__filename);',
].join('\n');

/** esbuild's JavaScript API runs its own native binary, which the build does not ship: `ppuu app` says so. */
const NO_ESBUILD: Plugin = {
  name: 'ppuu-no-esbuild',
  setup(b) {
    b.onResolve({ filter: /^esbuild$/ }, (a) => ({ path: a.path, namespace: 'ppuu-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'ppuu-stub' }, () => ({
      contents: [
        "import { UserError } from './common/errors.ts';",
        'export function build() {',
        "  throw new UserError('the simulator app (ppuu app) is not part of the portable build; run it from a clone of the project (npm ci)');",
        '}',
      ].join('\n'),
      resolveDir: ROOT,
      loader: 'ts',
    }));
  },
};

/** The sh script `ppuu`: finds its own folder (following symlinks to it) with shell built-ins only. */
const LAUNCHER = `#!/bin/sh
# ppuu, portable build (npm run bundle): the bundled command line on the Node binary beside it.
self=$0
while [ -L "$self" ]; do
  link=$(readlink "$self") || break
  case $link in
    /*) self=$link ;;
    *) case $self in */*) self=\${self%/*}/$link ;; *) self=$link ;; esac ;;
  esac
done
case $self in
  */*) here=\${self%/*} ;;
  *) here=. ;;
esac
exec "$here/node" "$here/ppuu.mjs" "$@"
`;

export interface BundleResult {
  dir: string;
  tarball: string | null;
  version: string;
  node: string;
  bytes: { uncompressed: number; compressed: number | null; files: Record<string, number> };
  maxCompressedBytes: number;
}

function packageDir(name: string): string | null {
  try {
    return dirname(requireHere.resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

function sizeOf(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((n, f) => n + sizeOf(join(path, f)), 0);
}

async function tarGz(parent: string, name: string, out: string): Promise<void> {
  const tar = spawn('tar', ['-C', parent, '-cf', '-', name], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((res, rej) => {
    tar.on('error', rej);
    tar.on('close', res);
  });
  await pipeline(tar.stdout, createGzip({ level: 6 }), createWriteStream(out));
  const code = await exited;
  if (code !== 0) throw new Error(`tar exited with code ${code}`);
}

export async function makeBundle(opts: { out: string; tar: boolean; log?: (line: string) => void }): Promise<BundleResult> {
  const log = opts.log ?? (() => {});
  const platform = `${process.platform}-${process.arch}`;
  if (platform !== TARGET) throw new Error(`the portable build is made for ${TARGET} on ${TARGET} (it ships this Node binary); this is ${platform}`);
  const dir = join(resolve(opts.out), `ppuu-${TARGET}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });

  const info: BundleInfo = { version: packageVersion(), synthCodeVersion: synthCodeVersion() };
  const entryPoints: Record<string, string> = { ppuu: join(ROOT, 'cli/portable.ts') };
  for (const [name, w] of Object.entries(WORKERS)) entryPoints[bundledWorkerFile(name as WorkerName).replace(/\.mjs$/, '')] = join(ROOT, w.entry);
  log(`esbuild: ${Object.keys(entryPoints).join(', ')}`);
  await build({
    entryPoints,
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Whitespace and syntax only: names stay readable in stack traces (--verbose).
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    external: EXTERNAL,
    banner: { js: BANNER },
    define: { PPUU_BUNDLE: JSON.stringify(info) },
    plugins: [NO_ESBUILD],
    logLevel: 'error',
  });

  copyFileSync(process.execPath, join(dir, 'node'));
  chmodSync(join(dir, 'node'), 0o755);
  writeFileSync(join(dir, 'ppuu'), LAUNCHER, { mode: 0o755 });

  const wasmDir = tfjsWasmDir();
  for (const f of readdirSync(wasmDir).filter((f) => f.endsWith('.wasm'))) copyFileSync(join(wasmDir, f), join(dir, f));

  const modules = join(dir, 'node_modules');
  const webgpu = packageDir('webgpu');
  if (webgpu && existsSync(join(webgpu, 'dist', TARGET, 'dawn.node'))) {
    // Only this platform's dawn.node (the package holds every platform's: 130 MB).
    const to = join(modules, 'webgpu');
    for (const f of ['package.json', 'index.js', 'LICENSE.md']) if (existsSync(join(webgpu, f))) cpSync(join(webgpu, f), join(to, f));
    cpSync(join(webgpu, 'dist', TARGET), join(to, 'dist', TARGET), { recursive: true });
  } else {
    log('webgpu (optional dependency) is not installed: the build runs on wasm and cpu only');
  }
  for (const name of ['@resvg/resvg-js', '@resvg/resvg-js-linux-x64-gnu']) {
    const from = packageDir(name);
    if (!from) throw new Error(`${name} is not installed (npm ci)`);
    cpSync(from, join(modules, name), { recursive: true });
  }

  const files: Record<string, number> = {};
  for (const f of readdirSync(dir).sort()) files[f] = sizeOf(join(dir, f));
  let tarball: string | null = null;
  let compressed: number | null = null;
  if (opts.tar) {
    tarball = `${dir}.tar.gz`;
    log(`tar + gzip -6: ${tarball}`);
    await tarGz(dirname(dir), basename(dir), tarball);
    compressed = statSync(tarball).size;
  }
  return {
    dir, tarball, version: info.version, node: process.version,
    bytes: { uncompressed: sizeOf(dir), compressed, files },
    maxCompressedBytes: MAX_COMPRESSED_BYTES,
  };
}

async function cli(argv: string[]): Promise<number> {
  let out = join(ROOT, 'dist');
  let tar = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--out' && argv[i + 1]) out = argv[++i]!;
    else if (a === '--no-tar') tar = false;
    else {
      process.stderr.write(`bundle: unknown argument '${a}' (usage: npm run bundle [-- --out DIR] [--no-tar])\n`);
      return 2;
    }
  }
  const r = await makeBundle({ out, tar, log: (l) => process.stderr.write(`bundle: ${l}\n`) });
  process.stdout.write(`${JSON.stringify(r)}\n`);
  if (r.bytes.compressed !== null && r.bytes.compressed > MAX_COMPRESSED_BYTES) {
    process.stderr.write(`bundle: ${r.tarball} is ${r.bytes.compressed} bytes, over the limit of ${MAX_COMPRESSED_BYTES}\n`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = await cli(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`bundle: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
