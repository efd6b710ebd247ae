/**
 * Conv2DBackpropFilter (the gradient of a 2-D convolution with respect to its filter) computed
 * as one forward convolution with the batch and channel axes swapped:
 *
 *   dW[kh, kw, ci, co] = sum_{b, oh, ow} x[b, oh*sh + kh*dh - top, ow*sw + kw*dw - left, ci] * dy[b, oh, ow, co]
 *
 * Read with ci as the batch, b as the input channel and dy^T[oh, ow, b, co] as the filter, this
 * is a convolution of x^T[ci, h, w, b] with stride (dh, dw) and dilation (sh, sw): the original
 * stride becomes the dilation. The backend's own Conv2D (XNNPACK on wasm) does the work, so the
 * gradient runs at forward-convolution speed. x is cropped or zero-padded so that the result is
 * exactly [kh, kw]; NHWC and NCHW, 'same' / 'valid' / numeric / explicit padding, any stride and
 * dilation are handled.
 *
 * On wasm the gradient is instead one product per filter tap straight from x and dy
 * (conv-gemm.ts): no transposes, and no filter for XNNPACK to pack (dy^T above is a new filter
 * every call).
 */
import * as tf from '@tensorflow/tfjs';
import { KernelCalls } from './kernel-call.js';
import { WasmHeap } from './wasm-heap.js';
import { convFilterGradGemm, geometryOf } from './conv-gemm.js';

type Info = tf.TensorInfo;
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

export interface FilterGradParams {
  filterShape: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  /** Not an attribute of the tfjs kernel (its gradient refuses dilation); supported for direct use. */
  dilations?: number | [number, number];
}

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

/** dW for x [B, H, W, Ci] (or NCHW) and dy [B, Ho, Wo, Co]; returns a TensorInfo owned by the caller. */
export function conv2dBackpropFilterInfo(calls: KernelCalls, x: Info, dy: Info, p: FilterGradParams): Info {
  const heap = WasmHeap.of(calls.backend);
  if (heap && p.dataFormat !== 'NCHW' && x.dtype === 'float32' && dy.dtype === 'float32') {
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number], p.filterShape, p.strides, p.dilations ?? 1, p.pad, p.dimRoundingMode, false, 'channelsLast',
    );
    if (info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) {
      throw new Error(`Conv2DBackpropFilter: dy is ${dy.shape[1]}x${dy.shape[2]} but the convolution gives ${info.outHeight}x${info.outWidth}`);
    }
    return convFilterGradGemm(calls, heap, x, dy, geometryOf(info));
  }
  try {
    const nchw = p.dataFormat === 'NCHW';
    const xs = nchw ? calls.transpose(x, [0, 2, 3, 1]) : x;
    const dys = nchw ? calls.transpose(dy, [0, 2, 3, 1]) : dy;
    const [kh, kw] = p.filterShape;
    const [sh, sw] = pair(p.strides);
    const [dh, dw] = pair(p.dilations ?? 1);
    const info = tf.backend_util.computeConv2DInfo(
      xs.shape as [number, number, number, number], p.filterShape, [sh, sw], [dh, dw], p.pad, p.dimRoundingMode, false, 'channelsLast',
    );
    const [b, h, w] = xs.shape as number[] as [number, number, number, number];
    const [, ho, wo] = dys.shape as number[] as [number, number, number, number];
    if (info.outHeight !== ho || info.outWidth !== wo) {
      throw new Error(`Conv2DBackpropFilter: dy is ${ho}x${wo} but the convolution gives ${info.outHeight}x${info.outWidth}`);
    }
    // Rows [-top, needH - top) of x take part; crop what lies beyond, zero-pad what lies outside.
    const needH = (ho - 1) * sh + (kh - 1) * dh + 1;
    const needW = (wo - 1) * sw + (kw - 1) * dw + 1;
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    const bottom = needH - h - top;
    const right = needW - w - left;
    const cropped = calls.slice(xs, [0, 0, 0, 0], [b, h + Math.min(0, bottom), w + Math.min(0, right), xs.shape[3]!]);
    const xT = swapFirstLast(calls, cropped); // [Ci, H', W', B]
    const dyT = calls.transpose(dys, [1, 2, 0, 3]); // [Ho, Wo, B, Co]
    const explicit = [[0, 0], [top, Math.max(0, bottom)], [left, Math.max(0, right)], [0, 0]];
    const conv = calls.conv2d(xT, dyT, [dh, dw], [sh, sw], explicit); // [Ci, kh, kw, Co]
    return calls.keep(calls.transpose(conv, [1, 2, 0, 3]));
  } finally {
    calls.dispose();
  }
}

/**
 * Transpose [A, ..., D] -> [D, ..., A] (perm [3, 1, 2, 0] for 4-D). The stock wasm Transpose is
 * fine for a small A (the batch) but loses its cache locality for a large one; from A = 48 on
 * this loop, which for each middle position reads the A x D block row by row and writes it
 * column by column, is about 2x faster (measured on the batch-64 encoder input: ~35 ms against
 * ~70-100 ms).
 */
function swapFirstLast(calls: KernelCalls, x: Info): Info {
  const shape = x.shape;
  const a = shape[0]!;
  const d = shape[shape.length - 1]!;
  const p = shape.slice(1, -1).reduce((m, n) => m * n, 1);
  if (a < 48) return calls.transpose(x, [shape.length - 1, ...shape.slice(1, -1).map((_, i) => i + 1), 0]);
  return calls.produce([d, ...shape.slice(1, -1), a], (out) => {
    const src = calls.view(x);
    for (let k = 0; k < p; k++) {
      for (let j = 0; j < d; j++) {
        const o = (j * p + k) * a;
        for (let i = 0, s = k * d + j; i < a; i++, s += p * d) out[o + i] = src[s]!;
      }
    }
  });
}

/** A KernelConfig for `backendName` that replaces (or supplies) its Conv2DBackpropFilter. */
export function conv2dBackpropFilterConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: 'Conv2DBackpropFilter',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const a = attrs as unknown as tf.Conv2DBackpropFilterAttrs & { dilations?: number | [number, number] };
      return conv2dBackpropFilterInfo(new KernelCalls(backend as tf.KernelBackend, backendName), inputs.x!, inputs.dy!, {
        filterShape: a.filterShape,
        strides: a.strides,
        pad: a.pad,
        dataFormat: a.dataFormat,
        dimRoundingMode: a.dimRoundingMode,
        dilations: a.dilations,
      });
    },
  };
}
