/**
 * Compute backend selection. tfjs is the API everywhere; the backend is picked once per process:
 *   1. `--backend NAME` or the TFJS_BACKEND environment variable, if given;
 *   2. else @tensorflow/tfjs-node-gpu (CUDA), then @tensorflow/tfjs-node (both optional
 *      dependencies whose native library may be missing);
 *   3. else webgpu (Dawn through the optional `webgpu` and `@tensorflow/tfjs-backend-webgpu`
 *      packages, worldmodel/webgpu.ts), but only on a hardware adapter: a software one such as
 *      SwiftShader is used only when asked for by name;
 *   4. else @tensorflow/tfjs-backend-wasm, with this project's training kernels registered;
 *   5. else the plain JavaScript cpu backend.
 * Each candidate is tried safely: a failed import or init falls through to the next one.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../common/errors.js';
import { registerTrainingKernels } from './kernels/register.js';
import { probeWebgpu, startWebgpu, type WebgpuAdapter } from './webgpu.js';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

export interface BackendChoice {
  /** Our name for the choice (tfjs itself calls both native ones 'tensorflow'). */
  name: BackendName;
  /** tf.getBackend() after the choice. */
  tfBackend: string;
  /** Why this one was chosen, in words. */
  reason: string;
  /** Candidates tried before it and why each was passed over. */
  skipped: Array<{ name: BackendName; why: string }>;
  /** For tensorflow-gpu: whether a GPU device is really in use (null where unknown). */
  gpu: boolean | null;
  /** How `gpu` was established (or why it is unknown); absent for non-native backends. */
  gpuEvidence?: string;
  /** This project's kernels active on the chosen backend (see worldmodel/kernels/register.ts). */
  kernels?: string[];
  /** What Dawn offered, where webgpu was tried (or probed by `ppuu info`), and whether it was used. */
  webgpu?: { adapter: WebgpuAdapter | null; used: boolean; why: string };
}

let chosen: BackendChoice | null = null;
/** Hooks run after a backend is set (e.g. to register custom kernels for it). */
const onSelected: Array<(name: BackendName) => void> = [];

/** Registers a hook that runs once a backend is active (kernel registration lives in kernels/). */
export function onBackendSelected(hook: (name: BackendName) => void): void {
  onSelected.push(hook);
  if (chosen) hook(chosen.name);
}

async function tryNative(gpu: boolean): Promise<string | null> {
  const pkg = gpu ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  try {
    await import(pkg);
  } catch (e) {
    const msg = (e as Error).message ?? String(e);
    return /Cannot find (module|package)/.test(msg) ? `${pkg} is not installed` : `${pkg} failed to load: ${msg.split('\n')[0]}`;
  }
  if (!(await tf.setBackend('tensorflow'))) return `${pkg} loaded but its backend did not initialise`;
  return null;
}

