/**
 * Conv2DBackpropInput (the gradient of a 2-D convolution with respect to its input, which is
 * also the forward pass of a transposed convolution) computed by sub-pixel decomposition:
 *
 *   dx[b, ih, iw, ci] = sum_{kh, kw, co} dy[b, oh, ow, co] * W[kh, kw, ci, co],  ih = oh*sh - top + kh
 *
 * For the input rows of one phase r = ih mod sh only the taps kh = k0 + j*sh with
 * k0 = (r + top) mod sh contribute, and dx[q*sh + r] = sum_j dy[q + c - j] * W[k0 + j*sh] with
 * c = (r + top - k0) / sh. That is a stride-1 correlation of dy with the spatially flipped,
 * channel-swapped sub-filter. Each of the sh*sw phases is one stock Conv2D (XNNPACK on wasm); the
 * phase outputs are interleaved into the result in one pass (straight into the wasm heap).
 * The work equals one forward convolution (no multiplications with inserted zeros). The phase
 * filters are cached per filter tensor (derived-cache.ts), so a transposed convolution applied
 * again with the same weights costs no more than a forward one.
 *
 * On wasm each phase is instead one product on the heap (gemm-wasm.ts) that reads dy through a
 * window table and writes its rows straight into their places in dx (no phase outputs, no
 * interleaving pass), with the phase filter as it lies (no XNNPACK packing of it).
 */
import * as tf from '@tensorflow/tfjs';
import { KernelCalls } from './kernel-call.js';
import { derivedCacheFor } from './derived-cache.js';
import { WasmHeap } from './wasm-heap.js';

type Info = tf.TensorInfo;
type Pad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

export interface InputGradParams {
  inputShape: [number, number, number, number];
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const pair = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);

/** Taps of one phase along one axis: the first tap k0, their count, and the dy offset of output row 0. */
interface PhaseTaps {
  /** Index into the flipped filter of the first tap used (taps then step by the stride). */
  flippedStart: number;
  count: number;
  /** dy row read by output row q = 0 and sub-filter tap 0 (may be negative: zero padding). */
  dyOffset: number;
}

/**
 * The stride-1 filters of all sh*sw phases (null where a phase has no taps), from the cache when
 * this filter was seen before. They are gathered from the filter values in one pass each: the
 * stock Reverse and StridedSlice kernels of wasm are far slower than this loop.
 */
function phaseFilters(calls: KernelCalls, filter: Info, [sh, sw]: [number, number], top: number, left: number): Array<Info | null> {
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  return derivedCacheFor(calls.backend).get(filter.dataId, `phases ${filter.shape} ${sh} ${sw} ${top} ${left}`, () => {
    const heap = WasmHeap.of(calls.backend);
    if (heap) return phaseFiltersOnHeap(calls, heap, filter, [sh, sw], top, left);
    const weights = calls.read(filter);
    const out: Array<Info | null> = [];
    for (let rh = 0; rh < sh; rh++) {
      const th = phaseTaps(rh, sh, top, kh);
      for (let rw = 0; rw < sw; rw++) {
        const tw = phaseTaps(rw, sw, left, kw);
        if (th.count === 0 || tw.count === 0) out.push(null);
        else out.push(calls.keep(calls.fromValues([th.count, tw.count, co, ci], subFilter(weights, kh, kw, ci, co, th, sh, tw, sw))));
      }
    }
    return out;
  });
}

/**
 * phaseFilters on the wasm heap: every tap's [Ci, Co] matrix is transposed straight from the
 * filter's memory into the phase filter's by the products module's SIMD transpose (4 x 4 blocks;
 * a JavaScript loop took ~3 ns per weight, which for the 1 M-weight layers was milliseconds).
 */
