/**
 * Element-wise training updates on the tfjs wasm heap, as generated WebAssembly SIMD loops
 * (wasm-asm.ts) over the backend's memory:
 *
 *   adam:  g' = g * scale,  m = b1 m + (1 - b1) g',  v = b2 v + (1 - b2) g'^2,
 *          out = w - step * m / (sqrt(v) * invRootBc2 + eps)
 *          (PyTorch's Adam with step = lr / (1 - b1^t), invRootBc2 = 1 / sqrt(1 - b2^t));
 *          m and v are updated in place, the new weights are written to `out` (a new tensor,
 *          so that nothing derived from the old weights can be mistaken for the new ones);
 *   sumSquares: sum of x^2 over a float32 array, squared and accumulated in float64.
 *
 * Four lanes at a time in float32 (the JavaScript loop they replace took ~210 ms and ~45 ms per
 * step over the paper model's 15.6 M weights; these are bound by memory traffic instead).
 */
import * as tf from '@tensorflow/tfjs';
import { Fn, Op, Simd, T, buildModule } from './wasm-asm.js';
import { WasmHeap } from './wasm-heap.js';
import { isShared } from './gemm-wasm.js';

type Info = tf.TensorInfo;

interface Exports {
  adam(n: number, w: number, m: number, v: number, g: number, out: number, scale: number, b1: number, omb1: number, b2: number, omb2: number, step: number, invRootBc2: number, eps: number): void;
  sumsq(n: number, x: number): number;
}

const F64X2_PROMOTE_LOW = 0x5f;
const F64X2_ADD = 0xf0;
const F64X2_MUL = 0xf2;
const F64X2_EXTRACT_LANE = 0x21;

function adamFn(): Fn {
  const f = new Fn('adam', [T.i32, T.i32, T.i32, T.i32, T.i32, T.i32, T.f32, T.f32, T.f32, T.f32, T.f32, T.f32, T.f32, T.f32]);
  const [N, W, M, V, G, OUT, SCALE, B1, OMB1, B2, OMB2, STEP, IRB, EPS] = Array.from({ length: 14 }, (_, i) => i) as number[];
  const i = f.local(T.i32);
  const end = f.local(T.i32);
  const [gv, mv, vv] = [f.local(T.v128), f.local(T.v128), f.local(T.v128)];
  const [cScale, cB1, cOmb1, cB2, cOmb2, cStep, cIrb, cEps] = Array.from({ length: 8 }, () => f.local(T.v128));
  const [gs, ms, vs] = [f.local(T.f32), f.local(T.f32), f.local(T.f32)];
  const splat = (src: number, dst: number) => f.get(src).simd(Simd.f32x4Splat).set(dst);
  splat(SCALE!, cScale!);
  splat(B1!, cB1!);
  splat(OMB1!, cOmb1!);
  splat(B2!, cB2!);
  splat(OMB2!, cOmb2!);
  splat(STEP!, cStep!);
  splat(IRB!, cIrb!);
  splat(EPS!, cEps!);
  const mulV = () => f.simd(Simd.f32x4Mul);
  const addV = () => f.simd(Simd.f32x4Add);
  // Byte offsets: i runs over bytes, four floats at a time, then one at a time.
  f.get(N!).i32c(4).op(Op.i32Mul).set(end);
  f.i32c(0).set(i);
  f.block(() => {
    f.loop(() => {
      f.get(i).i32c(16).op(Op.i32Add).get(end).op(Op.i32GtS).brIf(1);
      f.get(G!).get(i).op(Op.i32Add).vLoad().get(cScale!).simd(Simd.f32x4Mul).set(gv);
      f.get(M!).get(i).op(Op.i32Add).vLoad().get(cB1!);
      mulV();
      f.get(gv).get(cOmb1!);
      mulV();
      addV();
      f.set(mv);
      f.get(V!).get(i).op(Op.i32Add).vLoad().get(cB2!);
      mulV();
      f.get(gv).get(gv);
      mulV();
      f.get(cOmb2!);
      mulV();
      addV();
      f.set(vv);
      f.get(M!).get(i).op(Op.i32Add).get(mv).vStore();
      f.get(V!).get(i).op(Op.i32Add).get(vv).vStore();
      // out = w - step * m / (sqrt(v) * irb + eps)
      f.get(OUT!).get(i).op(Op.i32Add);
      f.get(W!).get(i).op(Op.i32Add).vLoad();
      f.get(cStep!).get(mv);
      mulV();
      f.get(vv).simd(Simd.f32x4Sqrt).get(cIrb!);
      mulV();
      f.get(cEps!);
      addV();
      f.simd(Simd.f32x4Div).simd(Simd.f32x4Sub).vStore();
      f.addTo(i, 16);
      f.br(0);
    });
  });
  f.block(() => {
    f.loop(() => {
      f.get(i).get(end).op(Op.i32GeS).brIf(1);
      f.get(G!).get(i).op(Op.i32Add).f32Load().get(SCALE!).op(Op.f32Mul).set(gs);
      f.get(M!).get(i).op(Op.i32Add).f32Load().get(B1!).op(Op.f32Mul).get(gs).get(OMB1!).op(Op.f32Mul).op(Op.f32Add).set(ms);
      f.get(V!).get(i).op(Op.i32Add).f32Load().get(B2!).op(Op.f32Mul).get(gs).get(gs).op(Op.f32Mul).get(OMB2!).op(Op.f32Mul).op(Op.f32Add).set(vs);
      f.get(M!).get(i).op(Op.i32Add).get(ms).f32Store();
      f.get(V!).get(i).op(Op.i32Add).get(vs).f32Store();
      f.get(OUT!).get(i).op(Op.i32Add);
      f.get(W!).get(i).op(Op.i32Add).f32Load();
      f.get(STEP!).get(ms).op(Op.f32Mul);
      f.get(vs).op(Op.f32Sqrt).get(IRB!).op(Op.f32Mul).get(EPS!).op(Op.f32Add);
      f.op(Op.f32Div).op(Op.f32Sub).f32Store();
      f.addTo(i, 4);
      f.br(0);
    });
  });
  return f;
}

