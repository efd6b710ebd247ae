/**
 * Slice for wasm that copies straight from heap to heap. The stock kernel first copies the whole
 * input out of the heap (readSync) and then copies each contiguous run through a new subarray;
 * for the forward model's last context frame (3 of 60 channels of [B, 117, 24, 60]) that is
 * ~1 ms per sample, about as much as a convolution layer. Here axes taken whole merge with the
 * axis outside them (a channel slice of [B, H, W, C] is B * H * W runs at one stride), and the
 * runs are copied element by element when short and with copyWithin when long, over an odometer
 * of the remaining outer axes. 4-byte types only (float32, int32); others go to the stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { WasmHeap } from './wasm-heap.js';

/** Runs shorter than this are copied by a loop (cheaper than a copyWithin call). */
const SHORT_RUN = 32;

/** `count` runs of `run` elements, the k-th from src + k * step, written one after another from dst. */
function copyRuns(h: Int32Array, dst: number, src: number, count: number, step: number, run: number): void {
  if (run === 3) {
    // A frame's 3 channels (the commonest slice of the models' images).
    for (let k = 0; k < count; k++, src += step, dst += 3) {
      h[dst] = h[src]!;
      h[dst + 1] = h[src + 1]!;
      h[dst + 2] = h[src + 2]!;
    }
  } else if (run < SHORT_RUN) {
    for (let k = 0; k < count; k++, src += step, dst += run) for (let i = 0; i < run; i++) h[dst + i] = h[src + i]!;
  } else {
    for (let k = 0; k < count; k++, src += step, dst += run) h.copyWithin(dst, src, src + run);
  }
}

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
      // Adjacent axes merge where the inner one is taken whole (its elements then lie at one
      // stride): a channel slice of [B, H, W, C] becomes B * H * W runs at stride C, copied by
      // one flat loop instead of an odometer step per run.
      const strides = tf.util.computeStrides(x.shape);
      strides.push(1);
      let base = src0;
      for (let d = 0; d < rank; d++) base += b[d]! * strides[d]!;
      // The run (contiguous, innermost) and the outer axes, innermost first; an axis joins the
      // group inside it when that group covers its axes whole.
      let run = s[rank - 1]!;
      let runWhole = run === x.shape[rank - 1];
      const groups: Array<{ count: number; step: number; whole: boolean }> = [];
      for (let d = rank - 2; d >= 0; d--) {
        const whole = s[d] === x.shape[d];
        const top = groups[groups.length - 1];
        if (!top && runWhole) {
          run *= s[d]!;
          runWhole = whole;
        } else if (top && top.whole) {
          top.count *= s[d]!;
          top.whole = whole;
        } else {
          groups.push({ count: s[d]!, step: strides[d]!, whole });
        }
      }
      groups.reverse();
      const sizes = groups.map((g) => g.count);
      const steps = groups.map((g) => g.step);
      const outer = groups.length;
      if (outer === 0) {
        if (run < SHORT_RUN) for (let i = 0; i < run; i++) h[dst + i] = h[base + i]!;
        else h.copyWithin(dst, base, base + run);
        return out;
      }
      // An odometer over the outer groups; the innermost group's runs are copied by copyRuns.
      const inner = outer - 1;
      const idx = new Array<number>(inner).fill(0);
      const perCall = sizes[inner]! * run;
      for (;;) {
        let src = base;
        for (let d = 0; d < inner; d++) src += idx[d]! * steps[d]!;
        copyRuns(h, dst, src, sizes[inner]!, steps[inner]!, run);
        dst += perCall;
        let d = inner - 1;
        while (d >= 0 && ++idx[d]! === sizes[d]!) idx[d--] = 0;
        if (d < 0) break;
      }
      return out;
    },
  };
}
