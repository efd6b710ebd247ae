/**
 * BatchMatMul for wasm that always reaches the stock kernel's fast path. Stock wasm multiplies at
 * full XNNPACK speed only when neither operand is transposed and there is a single batch; with
 * transposeA / transposeB (every dense layer's backward pass: dA = dY B^T, dB = A^T dY) or a
 * batch it falls back to a scalar loop 15-30x slower. Here transposed operands are transposed
 * explicitly (or the product is computed as C^T = B^T A^T when that moves fewer values), a batch
 * against a single matrix is folded into the rows, and other batches are multiplied one matrix
 * at a time. Untransposed single products go straight to the stock kernel (which caches the
 * packed weights of a repeated right operand).
 */
import * as tf from '@tensorflow/tfjs';
import { KernelCalls } from './kernel-call.js';

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
