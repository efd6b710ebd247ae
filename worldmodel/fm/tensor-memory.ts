/**
 * Direct access to a float32 tensor's memory on the backends that keep it in JavaScript-visible
 * memory (wasm: a view on the module heap; cpu: the backing array), so that element-wise updates
 * over millions of weights (Adam, gradient norms, copying gradients to shared memory) run as one
 * loop instead of a dozen full-size tensor ops. Other backends get null and callers fall back
 * to tfjs ops. A view is valid until the next tfjs allocation (the wasm heap may move).
 */
import * as tf from '@tensorflow/tfjs';

interface WasmLike {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  refCount(dataId: object): number;
}
interface CpuLike {
  data: { get(dataId: object): { values?: unknown } | undefined };
  refCount(dataId: object): number;
}

function backendOf(): { name: string; b: unknown } {
  return { name: tf.getBackend(), b: tf.backend() };
}

/** A live view of `t`'s values, or null where the backend keeps them elsewhere. */
export function liveView(t: tf.Tensor): Float32Array | null {
  if (t.dtype !== 'float32' || t.isDisposed) return null;
  const { name, b } = backendOf();
  if (name === 'wasm') return (b as WasmLike).typedArrayFromHeap({ dataId: t.dataId, shape: t.shape, dtype: 'float32' });
  if (name === 'cpu') {
    const v = (b as CpuLike).data.get(t.dataId)?.values;
    return v instanceof Float32Array && v.length === t.size ? v : null;
  }
  return null;
}

/** A live view that may be written in place: null unless no other tensor shares the memory. */
export function exclusiveView(t: tf.Tensor): Float32Array | null {
  const { name, b } = backendOf();
  if (name !== 'wasm' && name !== 'cpu') return null;
  if ((b as WasmLike | CpuLike).refCount(t.dataId) !== 1) return null;
  return liveView(t);
}

/** Sum of squares of the values (float64 accumulation). */
export function sumSquares(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return s;
}
