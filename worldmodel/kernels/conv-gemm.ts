/**
 * 2-D convolution (NHWC) and its filter gradient as matrix products on the wasm heap
 * (gemm-wasm.ts), reading the filter and the input where they lie:
 *
 *   forward:  y[p, co] = sum_{t, ci} x(p, t)[ci] * W[t, ci, co]      (p: output pixel, t: tap)
 *   filter:   dW[t, ci, co] = sum_p x(p, t)[ci] * dy[p, co]
 *
 * x(p, t) is the input pixel under tap t of output pixel p's window, or zeros where the window
 * lies in the padding. Instead of copying the windows into a matrix (im2col), a table holds the
 * address of x(p, t) for every (p, t), and the products read through it. W in HWIO order is
 * already the [taps * Ci, Co] right-hand matrix, so no weight is repacked; this is what makes a
 * training step's cost independent of the weights being new tensors every step.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelCalls } from './kernel-call.js';
import type { WasmHeap } from './wasm-heap.js';
import { derivedCacheFor } from './derived-cache.js';

type Info = tf.TensorInfo;

/** The geometry of a convolution, from tfjs's Conv2DInfo (channels-last). */
export interface ConvGeometry {
  batch: number;
  inH: number;
  inW: number;
  inC: number;
  outH: number;
  outW: number;
  outC: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  top: number;
  left: number;
}

export function geometryOf(info: tf.backend_util.Conv2DInfo): ConvGeometry {
  return {
    batch: info.batchSize,
    inH: info.inHeight,
    inW: info.inWidth,
    inC: info.inChannels,
    outH: info.outHeight,
    outW: info.outWidth,
    outC: info.outChannels,
    kh: info.filterHeight,
    kw: info.filterWidth,
    sh: info.strideHeight,
    sw: info.strideWidth,
    dh: info.dilationHeight,
    dw: info.dilationWidth,
    top: info.padInfo.top,
    left: info.padInfo.left,
  };
}

/**
 * The window table of x for geometry g: int32 [outPixels, kh * kw], entry (p, t) the byte
 * address of x(p, t), or of the heap's zero block (built by the products module). Returns the
 * table tensor (an intermediate of `calls`).
 */
export function windowTable(calls: KernelCalls, heap: WasmHeap, x: Info, g: ConvGeometry): Info {
  const taps = g.kh * g.kw;
  const pixels = g.batch * g.outH * g.outW;
  const zero = heap.zeroAddress(g.inC);
  const table = calls.alloc([pixels, taps], 'int32');
  heap.gemm.windowTable(heap.address(table), heap.address(x), zero, g);
  return table;
}

/**
 * The window table of x for geometry g, kept with x (derived-cache.ts) while x lives: a
 * convolution's forward pass and its filter gradient read the same windows of the same input
 * (training keeps x for the backward pass), so the second one finds the table built. The table
 * belongs to the cache: do not dispose it.
 */
export function sharedWindowTable(calls: KernelCalls, heap: WasmHeap, x: Info, g: ConvGeometry): Info {
  const key = `window ${[g.batch, g.inH, g.inW, g.inC, g.outH, g.outW, g.kh, g.kw, g.sh, g.sw, g.dh, g.dw, g.top, g.left].join(',')}`;
  return derivedCacheFor(calls.backend).get(x.dataId, key, () => [calls.keep(windowTable(calls, heap, x, g))])[0]!;
}

/** int32 [n] table of row addresses base, base + stride, ... */
export function rowTable(calls: KernelCalls, heap: WasmHeap, base: number, n: number, strideBytes: number): Info {
  const table = calls.alloc([n], 'int32');
  const t = heap.i32();
  const o = heap.address(table) >>> 2;
  for (let i = 0; i < n; i++) t[o + i] = base + i * strideBytes;
  return table;
}

/** y = conv(x, W) for geometry g; W [kh, kw, Ci, Co]. The result belongs to the caller. */
export function convForwardGemm(calls: KernelCalls, heap: WasmHeap, x: Info, filter: Info, g: ConvGeometry): Info {
  try {
    const out = calls.alloc([g.batch, g.outH, g.outW, g.outC]);
    const pixels = g.batch * g.outH * g.outW;
    const taps = g.kh * g.kw;
    const table = sharedWindowTable(calls, heap, x, g);
    const rows = rowTable(calls, heap, heap.address(out), pixels, g.outC * 4);
    heap.gemm.indirect(pixels, g.outC, taps, g.inC, heap.address(table), taps * 4, heap.address(filter), g.outC * 4, heap.address(rows), false);
    return calls.keep(out);
  } finally {
    calls.dispose();
  }
}

/** dW [kh, kw, Ci, Co] of conv(x, W) for geometry g, from x and dy [B, outH, outW, Co]. */
export function convFilterGradGemm(calls: KernelCalls, heap: WasmHeap, x: Info, dy: Info, g: ConvGeometry): Info {
  try {
    const dw = calls.alloc([g.kh, g.kw, g.inC, g.outC]);
    const pixels = g.batch * g.outH * g.outW;
    const taps = g.kh * g.kw;
    const table = sharedWindowTable(calls, heap, x, g);
    const ta = heap.address(table);
    const dya = heap.address(dy);
    const dwa = heap.address(dw);
    // One task per tap (the taps' results are disjoint): threads share the taps.
    heap.gemm.batch(() => {
      for (let t = 0; t < taps; t++) {
        heap.gemm.indirectT(g.inC, g.outC, pixels, ta + 4 * t, taps * 4, 0, dya, g.outC * 4, dwa + t * g.inC * g.outC * 4, g.outC * 4, false, 1);
      }
    });
    return calls.keep(dw);
  } finally {
    calls.dispose();
  }
}
