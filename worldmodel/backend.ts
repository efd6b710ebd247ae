/**
 * Compute backend selection. tfjs is the API everywhere; the backend is picked once per process:
 *   1. `--backend NAME` or the TFJS_BACKEND environment variable, if given;
 *   2. else @tensorflow/tfjs-node-gpu (CUDA), then @tensorflow/tfjs-node (both optional
 *      dependencies whose native library may be missing);
 *   3. else @tensorflow/tfjs-backend-wasm, with this project's training kernels registered;
 *   4. else the plain JavaScript cpu backend.
 * Each candidate is tried safely: a failed import or init falls through to the next one.
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../common/errors.js';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

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
    if (!(await tf.setBackend('wasm'))) return 'wasm backend did not initialise';
    return null;
  } catch (e) {
    return `wasm backend failed: ${(e as Error).message.split('\n')[0]}`;
  }
}

async function tryCpu(): Promise<string | null> {
  return (await tf.setBackend('cpu')) ? null : 'cpu backend did not initialise';
}

const TRY: Record<BackendName, () => Promise<string | null>> = {
  'tensorflow-gpu': () => tryNative(true),
  tensorflow: () => tryNative(false),
  wasm: tryWasm,
  cpu: tryCpu,
};

function normalise(requested: string): BackendName {
  const r = requested.trim().toLowerCase();
  const alias: Record<string, BackendName> = {
    gpu: 'tensorflow-gpu', 'node-gpu': 'tensorflow-gpu', 'tfjs-node-gpu': 'tensorflow-gpu', 'tensorflow-gpu': 'tensorflow-gpu',
    node: 'tensorflow', 'tfjs-node': 'tensorflow', tensorflow: 'tensorflow', wasm: 'wasm', cpu: 'cpu',
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
    const why = await TRY[want]();
    if (why) throw new UserError(`backend '${want}' was requested (${opts.requested ? '--backend' : 'TFJS_BACKEND'}) but cannot start: ${why}`);
    name = want;
    reason = `requested with ${opts.requested ? '--backend' : 'TFJS_BACKEND'}`;
  } else {
    for (const cand of BACKEND_NAMES) {
      const why = await TRY[cand]();
      if (why === null) {
        name = cand;
        reason = skipped.length === 0 ? 'first choice available' : `fallback: ${skipped.map((s) => s.why).join('; ')}`;
        break;
      }
      skipped.push({ name: cand, why });
    }
  }
  if (!name) throw new Error('no tfjs backend could start');
  chosen = { name, tfBackend: tf.getBackend(), reason, skipped, gpu: name === 'tensorflow-gpu' ? await detectGpu() : null };
  for (const hook of onSelected) hook(name);
  opts.log?.(`backend: ${name} (${reason})`);
  return chosen;
}

/** Whether tfjs-node-gpu placed work on a GPU: libtensorflow lists its devices. */
async function detectGpu(): Promise<boolean | null> {
  try {
    const backend = tf.backend() as unknown as { binding?: { TFE_ContextListDevices?: () => string[] } };
    const devices = backend.binding?.TFE_ContextListDevices?.();
    if (Array.isArray(devices)) return devices.some((d) => /GPU/i.test(d));
  } catch {
    /* unknown */
  }
  return null;
}

/** The current choice, or null before initBackend. */
export function currentBackend(): BackendChoice | null {
  return chosen;
}
