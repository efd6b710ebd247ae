/**
 * Shared helpers of the kernel tests: seeded inputs, running one kernel on a named backend (ours
 * through the registry, or the stock one remembered by kernels/register.ts), and comparison.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../common/rng.js';
import { stockKernel } from '../../worldmodel/kernels/register.js';

export interface Arg {
  shape: number[];
  values: Float32Array | Int32Array;
  dtype?: 'float32' | 'int32';
}

export function normal(shape: number[], seed: number): Arg {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const values = new Float32Array(n);
  for (let i = 0; i < n; i++) values[i] = rng.normal();
  return { shape, values };
}

export function ints(shape: number[], values: number[]): Arg {
  return { shape, values: Int32Array.from(values), dtype: 'int32' };
}

/**
 * Runs kernel `name` on `backendName` and returns its values and shape. `stock` runs the kernel
 * tfjs shipped (the one ours replaced) instead of whatever is registered now.
 */
export async function runKernel(
  backendName: string,
  name: string,
  inputs: Record<string, Arg> | Arg[],
  attrs: Record<string, unknown>,
  stock = false,
): Promise<{ values: Float32Array | Int32Array; shape: number[] }> {
  if (!(await tf.setBackend(backendName))) throw new Error(`backend ${backendName} did not start`);
  const made = Array.isArray(inputs)
    ? inputs.map((a) => tf.tensor(a.values, a.shape, a.dtype ?? 'float32'))
    : Object.fromEntries(Object.entries(inputs).map(([k, a]) => [k, tf.tensor(a.values, a.shape, a.dtype ?? 'float32')]));
  try {
    if (stock) {
      const k = stockKernel(name, backendName);
      if (!k) throw new Error(`no stock ${name} on ${backendName}`);
      const out = k.kernelFunc({ inputs: made as unknown as tf.NamedTensorInfoMap, backend: tf.backend(), attrs: attrs as tf.NamedAttrMap });
      const info = Array.isArray(out) ? out[0]! : out;
      const values = (tf.backend().readSync(info.dataId) as Float32Array | Int32Array).slice();
      tf.backend().disposeData(info.dataId);
      return { values, shape: info.shape };
    }
    const out = tf.engine().runKernel(name, made as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor;
    const values = out.dataSync() as Float32Array | Int32Array;
    const shape = out.shape;
    out.dispose();
    return { values, shape };
  } finally {
    tf.dispose(Object.values(made));
  }
}

/** max |a - b| / max |b|: the error relative to the reference's scale (robust where b ~ 0). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Output shape of a conv2d (NHWC) with tfjs's own shape rules. */
export function convOutShape(x: number[], f: number[], strides: number | [number, number], pad: unknown, dilations: number | [number, number] = 1, round?: 'floor' | 'round' | 'ceil'): number[] {
  const info = tf.backend_util.computeConv2DInfo(
    x as [number, number, number, number], f as [number, number, number, number], strides, dilations,
    pad as 'same', round, false, 'channelsLast',
  );
  return info.outShape;
}

/**
 * Plain float64 reference of the filter gradient (NHWC), any stride and dilation:
 * dW[kh,kw,ci,co] = sum x[b, oh*sh + kh*dh - top, ow*sw + kw*dw - left, ci] * dy[b, oh, ow, co].
 */
export function naiveFilterGrad(x: Arg, dy: Arg, f: number[], strides: [number, number], dil: [number, number], top: number, left: number): Float64Array {
  const [B, H, W, Ci] = x.shape as [number, number, number, number];
  const [, Ho, Wo, Co] = dy.shape as [number, number, number, number];
  const [KH, KW] = f as [number, number];
  const out = new Float64Array(KH * KW * Ci * Co);
  for (let kh = 0; kh < KH; kh++) for (let kw = 0; kw < KW; kw++) {
    for (let b = 0; b < B; b++) for (let oh = 0; oh < Ho; oh++) {
      const ih = oh * strides[0] + kh * dil[0] - top;
      if (ih < 0 || ih >= H) continue;
      for (let ow = 0; ow < Wo; ow++) {
        const iw = ow * strides[1] + kw * dil[1] - left;
        if (iw < 0 || iw >= W) continue;
        const xo = ((b * H + ih) * W + iw) * Ci;
        const dyo = ((b * Ho + oh) * Wo + ow) * Co;
        const wo = (kh * KW + kw) * Ci * Co;
        for (let ci = 0; ci < Ci; ci++) {
          const xv = x.values[xo + ci]!;
          for (let co = 0; co < Co; co++) out[wo + ci * Co + co]! += xv * dy.values[dyo + co]!;
        }
      }
    }
  }
  return out;
}
