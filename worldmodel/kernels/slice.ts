/**
 * Slice for wasm that copies straight from heap to heap. The stock kernel first copies the whole
 * input out of the heap (readSync) and then copies each contiguous run through a new subarray;
 * for the forward model's last context frame (3 of 60 channels of [B, 117, 24, 60]) that is
 * ~1 ms per sample, about as much as a convolution layer. Here axes taken whole merge with the
 * axis outside them (a channel slice of [B, H, W, C] is B * H * W runs at one stride), and the
 * runs are copied by the generated module's strided-copy loop (gemm-wasm.ts copyRuns) over an
 * odometer of the remaining outer axes. 4-byte types only (float32, int32); others go to the
 * stock kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { heapCopyKernelConfig, type WasmHeap } from './wasm-heap.js';

/**
 * Where the block `begin` + `size` of a row-major tensor of `shape` lies: its first element's
 * offset, and the block as runs of `run` contiguous elements over outer axes (`sizes`, at
 * element `steps`, outermost first). Axes taken whole merge with the axis outside them, so a
 * channel slice of [B, H, W, C] is B * H * W runs at one stride and a crop of the rows one run
 * per image.
 */
export function blockLayout(shape: readonly number[], begin: readonly number[], size: readonly number[]): { offset: number; run: number; sizes: number[]; steps: number[] } {
  const rank = shape.length;
  const strides = tf.util.computeStrides(shape as number[]);
  strides.push(1);
  let offset = 0;
  for (let d = 0; d < rank; d++) offset += begin[d]! * strides[d]!;
  // The run (contiguous, innermost) and the outer axes, innermost first; an axis joins the
  // group inside it when that group covers its axes whole.
  let run = size[rank - 1]!;
  let runWhole = run === shape[rank - 1];
  const groups: Array<{ count: number; step: number; whole: boolean }> = [];
  for (let d = rank - 2; d >= 0; d--) {
    const whole = size[d] === shape[d];
    const top = groups[groups.length - 1];
    if (!top && runWhole) {
      run *= size[d]!;
      runWhole = whole;
    } else if (top && top.whole) {
      top.count *= size[d]!;
      top.whole = whole;
    } else {
      groups.push({ count: size[d]!, step: strides[d]!, whole });
    }
  }
  groups.reverse();
  return { offset, run, sizes: groups.map((g) => g.count), steps: groups.map((g) => g.step) };
}

/**
 * Copies between a strided block (blockLayout's runs from `strided`) and a contiguous range
 * (from `packed`): `gather` true reads the block into the range (Slice), false writes the range
 * into the block (Pad).
 */
export function copyBlock(heap: WasmHeap, strided: number, packed: number, run: number, sizes: readonly number[], steps: readonly number[], gather: boolean): void {
  const outer = sizes.length;
  if (outer === 0) {
    copyRuns(heap, strided, packed, 1, 0, run, gather);
    return;
  }
  // An odometer over the outer groups; the innermost group's runs are copied by copyRuns.
  const inner = outer - 1;
  const idx = new Array<number>(inner).fill(0);
  const perCall = sizes[inner]! * run;
  for (;;) {
    let at = strided;
    for (let d = 0; d < inner; d++) at += idx[d]! * steps[d]!;
    copyRuns(heap, at, packed, sizes[inner]!, steps[inner]!, run, gather);
    packed += perCall;
    let d = inner - 1;
    while (d >= 0 && ++idx[d]! === sizes[d]!) idx[d--] = 0;
    if (d < 0) break;
  }
}

/**
 * `count` runs of `run` elements, the k-th at strided + k * step, and the same runs one after
 * another from packed; `gather` copies strided -> packed, else packed -> strided.
 */
function copyRuns(heap: WasmHeap, strided: number, packed: number, count: number, step: number, run: number, gather: boolean): void {
  if (gather) copyStrided(heap, packed, run, strided, step, count, run);
  else copyStrided(heap, strided, step, packed, run, count, run);
}

/**
 * `count` runs of `run` 4-byte elements from src (k-th at src + k * srcStep) to dst (k-th at
 * dst + k * dstStep), element indices into the heap; by the generated module's copy loop
 * (gemm-wasm.ts), several times faster than a JavaScript loop for short runs.
 */
export function copyStrided(heap: WasmHeap, dst: number, dstStep: number, src: number, srcStep: number, count: number, run: number): void {
  heap.gemm.copyRuns(4 * dst, 4 * dstStep, 4 * src, 4 * srcStep, count, 4 * run);
}

export function sliceConfig(backendName: string, stock: tf.KernelConfig): tf.KernelConfig {
  return heapCopyKernelConfig('Slice', backendName, stock, ({ inputs, attrs }, heap, makeOutput) => {
    const x = inputs.x!;
    const { begin, size } = attrs as unknown as tf.SliceAttrs;
    const [b, s] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, begin, size);
    tf.slice_util.assertParamsValid(x as unknown as tf.Tensor, b, s);
    const out = makeOutput(s, x.dtype);
    if (s.reduce((p, q) => p * q, 1) === 0) return out;
    const src0 = heap.address(x) >>> 2;
    const dst = heap.address(out) >>> 2;
    if (x.shape.length === 0) {
      heap.i32()[dst] = heap.i32()[src0]!;
      return out;
    }
    const { offset, run, sizes, steps } = blockLayout(x.shape, b, s);
    copyBlock(heap, src0 + offset, dst, run, sizes, steps, true);
    return out;
  });
}
