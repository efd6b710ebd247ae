/**
 * Concat for wasm that copies straight from heap to heap. The stock kernel copies every row of
 * every input through a new subarray; appending a predicted frame to the context stack
 * ([B, 117, 24, 57] and [B, 117, 24, 3] on the channel axis, once per unrolled step) makes that
 * hundreds of thousands of tiny copies per step. Here short blocks are copied by a loop and long
 * ones with copyWithin. 4-byte types only (float32, int32); others go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { WasmHeap } from './wasm-heap.js';

/** Blocks shorter than this are copied by a loop (cheaper than a copyWithin call). */
const SHORT_RUN = 32;

export function concatConfig(backendName: string, stock: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: 'Concat',
    backendName,
    setupFunc: stock.setupFunc,
    kernelFunc: (args) => {
      const { backend, attrs } = args;
      const inputs = args.inputs as unknown as tf.TensorInfo[];
      const heap = WasmHeap.of(backend as tf.KernelBackend);
      const dtype = inputs[0]?.dtype;
      if (!heap || inputs.length === 0 || (dtype !== 'float32' && dtype !== 'int32') || !inputs.every((t) => t.dtype === dtype && heap.owns(t))) {
        return stock.kernelFunc(args);
      }
      const axis = tf.util.parseAxisParam((attrs as unknown as tf.ConcatAttrs).axis, inputs[0]!.shape)[0]!;
      tf.backend_util.assertParamsConsistent(inputs.map((t) => t.shape), axis);
      const outShape = tf.backend_util.computeOutShape(inputs.map((t) => t.shape), axis);
      const be = backend as unknown as { makeOutput(shape: number[], dtype: string): tf.TensorInfo };
      const out = be.makeOutput(outShape, dtype);
      const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
      if (size(outShape) === 0) return out;
      const outer = size(outShape.slice(0, axis));
      const blocks = inputs.map((t) => size(t.shape.slice(axis)));
      const srcs = inputs.map((t) => (size(t.shape) === 0 ? 0 : heap.address(t) >>> 2));
      const h = heap.i32(); // bit-exact copies for floats too
      let dst = heap.address(out) >>> 2;
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inputs.length; i++) {
          const n = blocks[i]!;
          if (n === 0) continue;
          const src = srcs[i]! + o * n;
          if (n < SHORT_RUN) for (let j = 0; j < n; j++) h[dst + j] = h[src + j]!;
          else h.copyWithin(dst, src, src + n);
          dst += n;
        }
      }
      return out;
    },
  };
}
