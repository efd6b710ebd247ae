/**
 * WebGPU in Node: the optional packages `webgpu` (Dawn's Node binding, a prebuilt dawn.node) and
 * `@tensorflow/tfjs-backend-webgpu`, both loaded dynamically so that a machine where either is
 * missing or cannot load still runs on the other backends.
 *
 * probeWebgpu() loads dawn.node, asks for a high-performance adapter and describes it (vendor,
 * architecture, description, hardware or software, the limits that bound tensor sizes); it does
 * not start the tfjs backend. startWebgpu() makes the adapter visible to tfjs (globalThis.navigator.gpu
 * and the GPU* constants, which tfjs-backend-webgpu reads when it is imported) and starts the
 * tfjs `webgpu` backend.
 *
 * Dawn uses the machine's Vulkan driver (Linux) through the Vulkan loader libvulkan.so.1. Where no
 * GPU driver exists, the SwiftShader driver that Debian's chromium package ships can stand in:
 *   LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
 * (the loader is read at process start, so these are set before node starts; see swiftshaderEnv).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WebgpuAdapter {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** False for a software adapter (SwiftShader, llvmpipe / lavapipe, WARP, or one Dawn marks fallback). */
  hardware: boolean;
  /** Why the adapter counts as software, when it does. */
  softwareWhy?: string;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
}

export interface WebgpuProbe {
  /** The adapter, or null when none could be had (see `why`). */
  adapter: WebgpuAdapter | null;
  /** Why there is no adapter (absent when there is one). */
  why?: string;
}

interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown>;
}
interface GpuLike {
  requestAdapter(opts?: { powerPreference?: string }): Promise<AdapterLike | null>;
}
interface AdapterLike {
  info?: Record<string, unknown>;
  limits: Record<string, number>;
  isFallbackAdapter?: boolean;
}

/** Names of software rasterisers / emulators that present themselves as GPUs. */
const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|\bwarp\b|\bcpu\b/i;

/** Classifies an adapter from its info (exported for tests with stand-in adapters). */
export function describeAdapter(adapter: AdapterLike): WebgpuAdapter {
  const info = adapter.info ?? {};
  const str = (k: string) => (typeof info[k] === 'string' ? (info[k] as string) : '');
  const vendor = str('vendor');
  const architecture = str('architecture');
  const device = str('device');
  const description = str('description');
  const fallback = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true;
  const named = [vendor, architecture, device, description].find((s) => SOFTWARE.test(s));
  const softwareWhy = fallback ? 'Dawn marks it a fallback (software) adapter' : named ? `'${named}' is a software renderer` : undefined;
  const lim = (k: string) => Number(adapter.limits[k] ?? 0);
  return {
    vendor, architecture, device, description,
    hardware: softwareWhy === undefined,
    ...(softwareWhy ? { softwareWhy } : {}),
    maxStorageBufferBindingSize: lim('maxStorageBufferBindingSize'),
    maxBufferSize: lim('maxBufferSize'),
    maxComputeWorkgroupStorageSize: lim('maxComputeWorkgroupStorageSize'),
    maxComputeInvocationsPerWorkgroup: lim('maxComputeInvocationsPerWorkgroup'),
  };
}

/** A short name of the adapter for logs and benchmarks: "google swiftshader (SwiftShader driver 5.0.0)". */
export function adapterName(a: WebgpuAdapter): string {
  const head = [a.vendor, a.architecture].filter(Boolean).join(' ') || a.device || 'unknown adapter';
  return a.description ? `${head} (${a.description})` : head;
}

/**
 * Where the Vulkan loader that Dawn opens on Linux is, or null where none is found in the
 * LD_LIBRARY_PATH folders or the usual system folders (then Dawn can find no adapter, and only
 * prints a warning saying so). Other platforms: 'native' (Dawn uses Metal / D3D there).
 */
export function vulkanLoader(env: NodeJS.ProcessEnv = process.env): string | null {
  if (process.platform !== 'linux') return 'native';
  const dirs = [
    ...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean),
    `/usr/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`, `/lib/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`,
    '/usr/lib64', '/lib64', '/usr/lib', '/lib', '/usr/local/lib',
  ];
  for (const d of dirs) {
    const p = join(d, 'libvulkan.so.1');
    if (existsSync(p)) return p;
  }
  // Folders configured in /etc/ld.so.conf are listed in the loader's cache.
  try {
    if (readFileSync('/etc/ld.so.cache', 'latin1').includes('libvulkan.so.1')) return 'ld.so.cache';
  } catch {
    /* no cache */
  }
  return null;
}

let dawn: DawnModule | null = null;
let gpu: GpuLike | null = null;
let probed: Promise<WebgpuProbe> | null = null;

function firstLine(e: unknown): string {
  return String((e as Error)?.message ?? e).split('\n')[0]!;
}

async function loadDawn(): Promise<string | null> {
  if (dawn) return null;
  try {
    dawn = (await import('webgpu')) as unknown as DawnModule;
    return null;
  } catch (e) {
    const msg = firstLine(e);
    return /Cannot find (module|package) 'webgpu'/.test(msg) ? 'the webgpu package (optional dependency) is not installed' : `the webgpu package failed to load: ${msg}`;
  }
}

