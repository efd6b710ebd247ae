/**
 * UnsortedSegmentSum (the gradient of gather): out[s, ...] = sum of x[i, ...] over every i with
 * segmentIds[i] == s; ids outside [0, numSegments) are dropped, as in the cpu kernel. segmentIds
 * may cover the first k axes of x. Stock wasm has no such kernel and stock cpu makes one masked
 * pass over x per segment; this one reads both inputs once and accumulates in a typed array
 * (the sizes involved, embedding tables and gathered rows, are small next to the convolutions).
 */
import * as tf from '@tensorflow/tfjs';

export function unsortedSegmentSumConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: 'UnsortedSegmentSum',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const x = inputs.x!;
      const ids = inputs.segmentIds!;
      const numSegments = (attrs as unknown as tf.UnsortedSegmentSumAttrs).numSegments;
      const be = backend as tf.KernelBackend;
      const xs = be.readSync(x.dataId) as tf.TypedArray;
      const is = be.readSync(ids.dataId) as tf.TypedArray;
      const innerShape = x.shape.slice(ids.shape.length);
      const inner = innerShape.reduce((a, b) => a * b, 1);
      const out = x.dtype === 'int32' ? new Int32Array(numSegments * inner) : new Float32Array(numSegments * inner);
      for (let i = 0; i < is.length; i++) {
        const s = is[i]!;
        if (s < 0 || s >= numSegments) continue;
        const src = i * inner;
        const dst = s * inner;
        for (let j = 0; j < inner; j++) out[dst + j]! += xs[src + j]!;
      }
      const shape = [numSegments, ...innerShape];
      const dtype = x.dtype === 'int32' ? 'int32' : 'float32';
      return { dataId: be.write(out, shape, dtype), shape, dtype };
    },
  };
}
