/**
 * Makes the tfjs wasm backend's heap shareable between threads, so that this project's matrix
 * products can run on every core (gemm-pool.ts) instead of one.
 *
 * In Node, tfjs-backend-wasm 4.22 always loads its single-threaded SIMD binary, whose linear
 * memory is an ordinary (unshared) one that no other thread can see. The binary's memory section
 * declares one memory of 256 to 65536 pages; setting its limits flag from 1 (has a maximum) to 3
 * (has a maximum, shared) is a one-byte change that leaves every instruction valid (shared
 * memories need a maximum, which it has; plain loads and stores work on them). The patched copy
 * is written once to a cache file (os.tmpdir()/ppuu-wasm/, named by the original's SHA-256) and
 * handed to tfjs with setWasmPaths, which must happen before the backend starts: this module
 * does it when first imported (worldmodel/kernels/register.ts imports it, and
 * worldmodel/backend.ts imports that before choosing a backend).
 *
 * Off with PPUU_THREADS=1 (or on the heap kernels' switch, PPUU_STOCK_KERNELS=heap); any surprise
 * (another binary layout, an unwritable cache, a backend started already) leaves tfjs as it is,
 * and the products then run on one thread.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tfjsWasmDir } from '../../common/locate.js';
import { poolThreads } from './gemm-pool.js';

const SIMD_BINARY = 'tfjs-backend-wasm-simd.wasm';
const BINARIES = ['tfjs-backend-wasm.wasm', SIMD_BINARY, 'tfjs-backend-wasm-threaded-simd.wasm'];

/**
 * The binary with its (single, defined) memory made shared; null when the layout is not the
 * expected one: a memory section with one memory whose limits have a maximum and are not shared.
 */
export function shareMemory(binary: Uint8Array): Uint8Array | null {
  if (binary.length < 8 || binary[0] !== 0 || binary[1] !== 0x61 || binary[2] !== 0x73 || binary[3] !== 0x6d) return null;
  let p = 8;
  const uleb = () => {
    let r = 0;
    let shift = 0;
    let b: number;
    do {
      if (p >= binary.length) throw new Error('truncated');
      b = binary[p++]!;
      r += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return r;
  };
  try {
    while (p < binary.length) {
      const id = binary[p++]!;
      const size = uleb();
      const start = p;
      if (id === 5) {
        if (uleb() !== 1) return null; // one memory
        const flagsAt = p;
        if (binary[flagsAt] !== 0x01) return null; // has a maximum, not shared
        const out = new Uint8Array(binary); // a copy (Buffer.slice would share the input's memory)
        out[flagsAt] = 0x03;
        return out;
      }
      p = start + size;
    }
  } catch {
    return null;
  }
  return null;
}

/** Whether shareable heaps are wanted (more than one thread, heap kernels on, Node). */
function wanted(): boolean {
  if (typeof process === 'undefined' || !process.versions?.node) return false;
  if ((process.env.PPUU_STOCK_KERNELS ?? '').split(',').map((s) => s.trim()).some((s) => s === 'heap' || s === 'all')) return false;
  return poolThreads() > 1;
}

let prepared: boolean | null = null;

/**
 * Points tfjs at the patched binary (once per process; also in worker threads, whose own
 * backends then get shareable heaps too, though only the main thread starts helpers). Returns
 * whether it did.
 */
export async function prepareSharedWasmHeap(): Promise<boolean> {
  if (prepared !== null) return prepared;
  prepared = false;
  if (!wanted()) return false;
  try {
    const folder = tfjsWasmDir();
    const original = join(folder, SIMD_BINARY);
    const binary = readFileSync(original);
    const hash = createHash('sha256').update(binary).digest('hex').slice(0, 16);
    const patched = shareMemory(binary);
    if (!patched) return false;
    const dir = join(tmpdir(), 'ppuu-wasm');
    let patchedPath = join(dir, `${hash}-shared-memory.wasm`);
    // A cached copy is used only if it is exactly the patched binary; else this process writes its own.
    const cached = existsSync(patchedPath) ? readFileSync(patchedPath) : null;
    if (!cached || !Buffer.from(patched).equals(cached)) {
      mkdirSync(dir, { recursive: true });
      if (cached) patchedPath = join(dir, `${hash}-shared-memory-${process.pid}.wasm`);
      const tmp = `${patchedPath}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
      writeFileSync(tmp, patched);
      renameSync(tmp, patchedPath); // atomic: readers see the old state or the whole file
    }
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const map = Object.fromEntries(BINARIES.map((b) => [b, join(folder, b)]));
    map[SIMD_BINARY] = patchedPath;
    wasm.setWasmPaths(map);
    prepared = true;
  } catch {
    prepared = false;
  }
  return prepared;
}