/**
 * Loads dawn.node and asks for an adapter, once per process. Without a Vulkan loader (Linux) Dawn
 * is not loaded at all: it could find no adapter, and would print a warning of its own.
 */
export function probeWebgpu(): Promise<WebgpuProbe> {
  probed ??= (async () => {
    if (!vulkanLoader()) {
      return { adapter: null, why: 'no Vulkan loader (libvulkan.so.1) found, so Dawn can find no adapter (install the GPU\'s Vulkan driver and libvulkan1; see README, "Training on a GPU")' };
    }
    const why = await loadDawn();
    if (why) return { adapter: null, why };
    try {
      gpu = dawn!.create([]);
      const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
      if (!a) {
        const hint = process.platform === 'linux' ? ' (Dawn needs a Vulkan driver and libvulkan.so.1; see README, "Training on a GPU")' : '';
        return { adapter: null, why: `Dawn found no WebGPU adapter${hint}` };
      }
      return { adapter: describeAdapter(a) };
    } catch (e) {
      return { adapter: null, why: `Dawn failed: ${firstLine(e)}` };
    }
  })();
  return probed;
}

/** The probe's answer if probeWebgpu() has run, else null (never starts one). */
export async function webgpuProbed(): Promise<WebgpuProbe | null> {
  return probed ? probed : null;
}

/**
 * Starts tfjs's webgpu backend on the probed adapter; returns why it could not (null: it runs).
 * The caller decides whether a software adapter is acceptable before calling.
 */
export async function startWebgpu(tf: typeof import('@tensorflow/tfjs')): Promise<string | null> {
  const p = await probeWebgpu();
  if (!p.adapter) return p.why ?? 'no WebGPU adapter';
  const g = globalThis as unknown as { navigator?: Record<string, unknown> };
  // tfjs-backend-webgpu registers its backend at import only where navigator.gpu exists, and its
  // kernels use the GPUBufferUsage / GPUMapMode / GPUShaderStage constants as globals.
  for (const [k, v] of Object.entries(dawn!.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  if (!g.navigator) g.navigator = {};
  if (!g.navigator.gpu) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, enumerable: true });
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
  } catch (e) {
    const msg = firstLine(e);
    return /Cannot find (module|package)/.test(msg) ? '@tensorflow/tfjs-backend-webgpu (optional dependency) is not installed' : `@tensorflow/tfjs-backend-webgpu failed to load: ${msg}`;
  }
  if (!tf.findBackendFactory('webgpu')) return '@tensorflow/tfjs-backend-webgpu did not register its backend (it was imported before navigator.gpu existed)';
  // tfjs logs a failed backend start to the console; the reason is returned instead.
  const warn = console.warn;
  const error = console.error;
  let logged = '';
  console.warn = console.error = (...a: unknown[]) => {
    logged ||= a.map(String).join(' ').split('\n').slice(0, 2).join(': ');
  };
  try {
    if (!(await tf.setBackend('webgpu'))) return `the tfjs webgpu backend did not initialise${logged ? ` (${logged})` : ''}`;
  } finally {
    console.warn = warn;
    console.error = error;
  }
  failOnDeviceErrors(tf.backend() as unknown as DeviceBackend);
  return null;
}

interface DeviceBackend {
  device?: { onuncapturederror: ((ev: { error?: { message?: string } }) => void) | null };
  read(dataId: object): Promise<unknown>;
}

/**
 * WebGPU reports a failed program (an invalid pipeline, a binding over the device's limits) as an
 * event, and the program's output is then left as zeros. The first such error is kept and the
 * next read from the device throws it, so that a bad step cannot pass as a result.
 */
function failOnDeviceErrors(b: DeviceBackend): void {
  if (!b.device) return;
  let pending: string | null = null;
  b.device.onuncapturederror = (ev) => {
    pending ??= String(ev.error?.message ?? 'unknown error').split('\n')[0]!;
  };
  const read = b.read.bind(b);
  b.read = async (dataId: object) => {
    const v = await read(dataId);
    if (pending !== null) {
      const msg = pending;
      pending = null;
      throw new Error(`WebGPU device error: ${msg}`);
    }
    return v;
  };
}

/**
 * Environment under which Dawn finds the SwiftShader Vulkan driver of Debian's chromium package
 * (null where it is not installed): for child processes, since the Vulkan loader reads these at
 * process start.
 */
export function swiftshaderEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv | null {
  const dir = '/usr/lib/chromium';
  const icd = join(dir, 'vk_swiftshader_icd.json');
  if (!existsSync(icd)) return null;
  const runtime = base.XDG_RUNTIME_DIR && existsSync(base.XDG_RUNTIME_DIR) ? base.XDG_RUNTIME_DIR : join(tmpdir(), `ppuu-xdg-${process.getuid?.() ?? 0}`);
  mkdirSync(runtime, { recursive: true, mode: 0o700 });
  // The Vulkan loader chromium ships beside the driver (Debian's libvulkan1 is not always installed).
  const ld = [base.LD_LIBRARY_PATH, dir].filter(Boolean).join(':');
  return { ...base, VK_ICD_FILENAMES: icd, XDG_RUNTIME_DIR: runtime, LD_LIBRARY_PATH: ld };
}
