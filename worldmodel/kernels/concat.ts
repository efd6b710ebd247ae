/**
 * Concat for wasm that copies straight from heap to heap. The stock kernel copies every row of
 * every input through a new subarray; appending a predicted frame to the context stack
 * ([B, 117, 24, 57] and [B, 117, 24, 3] on the channel axis, once per unrolled step) makes that
 * hundreds of thousands of tiny copies per step. Here each input's blocks are copied to the
 * output's row stride by slice.ts's strided copies (unrolled for 3-channel frames, copyWithin for
 * long blocks). 4-byte types only (float32, int32); others go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { heapCopyKernelConfig } from './wasm-heap.js';
import { copyStrided } from './slice.js';

export function concatConfig(backendName: string, stock: tf.KernelConfig): tf.KernelConfig {
  return heapCopyKernelConfig('Concat', backendName, stock, (args, heap, makeOutput) => {
    const inputs = args.inputs as unknown as tf.TensorInfo[];
    const axis = tf.util.parseAxisParam((args.attrs as unknown as tf.ConcatAttrs).axis, inputs[0]!.shape)[0]!;
    tf.backend_util.assertParamsConsistent(inputs.map((t) => t.shape), axis);
    const outShape = tf.backend_util.computeOutShape(inputs.map((t) => t.shape), axis);
    const out = makeOutput(outShape, inputs[0]!.dtype);
    const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
    if (size(outShape) === 0) return out;
    const outer = size(outShape.slice(0, axis));
    const blocks = inputs.map((t) => size(t.shape.slice(axis)));
    const srcs = inputs.map((t) => (size(t.shape) === 0 ? 0 : heap.address(t) >>> 2));
    const dst = heap.address(out) >>> 2;
    // Input by input: its `outer` blocks land at the output's row stride (the sum of the blocks).
    const stride = blocks.reduce((a, b) => a + b, 0);
    let at = dst;
    for (let i = 0; i < inputs.length; i++) {
      const n = blocks[i]!;
      if (n === 0) continue;
      if (outer === 1 || n === stride) copyStrided(heap, at, n, srcs[i]!, n, 1, n * outer);
      else copyStrided(heap, at, stride, srcs[i]!, n, outer, n);
      at += n;
    }
    return out;
  });
}
