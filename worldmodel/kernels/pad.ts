/**
 * PadV2 for wasm that writes straight into the heap. The stock kernel costs ~5 ms to pad
 * [80, 117, 24, 1] to 3 channels, and every channel slice a gradient passes back through
 * becomes such a pad (the uncertainty term's costs read the lane and car channels of 80
 * predicted frames). Here the output is filled with the constant and the input written into
 * its block by slice.ts's strided copies. 4-byte types only (float32, int32); others, and
 * reflect / symmetric modes (MirrorPad, a different kernel), go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { heapCopyKernelConfig } from './wasm-heap.js';
import { blockLayout, copyBlock } from './slice.js';

export function padConfig(backendName: string, stock: tf.KernelConfig): tf.KernelConfig {
  return heapCopyKernelConfig('PadV2', backendName, stock, ({ inputs, attrs }, heap, makeOutput) => {
    const x = inputs.x!;
    const { paddings, constantValue } = attrs as unknown as tf.PadV2Attrs;
    const outShape = x.shape.map((n, d) => paddings[d]![0] + n + paddings[d]![1]);
    const out = makeOutput(outShape, x.dtype);
    const n = outShape.reduce((p, q) => p * q, 1);
    if (n === 0) return out;
    const dst = heap.address(out) >>> 2;
    if (x.dtype === 'float32') heap.f32().fill(constantValue, dst, dst + n);
    else heap.i32().fill(constantValue, dst, dst + n);
    if (x.shape.reduce((p, q) => p * q, 1) === 0) return out;
    const src = heap.address(x) >>> 2;
    if (x.shape.length === 0) {
      heap.i32()[dst] = heap.i32()[src]!;
      return out;
    }
    const { offset, run, sizes, steps } = blockLayout(outShape, paddings.map((p) => p[0]), x.shape);
    copyBlock(heap, dst + offset, src, run, sizes, steps, false);
    return out;
  });
}
