/**
 * Conv2D for wasm through this project's matrix products (conv-gemm.ts) instead of XNNPACK.
 * The stock kernel builds an XNNPACK operator per filter tensor, transposing and packing the
 * filter first (10-14 ns per weight on this machine); in training every update gives the filters
 * new tensors, so that cost came back every step for every layer. This kernel reads the filter
 * in place at the same arithmetic speed. Cases it does not cover (NCHW, non-float inputs, a heap
 * it cannot use) go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelCalls } from './kernel-call.js';
import { WasmHeap } from './wasm-heap.js';
import { convForwardGemm, geometryOf } from './conv-gemm.js';

export function conv2dConfig(backendName: string, stock: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: 'Conv2D',
    backendName,
    setupFunc: stock.setupFunc,
    kernelFunc: (args) => {
      const { inputs, backend, attrs } = args;
      const x = inputs.x!;
      const filter = inputs.filter!;
      const a = attrs as unknown as tf.Conv2DAttrs;
      const heap = WasmHeap.of(backend as tf.KernelBackend);
      if (!heap || a.dataFormat === 'NCHW' || x.dtype !== 'float32' || filter.dtype !== 'float32') return stock.kernelFunc(args);
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
        a.strides, a.dilations, a.pad, a.dimRoundingMode, false, 'channelsLast',
      );
      return convForwardGemm(new KernelCalls(backend as tf.KernelBackend, backendName), heap, x, filter, geometryOf(info));
    },
  };
}
