/**
 * BatchMatMul for wasm that always reaches the stock kernel's fast path. Stock wasm multiplies at
 * full XNNPACK speed only when neither operand is transposed and there is a single batch; with
 * transposeA / transposeB (every dense layer's backward pass: dA = dY B^T, dB = A^T dY) or a
 * batch it falls back to a scalar loop 15-30x slower. Here transposed operands are transposed
 * explicitly (or the product is computed as C^T = B^T A^T when that moves fewer values), a batch
 * against a single matrix is folded into the rows, and other batches are multiplied one matrix
 * at a time. Untransposed single products go straight to the stock kernel (which caches the
 * packed weights of a repeated right operand).
 *
 * Where this project's own products can use the wasm heap (gemm-wasm.ts), they do the work
 * instead: no operand is packed, A^T B is read in place, and the transposed-B cases transpose
 * only the smaller operand (matMulGemm).
 */
import * as tf from '@tensorflow/tfjs';
import { KernelCalls } from './kernel-call.js';
import { WasmHeap } from './wasm-heap.js';

type Info = tf.TensorInfo;

export function batchMatMulConfig(backendName: string, stock: tf.KernelConfig): tf.KernelConfig {
  return {
    kernelName: 'BatchMatMul',
    backendName,
    // The stock kernel binds its wasm function in setupFunc; keep that working if the backend is re-initialised.
    setupFunc: stock.setupFunc,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const calls = new KernelCalls(backend as tf.KernelBackend, backendName);
      try {
        const a = inputs.a!;
        const b = inputs.b!;
        const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
        if (a.dtype !== 'float32' || b.dtype !== 'float32') return stock.kernelFunc({ inputs, backend, attrs });
        const heap = WasmHeap.of(backend as tf.KernelBackend);
        if (heap) {
          const r = matMulGemm(calls, heap, a, b, transposeA, transposeB);
          if (r) return r;
        }
        const ra = a.shape.length;
        const rb = b.shape.length;
        const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
        const batchA = a.shape.slice(0, -2).reduce((p, q) => p * q, 1);
        const batchB = b.shape.slice(0, -2).reduce((p, q) => p * q, 1);
        const batch = outer.reduce((p, q) => p * q, 1);
        if (!(batchA === batchB || batchA === 1 || batchB === 1) || (batchA !== batch && batchB !== batch)) {
          return stock.kernelFunc({ inputs, backend, attrs }); // multi-axis broadcasting: rare, leave it to the stock kernel
        }
        const [m, ka] = transposeA ? [a.shape[ra - 1]!, a.shape[ra - 2]!] : [a.shape[ra - 2]!, a.shape[ra - 1]!];
        const [kb, n] = transposeB ? [b.shape[rb - 1]!, b.shape[rb - 2]!] : [b.shape[rb - 2]!, b.shape[rb - 1]!];
        if (ka !== kb) throw new Error(`matMul: inner sizes ${ka} and ${kb} differ (shapes ${a.shape} and ${b.shape})`);
        // Tiny batched products: the per-matrix kernel calls would cost more than the stock loop.
        if (batch > 1 && m * ka * n < 16384) return stock.kernelFunc({ inputs, backend, attrs });
        const a3 = calls.reshape(a, [batchA, a.shape[ra - 2]!, a.shape[ra - 1]!]);
        const b3 = calls.reshape(b, [batchB, b.shape[rb - 2]!, b.shape[rb - 1]!]);
        const T = (x: Info): Info => calls.transpose(x, [0, 2, 1]);
        const mul = (x: Info, y: Info): Info => {
          const r = stock.kernelFunc({ inputs: { a: x, b: y }, backend, attrs: { transposeA: false, transposeB: false } as unknown as tf.NamedAttrMap });
          return calls.track(Array.isArray(r) ? r[0]! : r);
        };
        // One product [1, m, k] x [1, k, n] from operands stored as given (x transposed if tx ...).
        // XNNPACK packs the second operand; C^T = op(B)^T op(A)^T packs A instead and may need no
        // transpose of the big operand, so pick the variant that moves fewer values.
        const single = (x: Info, tx: boolean, y: Info, ty: boolean, mm: number): Info => {
          if (!tx && !ty) return mul(x, y);
          const direct = (tx ? mm * ka : 0) + (ty ? ka * n : 0) + ka * n;
          const swapped = (ty ? 0 : ka * n) + (tx ? 0 : mm * ka) + ka * mm + mm * n;
          if (direct <= swapped) return mul(tx ? T(x) : x, ty ? T(y) : y);
          return T(mul(ty ? y : T(y), tx ? x : T(x)));
        };
        let out: Info;
        if (batchB === 1) {
          // Every matrix of a against the one b: fold a's batch into its rows.
          if (batchA === 1) out = single(a3, transposeA, b3, transposeB, m);
          else out = single(calls.reshape(transposeA ? T(a3) : a3, [1, batchA * m, ka]), false, b3, transposeB, batchA * m);
        } else {
          const parts: Info[] = [];
          for (let i = 0; i < batch; i++) {
            const ai = batchA === 1 ? a3 : calls.slice(a3, [i, 0, 0], [1, a3.shape[1]!, a3.shape[2]!]);
            const bi = calls.slice(b3, [i, 0, 0], [1, b3.shape[1]!, b3.shape[2]!]);
            parts.push(single(ai, transposeA, bi, transposeB, m));
          }
          out = calls.concat(parts, 0);
        }
        return calls.keep(calls.reshape(out, [...outer, m, n]));
      } finally {
        calls.dispose();
      }
    },
  };
}

