/**
 * Slice for wasm that copies straight from heap to heap. The stock kernel first copies the whole
 * input out of the heap (readSync) and then copies each contiguous run through a new subarray;
 * for the forward model's last context frame (3 of 60 channels of [B, 117, 24, 60]) that is
 * ~1 ms per sample, about as much as a convolution layer. Here runs of the last axis are copied
 * element by element when short and with copyWithin when long, over an odometer of the outer
 * axes. 4-byte types only (float32, int32); others go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { WasmHeap } from './wasm-heap.js';

/** Runs shorter than this are copied by a loop (cheaper than a copyWithin call). */
const SHORT_RUN = 32;

export function sliceConfig(backendName: string, stock: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: 'Slice',
    backendName,
    setupFunc: stock.setupFunc,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const x = inputs.x!;
      const heap = WasmHeap.of(backend as tf.KernelBackend);
      if (!heap || (x.dtype !== 'float32' && x.dtype !== 'int32') || !heap.owns(x)) return stock.kernelFunc(args);
      const { begin, size } = attrs as unknown as tf.SliceAttrs;
      const [b, s] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, begin, size);
      tf.slice_util.assertParamsValid(x as unknown as tf.Tensor, b, s);
      const be = backend as unknown as { makeOutput(shape: number[], dtype: string): tf.TensorInfo };
      const out = be.makeOutput(s, x.dtype);
      const n = s.reduce((p, q) => p * q, 1);
      if (n === 0) return out;
      const h = heap.i32(); // 4-byte elements copied as integers: bit-exact for floats too (no NaN rewriting)
      const src0 = heap.address(x) >>> 2;
      let dst = heap.address(out) >>> 2;
      const rank = x.shape.length;
      if (rank === 0) {
        h[dst] = h[src0]!;
        return out;
      }
      const strides = tf.util.computeStrides(x.shape);
      strides.push(1);
      const run = s[rank - 1]!;
      let base = src0;
      for (let d = 0; d < rank; d++) base += b[d]! * strides[d]!;
      const outer = rank - 1;
      const idx = new Array<number>(outer).fill(0);
      for (;;) {
        let src = base;
        for (let d = 0; d < outer; d++) src += idx[d]! * strides[d]!;
        if (run < SHORT_RUN) for (let i = 0; i < run; i++) h[dst + i] = h[src + i]!;
        else h.copyWithin(dst, src, src + run);
        dst += run;
        let d = outer - 1;
        while (d >= 0 && ++idx[d]! === s[d]!) idx[d--] = 0;
        if (d < 0) break;
      }
      return out;
    },
  };
}
