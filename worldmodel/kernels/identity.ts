/**
 * Identity for wasm that shares its input's memory (a reference count more) instead of copying
 * it, as tfjs's cpu backend does. tfjs runs Identity to keep every tensor a gradient will need
 * (engine.clone when recording the tape), which on stock wasm copied about 27 M values per
 * training step of the paper model at batch 1. Tensor data is never changed in place by tfjs
 * kernels, and this project's in-place writers (Adam's moments) check that no other tensor
 * shares the memory, so sharing is safe. Strings go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { heapKernelsEnabled } from './wasm-heap.js';

export function identityConfig(backendName: string, stock: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: 'Identity',
    backendName,
    setupFunc: stock.setupFunc,
    kernelFunc: (args) => {
      const x = args.inputs.x!;
      if (x.dtype === 'string' || !heapKernelsEnabled()) return stock.kernelFunc(args);
      (args.backend as tf.KernelBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
    },
  };
}