async function tryWasm(): Promise<string | null> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
    // Register now (not only on selection) so that a later tf.setBackend('wasm') can train too.
    registerTrainingKernels('wasm');
    if (!(await tf.setBackend('wasm'))) return 'wasm backend did not initialise';
    return null;
  } catch (e) {
    return `wasm backend failed: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** Why webgpu was passed over or failed, once tried (null: not tried, or it runs). */
let webgpuWhy: string | null = null;

/** `asked`: requested by name (then a software adapter is accepted). */
async function tryWebgpu(asked: boolean): Promise<string | null> {
  const p = await probeWebgpu();
  if (!p.adapter) return (webgpuWhy = p.why ?? 'no WebGPU adapter');
  if (!p.adapter.hardware && !asked) {
    return (webgpuWhy = `the WebGPU adapter is software (${p.adapter.softwareWhy}); it is used only with --backend webgpu`);
  }
  return (webgpuWhy = await startWebgpu(tf));
}

async function tryCpu(): Promise<string | null> {
  return (await tf.setBackend('cpu')) ? null : 'cpu backend did not initialise';
}

const TRY: Record<BackendName, (asked: boolean) => Promise<string | null>> = {
  'tensorflow-gpu': () => tryNative(true),
  tensorflow: () => tryNative(false),
  webgpu: tryWebgpu,
  wasm: tryWasm,
  cpu: tryCpu,
};

function normalise(requested: string): BackendName {
  const r = requested.trim().toLowerCase();
  const alias: Record<string, BackendName> = {
    gpu: 'tensorflow-gpu', 'node-gpu': 'tensorflow-gpu', 'tfjs-node-gpu': 'tensorflow-gpu', 'tensorflow-gpu': 'tensorflow-gpu',
    node: 'tensorflow', 'tfjs-node': 'tensorflow', tensorflow: 'tensorflow', wasm: 'wasm', cpu: 'cpu',
    webgpu: 'webgpu', dawn: 'webgpu',
  };
  const n = alias[r];
  if (!n) throw new UserError(`unknown backend '${requested}' (choose one of ${BACKEND_NAMES.join(', ')})`);
  return n;
}

/**
 * Picks and activates the backend (once per process; later calls return the first choice).
 * `requested` (from --backend) wins over TFJS_BACKEND; an explicitly requested backend that
 * cannot start is a user error rather than a silent fallback.
 */
export async function initBackend(opts: { requested?: string; log?: (line: string) => void } = {}): Promise<BackendChoice> {
  if (chosen) return chosen;
  const requested = opts.requested ?? process.env.TFJS_BACKEND;
  const skipped: BackendChoice['skipped'] = [];
  let name: BackendName | null = null;
  let reason = '';
  if (requested) {
    const want = normalise(requested);
    const why = await TRY[want](true);
    if (why) throw new UserError(`backend '${want}' was requested (${opts.requested ? '--backend' : 'TFJS_BACKEND'}) but cannot start: ${why}`);
    name = want;
    reason = `requested with ${opts.requested ? '--backend' : 'TFJS_BACKEND'}`;
  } else {
    for (const cand of BACKEND_NAMES) {
      const why = await TRY[cand](false);
      if (why === null) {
        name = cand;
        reason = skipped.length === 0 ? 'first choice available' : `fallback: ${skipped.map((s) => s.why).join('; ')}`;
        break;
      }
      skipped.push({ name: cand, why });
    }
  }
  if (!name) throw new Error('no tfjs backend could start');
  const gpu = name === 'tensorflow-gpu' || name === 'tensorflow' ? gpuInUse(tf.backend()) : null;
  chosen = { name, tfBackend: tf.getBackend(), reason, skipped, gpu: gpu?.gpu ?? null };
  if (gpu) chosen.gpuEvidence = gpu.evidence;
  if (name === 'webgpu' || webgpuWhy !== null) chosen.webgpu = await webgpuReport(name);
  for (const hook of onSelected) hook(name);
  chosen.kernels = ensureTrainingKernels();
  opts.log?.(`backend: ${name} (${reason})`);
  return chosen;
}

/**
 * Whether a native (tfjs-node / tfjs-node-gpu) backend runs on a GPU. libtensorflow decides at
 * context creation: tfjs-node's binding scans the device list and exposes the result as the
 * backend's `isUsingGpuDevice` flag and the binding's isUsingGpuDevice(); older bindings expose
 * the device list itself. Each source is tried in turn, defensively (none of this can be
 * exercised without the native package): null when no source answers. A GPU package whose
 * CUDA libraries fail to load still starts, on the CPU, and reports false here.
 */
export function gpuInUse(backend: unknown): { gpu: boolean | null; evidence: string } {
  const b = backend as {
    isUsingGpuDevice?: unknown;
    isGPUPackage?: unknown;
    binding?: { isUsingGpuDevice?: () => unknown; TFE_ContextListDevices?: () => unknown };
  } | null;
  if (!b || typeof b !== 'object') return { gpu: null, evidence: 'no backend instance' };
  const pkg = b.isGPUPackage === true ? 'tfjs-node-gpu' : b.isGPUPackage === false ? 'tfjs-node (CPU build)' : 'native backend';
  const hidden = process.env.CUDA_VISIBLE_DEVICES;
  const note = hidden !== undefined && /^\s*(-1)?\s*$/.test(hidden) ? '; CUDA_VISIBLE_DEVICES hides every GPU' : '';
  if (typeof b.isUsingGpuDevice === 'boolean') {
    return { gpu: b.isUsingGpuDevice, evidence: `${pkg}: libtensorflow ${b.isUsingGpuDevice ? 'found' : 'found no'} GPU device${note}` };
  }
  try {
    const r = b.binding?.isUsingGpuDevice?.();
    if (typeof r === 'boolean') return { gpu: r, evidence: `${pkg}: binding reports ${r ? 'a' : 'no'} GPU device${note}` };
  } catch {
    /* fall through */
  }
  try {
    const devices = b.binding?.TFE_ContextListDevices?.();
    if (Array.isArray(devices)) {
      const gpu = devices.some((d) => /GPU/i.test(String(d)));
      return { gpu, evidence: `${pkg}: devices ${devices.map(String).join(', ') || '(none)'}${note}` };
    }
  } catch {
    /* fall through */
  }
  return { gpu: null, evidence: `${pkg}: the binding does not say which devices it uses${note}` };
}

let hostOpsOn = process.env.PPUU_HOST_OPS !== '0';

/**
 * Whether the policy code's host ops run (policy/*-fused.ts, the sliding contexts, maskedMax):
 * passes of host code with an analytic gradient that replace many small tfjs kernels. On where
 * the active backend keeps tensors in host memory (wasm, cpu), so that reading a tensor is a
 * copy, unless switched off (PPUU_HOST_OPS=0, or setHostOps(false) for A/B runs and tests); GPU
 * backends (webgpu; the native one may sit on a GPU) always use the tfjs ops.
 */
export function hostOps(): boolean {
  const b = tf.getBackend();
  return hostOpsOn && (b === 'wasm' || b === 'cpu');
}

/** Switches the host ops on or off (benchmarks and tests compare both paths); returns the previous setting. */
export function setHostOps(on: boolean): boolean {
  const was = hostOpsOn;
  hostOpsOn = on;
  return was;
}

/**
 * Registers this project's training kernels for the active tfjs backend (and for cpu, the usual
 * second backend); returns those active on the current backend. initBackend does this itself;
 * call it after switching backends by hand with tf.setBackend.
 */
export function ensureTrainingKernels(): string[] {
  registerTrainingKernels('cpu');
  return registerTrainingKernels(tf.getBackend());
}

// Load the wasm package now (42 ms; it only registers kernels, the binary starts on selection) so
// that our kernels replace its stock ones at import time: a later tf.setBackend('wasm') by hand
// then trains too. A missing or broken package is reported by tryWasm when it is tried.
try {
  await import('@tensorflow/tfjs-backend-wasm');
} catch {
  /* optional here */
}
registerTrainingKernels('cpu');
registerTrainingKernels('wasm');

/**
 * The WebGPU adapter and whether it is used (probing Dawn if no one has yet): for `ppuu info`,
 * which reports the adapter even where another backend was chosen.
 */
export async function webgpuReport(name: BackendName | undefined = chosen?.name): Promise<NonNullable<BackendChoice['webgpu']>> {
  const p = await probeWebgpu();
  if (name === 'webgpu') {
    const how = p.adapter?.hardware ? 'hardware adapter' : `software adapter (${p.adapter?.softwareWhy ?? 'unknown'})`;
    return { adapter: p.adapter, used: true, why: `in use: ${how}` };
  }
  const notTried = chosen?.reason.startsWith('requested') ? `not tried: ${chosen.name} was ${chosen.reason}` : 'not tried: a backend earlier in the order started';
  const passed = webgpuWhy ?? (p.adapter ? (p.adapter.hardware ? notTried : `software adapter (${p.adapter.softwareWhy}); used only with --backend webgpu`) : (p.why ?? 'no WebGPU adapter'));
  return { adapter: p.adapter, used: false, why: passed };
}

/** The current choice, or null before initBackend. */
export function currentBackend(): BackendChoice | null {
  return chosen;
}