/**
 * op(A) op(B) on the wasm heap with this project's products, batched like BatchMatMul (equal
 * batches, or one side a single matrix); null for batch layouts it does not handle. With
 * `bias` ([n] or [1, n]) the product is added to it. The result is kept (owned by the caller);
 * `calls`' other intermediates are left for the caller to dispose.
 *
 *   A B      one product, B read in place;
 *   A^T B    one product with A read transposed in place;
 *   A B^T    either B^T is made explicitly, or C^T = B A^T with A^T made explicitly and C^T
 *            transposed back, whichever moves fewer values (a dense layer's input gradient
 *            transposes only the activations, never the weights);
 *   A^T B^T  (B A)^T, one product and one transpose of the result.
 */
export function matMulGemm(calls: KernelCalls, heap: WasmHeap, a: Info, b: Info, transposeA: boolean, transposeB: boolean, bias?: Info): Info | null {
  const ra = a.shape.length;
  const rb = b.shape.length;
  if (ra < 2 || rb < 2) return null;
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batchA = a.shape.slice(0, -2).reduce((p, q) => p * q, 1);
  const batchB = b.shape.slice(0, -2).reduce((p, q) => p * q, 1);
  const batch = outer.reduce((p, q) => p * q, 1);
  if (!(batchA === batchB || batchA === 1 || batchB === 1) || (batchA !== batch && batchB !== batch)) return null;
  const [m, ka] = transposeA ? [a.shape[ra - 1]!, a.shape[ra - 2]!] : [a.shape[ra - 2]!, a.shape[ra - 1]!];
  const [kb, n] = transposeB ? [b.shape[rb - 1]!, b.shape[rb - 2]!] : [b.shape[rb - 2]!, b.shape[rb - 1]!];
  if (ka !== kb) throw new Error(`matMul: inner sizes ${ka} and ${kb} differ (shapes ${a.shape} and ${b.shape})`);
  const k = ka;
  if (bias && bias.shape.reduce((p, q) => p * q, 1) !== n) return null;
  const T = (x: Info): Info => calls.transpose(calls.reshape(x, [x.shape.slice(0, -2).reduce((p, q) => p * q, 1), x.shape[x.shape.length - 2]!, x.shape[x.shape.length - 1]!]), [0, 2, 1]);
  const matA = m * k * 4;
  const matB = k * n * 4;
  const matC = m * n * 4;
  const offA = (i: number) => (batchA === 1 ? 0 : i * matA);
  const offB = (i: number) => (batchB === 1 ? 0 : i * matB);
  if (!transposeB) {
    const out = calls.alloc([...outer, m, n]);
    const aa = heap.address(a);
    const ba = heap.address(b);
    const ca = heap.address(out);
    if (bias) fillRows(heap, out, bias, batch * m, n);
    // Matrices of A against one B: one product over all their rows.
    if (!transposeA && batchB === 1) heap.gemm.product('nn', batch * m, n, k, aa, k * 4, ba, n * 4, ca, n * 4, !!bias);
    else for (let i = 0; i < batch; i++) {
      if (transposeA) heap.gemm.product('tn', m, n, k, aa + offA(i), m * 4, ba + offB(i), n * 4, ca + i * matC, n * 4, !!bias);
      else heap.gemm.product('nn', m, n, k, aa + offA(i), k * 4, ba + offB(i), n * 4, ca + i * matC, n * 4, !!bias);
    }
    return calls.keep(out);
  }
  if (!transposeA && n * k * batchB <= m * k * batchA + m * n * batch) {
    // B^T explicitly, then plain products.
    const out = calls.alloc([...outer, m, n]);
    const bt = T(b); // [batchB, k, n]
    const aa = heap.address(a);
    const ba = heap.address(bt);
    const ca = heap.address(out);
    if (bias) fillRows(heap, out, bias, batch * m, n);
    for (let i = 0; i < batch; i++) heap.gemm.product('nn', m, n, k, aa + offA(i), k * 4, ba + offB(i), n * 4, ca + i * matC, n * 4, !!bias);
    return calls.keep(out);
  }
  {
    // C^T = B op(A)^T: B's rows [n, k] are the left operand and op(A)^T ([k, m], unit stride along
    // m) the right one, its rows padded with zeros to a multiple of 4 (the products' column tiles
    // are 8 and 4 wide; a narrower rest runs one column at a time, a full pass over B each).
    const mPad = Math.ceil(m / 4) * 4;
    let ata = heap.address(a); // A^T stored as given, when it already is [k, m] without padding
    if (!transposeA || mPad !== m) {
      const at = calls.alloc([batchA, k, mPad]);
      const aa0 = heap.address(a);
      ata = heap.address(at);
      const h = heap.f32();
      if (mPad !== m) h.fill(0, ata >>> 2, (ata >>> 2) + batchA * k * mPad);
      for (let i = 0; i < batchA; i++) {
        const src = aa0 + i * matA;
        const dst = ata + i * k * mPad * 4;
        if (!transposeA) heap.gemm.transpose(m, k, src, k * 4, dst, mPad * 4);
        else for (let r = 0; r < k; r++) h.copyWithin((dst >>> 2) + r * mPad, (src >>> 2) + r * m, (src >>> 2) + (r + 1) * m);
      }
    }
    const transposed = calls.alloc([batch, n, mPad]);
    const ba = heap.address(b);
    const ta = heap.address(transposed);
    const matT = n * mPad * 4;
    for (let i = 0; i < batch; i++) {
      heap.gemm.product('nn', n, mPad, k, ba + offB(i), k * 4, ata + (batchA === 1 ? 0 : i * k * mPad * 4), mPad * 4, ta + i * matT, mPad * 4, false);
    }
    const out = calls.alloc([...outer, m, n]);
    const oa = heap.address(out);
    for (let i = 0; i < batch; i++) heap.gemm.transpose(n, m, ta + i * matT, mPad * 4, oa + i * matC, n * 4);
    return calls.keep(bias ? calls.run('Add', { a: out, b: bias }) : out);
  }
}

/** Every one of the `rows` rows of `out` ([rows, n] in memory) set to `bias` ([n]). */
function fillRows(heap: WasmHeap, out: Info, bias: Info, rows: number, n: number): void {
  const h = heap.f32();
  const o = heap.address(out) >>> 2;
  const src = heap.address(bias) >>> 2;
  for (let r = 0; r < rows; r++) h.copyWithin(o + r * n, src, src + n);
}