function phaseFiltersOnHeap(calls: KernelCalls, heap: WasmHeap, filter: Info, [sh, sw]: [number, number], top: number, left: number): Array<Info | null> {
  const [kh, kw, ci, co] = filter.shape as [number, number, number, number];
  const out: Array<Info | null> = [];
  const jobs: Array<{ info: Info; th: PhaseTaps; tw: PhaseTaps }> = [];
  for (let rh = 0; rh < sh; rh++) {
    const th = phaseTaps(rh, sh, top, kh);
    for (let rw = 0; rw < sw; rw++) {
      const tw = phaseTaps(rw, sw, left, kw);
      if (th.count === 0 || tw.count === 0) out.push(null);
      else {
        const info = calls.keep(calls.alloc([th.count, tw.count, co, ci]));
        out.push(info);
        jobs.push({ info, th, tw });
      }
    }
  }
  const src0 = heap.address(filter);
  for (const { info, th, tw } of jobs) {
    let dst = heap.address(info);
    for (let mh = 0; mh < th.count; mh++) {
      const srcH = kh - 1 - (th.flippedStart + mh * sh);
      for (let mw = 0; mw < tw.count; mw++, dst += ci * co * 4) {
        const srcW = kw - 1 - (tw.flippedStart + mw * sw);
        // dst[o, i] = src[i, o] for this tap
        heap.gemm.transpose(ci, co, src0 + (srcH * kw + srcW) * ci * co * 4, co * 4, dst, ci * 4);
      }
    }
  }
  return out;
}

/**
 * The stride-1 filter of one phase: sub[mh, mw, co, ci] = W[kh - 1 - fh, kw - 1 - fw, ci, co] with
 * fh = th.flippedStart + mh*sh (likewise fw): flipped in space, input and output channels swapped.
 */
function subFilter(w: tf.TypedArray, kh: number, kw: number, ci: number, co: number, th: PhaseTaps, sh: number, tw: PhaseTaps, sw: number): Float32Array {
  const out = new Float32Array(th.count * tw.count * co * ci);
  let d = 0;
  for (let mh = 0; mh < th.count; mh++) {
    const srcH = kh - 1 - (th.flippedStart + mh * sh);
    for (let mw = 0; mw < tw.count; mw++) {
      const srcW = kw - 1 - (tw.flippedStart + mw * sw);
      const tap = (srcH * kw + srcW) * ci * co;
      for (let o = 0; o < co; o++) {
        for (let i = 0; i < ci; i++) out[d++] = w[tap + i * co + o]!;
      }
    }
  }
  return out;
}

function phaseTaps(r: number, stride: number, padBefore: number, k: number): PhaseTaps {
  const k0 = (r + padBefore) % stride;
  const count = k0 >= k ? 0 : Math.ceil((k - k0) / stride);
  const c = (r + padBefore - k0) / stride;
  // Sub-filter tap m multiplies W[k0 + (count-1-m)*stride], i.e. flipped index (k-1-k0) - (count-1-m)*stride.
  return { flippedStart: k - 1 - k0 - (count - 1) * stride, count, dyOffset: c - count + 1 };
}

/**
 * The wasm-heap version of the input gradient: per phase, rows of dx (found through a table of
 * their addresses) = the dy pixels under the phase's taps (a window table, zeros outside dy)
 * times the phase filter [taps * Co, Ci].
 */
