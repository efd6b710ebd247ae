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

/** Output pixels per pass over the taps of a filter gradient on one thread (their input rows, ~200 KB for a 12-channel 117 x 24 frame, stay in L2). */
const PIXEL_CHUNK = 1024;

/**
 * Runs `tap(t, p0, n)` (tap t's product over output pixels p0 ... p0 + n, accumulating from the
 * second chunk on) for every tap over all pixels. On one thread the pixels are cut into chunks
 * and every tap runs over a chunk before the next (tap by tap over all pixels would stream the
 * whole input from memory once per tap: 16 times for a 4 x 4 filter); with helper threads each
 * tap is one task over all pixels (their results are disjoint). The sums run in the same order
 * either way.
 */
function byPixelChunks(heap: WasmHeap, pixels: number, taps: number, tap: (t: number, p0: number, n: number) => void): void {
  if (heap.gemm.threads > 1) {
    heap.gemm.batch(() => {
      for (let t = 0; t < taps; t++) tap(t, 0, pixels);
    });
    return;
  }
  for (let p0 = 0; p0 < pixels; p0 += PIXEL_CHUNK) {
    const n = Math.min(PIXEL_CHUNK, pixels - p0);
    for (let t = 0; t < taps; t++) tap(t, p0, n);
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
    if (g.outC < 8 && g.inC > g.outC) {
      // Few output channels (a first layer): per tap dW_t^T = dy^T x_t, the x rows as the wide
      // side of the product (4-float dy rows would leave most of each SIMD tile empty), then
      // each tap's [Co, Ci] block transposed into place.
      const tmp = calls.alloc([taps, g.outC, g.inC]);
      const tma = heap.address(tmp);
      const tap = (t: number, p0: number, n: number) =>
        heap.gemm.indirectBT(g.outC, g.inC, n, dya + p0 * g.outC * 4, g.outC * 4, ta + (p0 * taps + t) * 4, taps * 4, 0, tma + t * g.inC * g.outC * 4, g.inC * 4, p0 > 0, 1);
      byPixelChunks(heap, pixels, taps, tap);
      for (let t = 0; t < taps; t++) heap.gemm.transpose(g.outC, g.inC, tma + t * g.inC * g.outC * 4, g.inC * 4, dwa + t * g.inC * g.outC * 4, g.outC * 4);
      return calls.keep(dw);
    }
    const tap = (t: number, p0: number, n: number) =>
      heap.gemm.indirectT(g.inC, g.outC, n, ta + (p0 * taps + t) * 4, taps * 4, 0, dya + p0 * g.outC * 4, g.outC * 4, dwa + t * g.inC * g.outC * 4, g.outC * 4, p0 > 0, 1);
    byPixelChunks(heap, pixels, taps, tap);
    return calls.keep(dw);
  } finally {
    calls.dispose();
  }
}
