/**
 * Registers this project's training kernels with tfjs, per backend:
 *   wasm: Conv2DBackpropFilter (missing in stock wasm), Conv2DBackpropInput (stock one is a slow
 *         scalar loop), UnsortedSegmentSum (missing; gather's gradient), BatchMatMul (stock one
 *         is fast only untransposed and unbatched, which a dense layer's gradient never is);
 *   cpu:  Conv2DBackpropFilter (the stock one is a cache-hostile loop, ~100x slower) and
 *         UnsortedSegmentSum (the stock one makes a pass over x per segment). The stock cpu
 *         Conv2DBackpropInput is faster than ours built on cpu's Conv2D, so it stays.
 * The stock kernels that are replaced are remembered, so benchmarks and tests can compare
 * against them (stockKernel) or put them back (restoreStockKernels).
 */
import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.js';
import { unsortedSegmentSumConfig } from './unsorted-segment-sum.js';
import { batchMatMulConfig } from './batch-mat-mul.js';
import { conv2dConfig } from './conv2d.js';
import { fusedMatMulConfig } from './fused-mat-mul.js';
import { identityConfig } from './identity.js';
import { sliceConfig } from './slice.js';
import { concatConfig } from './concat.js';
import { padConfig } from './pad.js';
import { prepareSharedWasmHeap } from './shared-heap.js';

// Before any wasm backend starts: its heap becomes shareable, so that the products can use every core.
await prepareSharedWasmHeap();

export const TRAINING_KERNELS = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'UnsortedSegmentSum', 'BatchMatMul', 'Conv2D', '_FusedMatMul', 'Identity', 'Slice', 'Concat', 'PadV2'] as const;
export type TrainingKernel = (typeof TRAINING_KERNELS)[number];

/** Builds our config; `stock` is the kernel it replaces (undefined where the backend has none). */
const FACTORIES: Record<TrainingKernel, (backendName: string, stock: tf.KernelConfig | undefined) => tf.KernelConfig | null> = {
  Conv2DBackpropFilter: (b) => conv2dBackpropFilterConfig(b),
  Conv2DBackpropInput: (b) => conv2dBackpropInputConfig(b),
  UnsortedSegmentSum: (b) => unsortedSegmentSumConfig(b),
  // Wraps the stock kernel: nothing to do where there is none.
  BatchMatMul: (b, stock) => (stock ? batchMatMulConfig(b, stock) : null),
  Conv2D: (b, stock) => (stock ? conv2dConfig(b, stock) : null),
  _FusedMatMul: (b, stock) => (stock ? fusedMatMulConfig(b, stock) : null),
  Identity: (b, stock) => (stock ? identityConfig(b, stock) : null),
  Slice: (b, stock) => (stock ? sliceConfig(b, stock) : null),
  Concat: (b, stock) => (stock ? concatConfig(b, stock) : null),
  PadV2: (b, stock) => (stock ? padConfig(b, stock) : null),
};

/** Which of our kernels each backend gets (the rest keep their stock kernel). */
export const KERNELS_FOR: Record<string, readonly TrainingKernel[]> = {
  wasm: TRAINING_KERNELS,
  cpu: ['Conv2DBackpropFilter', 'UnsortedSegmentSum'],
};

const key = (name: string, backendName: string) => `${name}/${backendName}`;
/** Stock configs we replaced (null: the backend had none). */
const stock = new Map<string, tf.KernelConfig | null>();
/** Our configs currently registered. */
const ours = new Map<string, tf.KernelConfig>();

/**
 * Registers our kernels for `backendName` (idempotent). Does nothing for a backend whose stock
 * kernels are not loaded yet (its package would overwrite ours on import). Returns the names
 * of our kernels now active for that backend.
 */
export function registerTrainingKernels(backendName: string): TrainingKernel[] {
  const wanted = KERNELS_FOR[backendName];
  if (!wanted || !tf.getKernel('Conv2D', backendName)) return [];
  const keepStock = stockByRequest();
  for (const name of wanted) {
    if (keepStock.has(name) || keepStock.has('all')) continue;
    const k = key(name, backendName);
    const current = tf.getKernel(name, backendName);
    if (current && current === ours.get(k)) continue;
    if (!stock.has(k)) stock.set(k, current ?? null);
    const orig = stock.get(k) ?? undefined;
    const config = FACTORIES[name](backendName, orig);
    if (!config) continue;
    // tfjs runs setupFunc only for kernels registered when the backend starts; keep the stock
    // kernel's set-up (wasm binds its C function there) so that it stays callable.
    if (orig?.setupFunc && !config.setupFunc) config.setupFunc = orig.setupFunc;
    if (current) tf.unregisterKernel(name, backendName);
    tf.registerKernel(config);
    ours.set(k, config);
  }
  return activeTrainingKernels(backendName);
}

/**
 * Kernels left stock on request: PPUU_STOCK_KERNELS=BatchMatMul,Conv2DBackpropInput (or 'all'; 'heap'
 * keeps our kernels but off this project's wasm-heap code, see wasm-heap.ts),
 * for A/B measurements and for ruling our kernels out when chasing a numerical problem.
 */
function stockByRequest(): Set<string> {
  const list = typeof process === 'undefined' ? '' : (process.env.PPUU_STOCK_KERNELS ?? '');
  return new Set(list.split(',').map((s) => s.trim()).filter(Boolean));
}

/** Our kernels currently registered for `backendName`. */
export function activeTrainingKernels(backendName: string): TrainingKernel[] {
  return TRAINING_KERNELS.filter((n) => {
    const mine = ours.get(key(n, backendName));
    return mine !== undefined && tf.getKernel(n, backendName) === mine;
  });
}

/** The stock kernel that ours replaced (or the one registered now, if we never replaced it). */
export function stockKernel(name: string, backendName: string): tf.KernelConfig | undefined {
  const k = key(name, backendName);
  if (stock.has(k)) return stock.get(k) ?? undefined;
  return tf.getKernel(name, backendName);
}

/** Puts the stock kernels of `backendName` back (ours are dropped; missing ones stay missing). */
export function restoreStockKernels(backendName: string): void {
  for (const name of TRAINING_KERNELS) {
    const k = key(name, backendName);
    if (!stock.has(k)) continue;
    if (tf.getKernel(name, backendName)) tf.unregisterKernel(name, backendName);
    const orig = stock.get(k);
    if (orig) tf.registerKernel(orig);
    ours.delete(k);
  }
}