function inputGradGemm(calls: KernelCalls, heap: WasmHeap, dy: Info, filter: Info, inShape: [number, number, number, number], info: tf.backend_util.Conv2DInfo): Info {
  const [sh, sw] = [info.strideHeight, info.strideWidth];
  const [b, h, w, ci] = inShape;
  const [kh, kw, , co] = filter.shape as [number, number, number, number];
  const [, ho, wo] = dy.shape as [number, number, number, number];
  const subs = phaseFilters(calls, filter, [sh, sw], info.padInfo.top, info.padInfo.left);
  const dx = calls.alloc([b, h, w, ci]);
  const zero = heap.zeroAddress(co);
  const dya = heap.address(dy);
  const dxa = heap.address(dx);
  // The tables first (by the module's window-table builder): for phase (rh, rw), row (bb, q, q2)
  // of the product is dx pixel (q sh + rh, q2 sw + rw), a 1 x 1 window of stride (sh, sw) over
  // dx from that phase's first pixel; its taps are the stride-1 window of dy over the phase's
  // sub-filter, from dy row q + dyOffset (zeros outside dy).
  const products: Array<[number, number, number, number, number]> = [];
  for (let rh = 0; rh < sh; rh++) {
    const th = phaseTaps(rh, sh, info.padInfo.top, kh);
    const nq = Math.ceil((h - rh) / sh);
    for (let rw = 0; rw < sw; rw++) {
      const tw = phaseTaps(rw, sw, info.padInfo.left, kw);
      const nq2 = Math.ceil((w - rw) / sw);
      const rows = b * nq * nq2;
      if (rows <= 0) continue;
      const sub = subs[rh * sw + rw];
      const taps = sub ? th.count * tw.count : 0;
      const ctab = calls.alloc([rows], 'int32');
      heap.gemm.windowTable(heap.address(ctab), dxa + (rh * w + rw) * ci * 4, zero, { batch: b, outH: nq, outW: nq2, kh: 1, kw: 1, sh, sw, dh: 1, dw: 1, top: 0, left: 0, inH: h, inW: w, inC: ci });
      let atab = 0;
      if (sub) {
        const t = calls.alloc([rows, taps], 'int32');
        heap.gemm.windowTable(heap.address(t), dya, zero, { batch: b, outH: nq, outW: nq2, kh: th.count, kw: tw.count, sh: 1, sw: 1, dh: 1, dw: 1, top: -th.dyOffset, left: -tw.dyOffset, inH: ho, inW: wo, inC: co });
        atab = heap.address(t);
      }
      products.push([rows, taps, atab, sub ? heap.address(sub) : 0, heap.address(ctab)]);
    }
  }
  // The phases write disjoint rows of dx: one dispatch, the threads sharing the phases' row chunks.
  heap.gemm.batch(() => {
    for (const [rows, taps, atab, sub, ctab] of products) heap.gemm.indirect(rows, ci, taps, co, atab, Math.max(1, taps) * 4, sub, ci * 4, ctab, false);
  });
  return calls.keep(dx);
}

/** dx [B, H, W, Ci] (or NCHW) from dy [B, Ho, Wo, Co] and W [kh, kw, Ci, Co]; the result is owned by the caller. */
export function conv2dBackpropInputInfo(calls: KernelCalls, dy: Info, filter: Info, p: InputGradParams): Info {
  const heap = WasmHeap.of(calls.backend);
  if (heap && p.dataFormat !== 'NCHW' && dy.dtype === 'float32' && filter.dtype === 'float32') {
    try {
      const info = tf.backend_util.computeConv2DInfo(
        p.inputShape, filter.shape as [number, number, number, number], p.strides, 1, p.pad, p.dimRoundingMode, false, 'channelsLast',
      );
      if (info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) {
        throw new Error(`Conv2DBackpropInput: dy is ${dy.shape[1]}x${dy.shape[2]} but the convolution gives ${info.outHeight}x${info.outWidth}`);
      }
      return inputGradGemm(calls, heap, dy, filter, p.inputShape, info);
    } finally {
      calls.dispose();
    }
  }
  try {
    const nchw = p.dataFormat === 'NCHW';
    const inShape = (nchw ? [p.inputShape[0], p.inputShape[2], p.inputShape[3], p.inputShape[1]] : p.inputShape) as [number, number, number, number];
    const dys = nchw ? calls.transpose(dy, [0, 2, 3, 1]) : dy;
    const [sh, sw] = pair(p.strides);
    const info = tf.backend_util.computeConv2DInfo(
      inShape, filter.shape as [number, number, number, number], [sh, sw], 1, p.pad, p.dimRoundingMode, false, 'channelsLast',
    );
    const [b, h, w, ci] = inShape;
    const [kh, kw, , co] = filter.shape as [number, number, number, number];
    const [, ho, wo] = dys.shape as [number, number, number, number];
    if (info.outHeight !== ho || info.outWidth !== wo) {
      throw new Error(`Conv2DBackpropInput: dy is ${ho}x${wo} but the convolution gives ${info.outHeight}x${info.outWidth}`);
    }
    const hq = Math.ceil(h / sh);
    const wq = Math.ceil(w / sw);
    const subs = phaseFilters(calls, filter, [sh, sw], info.padInfo.top, info.padInfo.left);
    const phases: Array<Info | null> = [];
    for (let rh = 0; rh < sh; rh++) {
      const th = phaseTaps(rh, sh, info.padInfo.top, kh);
      for (let rw = 0; rw < sw; rw++) {
        const tw = phaseTaps(rw, sw, info.padInfo.left, kw);
        const sub = subs[rh * sw + rw];
        if (!sub) {
          phases.push(null);
          continue;
        }
        const win = windowOf(calls, dys, th, hq, tw, wq);
        phases.push(calls.conv2d(win.x, sub, [1, 1], [1, 1], win.pad));
      }
    }
    // Interleave: dx[b, q*sh + rh, q'*sw + rw, :] = phase(rh, rw)[b, q, q', :], in one pass.
    const dx = calls.produce([b, h, w, ci], (out) => {
      const views = phases.map((ph) => (ph ? calls.view(ph) : null));
      for (let rh = 0; rh < sh; rh++) {
        for (let rw = 0; rw < sw; rw++) {
          const src = views[rh * sw + rw];
          for (let bb = 0; bb < b; bb++) {
            for (let q = 0, row = rh; q < hq && row < h; q++, row += sh) {
              let s = ((bb * hq + q) * wq) * ci;
              for (let q2 = 0, col = rw; q2 < wq; q2++, col += sw, s += ci) {
                if (col >= w) continue;
                const d = ((bb * h + row) * w + col) * ci;
                if (src) for (let c = 0; c < ci; c++) out[d + c] = src[s + c]!;
                else out.fill(0, d, d + ci);
              }
            }
          }
        }
      }
    });
    return calls.keep(nchw ? calls.transpose(dx, [0, 3, 1, 2]) : dx);
  } finally {
    calls.dispose();
  }
}