function sumsqFn(): Fn {
  const f = new Fn('sumsq', [T.i32, T.i32], [T.f64]);
  const [N, X] = [0, 1];
  const i = f.local(T.i32);
  const end = f.local(T.i32);
  const x = f.local(T.v128);
  const w = f.local(T.v128);
  const [lo, hi] = [f.local(T.v128), f.local(T.v128)];
  const s = f.local(T.f64);
  const xd = f.local(T.f64);
  f.get(N).i32c(4).op(Op.i32Mul).set(end);
  f.i32c(0).set(i);
  f.v128zero().set(lo);
  f.v128zero().set(hi);
  f.block(() => {
    f.loop(() => {
      f.get(i).i32c(16).op(Op.i32Add).get(end).op(Op.i32GtS).brIf(1);
      f.get(X).get(i).op(Op.i32Add).vLoad().set(x);
      // lanes 0, 1 and (after moving them down) 2, 3, widened to float64, squared and accumulated
      f.get(lo).get(x).simd(F64X2_PROMOTE_LOW).tee(w).get(w).simd(F64X2_MUL).simd(F64X2_ADD).set(lo);
      f.get(hi).get(x).get(x).simd(Simd.shuffle);
      f.op(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
      f.simd(F64X2_PROMOTE_LOW).tee(w).get(w).simd(F64X2_MUL).simd(F64X2_ADD).set(hi);
      f.addTo(i, 16);
      f.br(0);
    });
  });
  f.get(lo).get(hi).simd(F64X2_ADD).set(lo);
  f.get(lo).simd(F64X2_EXTRACT_LANE).op(0).get(lo).simd(F64X2_EXTRACT_LANE).op(1).op(0xa0 /* f64.add */).set(s);
  f.block(() => {
    f.loop(() => {
      f.get(i).get(end).op(Op.i32GeS).brIf(1);
      f.get(X).get(i).op(Op.i32Add).f32Load().op(0xbb /* f64.promote_f32 */).tee(xd).get(xd).op(0xa2 /* f64.mul */).get(s).op(0xa0).set(s);
      f.addTo(i, 4);
      f.br(0);
    });
  });
  f.get(s);
  return f;
}

const compiled = new Map<boolean, WebAssembly.Module>();
const instances = new WeakMap<WebAssembly.Memory, Exports>();

function exportsFor(heap: WasmHeap): Exports {
  let ex = instances.get(heap.memory);
  if (!ex) {
    const shared = isShared(heap.memory);
    let module = compiled.get(shared);
    if (!module) compiled.set(shared, (module = new WebAssembly.Module(buildModule([adamFn(), sumsqFn()], { shared }) as BufferSource)));
    ex = new WebAssembly.Instance(module, { env: { memory: heap.memory } }).exports as unknown as Exports;
    instances.set(heap.memory, ex);
  }
  return ex;
}

export interface AdamStep {
  scale: number;
  beta1: number;
  beta2: number;
  /** lr / (1 - beta1^t) */
  step: number;
  /** sqrt(1 - beta2^t) */
  rootBc2: number;
  eps: number;
}

/**
 * One Adam update of `w` on the wasm heap: m and v (same size, not shared with any other tensor)
 * are updated in place and the new weights come back as a new float32 tensor (owned by the
 * caller). `g` is a heap tensor or an array (copied in). null where the backend is not a wasm
 * heap this module can use.
 */
export function adamOnHeap(backend: tf.KernelBackend, w: Info, m: Info, v: Info, g: Info | Float32Array, p: AdamStep): Info | null {
  const heap = WasmHeap.of(backend);
  if (!heap || ![w, m, v, ...(g instanceof Float32Array ? [] : [g])].every((t) => t.dtype === 'float32' && heap.owns(t))) return null;
  const ex = exportsFor(heap);
  const be = backend as unknown as { makeOutput(shape: number[], dtype: string): Info; disposeData(id: object): void };
  const n = w.shape.reduce((a, b) => a * b, 1);
  const out = be.makeOutput(w.shape, 'float32');
  let gInfo: Info | null = null;
  try {
    let ga: number;
    if (g instanceof Float32Array) {
      gInfo = be.makeOutput([n], 'float32');
      ga = heap.address(gInfo);
      heap.f32().set(g.subarray(0, n), ga >>> 2);
    } else ga = heap.address(g);
    ex.adam(n, heap.address(w), heap.address(m), heap.address(v), ga, heap.address(out), p.scale, p.beta1, 1 - p.beta1, p.beta2, 1 - p.beta2, p.step, 1 / p.rootBc2, p.eps);
  } finally {
    if (gInfo) be.disposeData(gInfo.dataId);
  }
  return out;
}

/** Sum of squares of a float32 heap tensor (float64 accumulation); null off the wasm heap. */
export function sumSquaresOnHeap(backend: tf.KernelBackend, x: Info): number | null {
  const heap = WasmHeap.of(backend);
  if (!heap || x.dtype !== 'float32' || !heap.owns(x)) return null;
  return exportsFor(heap).sumsq(x.shape.reduce((a, b) => a * b, 1), heap.address(x));
}