/**
 * The rows and columns of dy that a phase's stride-1 convolution reads, as a slice of dy (only
 * when part of dy is not read) plus the zero padding (left to the convolution, not copied).
 */
function windowOf(calls: KernelCalls, dy: Info, th: PhaseTaps, hq: number, tw: PhaseTaps, wq: number): { x: Info; pad: number[][] } {
  const [b, ho, wo, co] = dy.shape as [number, number, number, number];
  const span = (offset: number, n: number, taps: number, size: number) => {
    const last = offset + n - 1 + taps - 1; // inclusive
    const begin = Math.max(0, offset);
    const end = Math.min(size, last + 1);
    return { begin, size: Math.max(0, end - begin), before: Math.max(0, -offset), after: Math.max(0, last + 1 - size) };
  };
  const sh = span(th.dyOffset, hq, th.count, ho);
  const sw = span(tw.dyOffset, wq, tw.count, wo);
  if (sh.size === 0 || sw.size === 0) {
    return { x: calls.zeros([b, hq + th.count - 1, wq + tw.count - 1, co]), pad: [[0, 0], [0, 0], [0, 0], [0, 0]] };
  }
  return {
    x: calls.slice(dy, [0, sh.begin, sw.begin, 0], [b, sh.size, sw.size, co]),
    pad: [[0, 0], [sh.before, sh.after], [sw.before, sw.after], [0, 0]],
  };
}

/** A KernelConfig for `backendName` that replaces its Conv2DBackpropInput. */
export function conv2dBackpropInputConfig(backendName: string): tf.KernelConfig {
  return {
    kernelName: 'Conv2DBackpropInput',
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const a = attrs as unknown as tf.Conv2DBackpropInputAttrs;
      return conv2dBackpropInputInfo(new KernelCalls(backend as tf.KernelBackend, backendName), inputs.dy!, inputs.filter!, {
        inputShape: a.inputShape,
        strides: a.strides,
        pad: a.pad,
        dataFormat: a.dataFormat,
        dimRoundingMode: a.dimRoundingMode,
      });
    },
  };
}
