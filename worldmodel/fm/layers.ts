/**
 * The few layer functions the forward model is built from, on explicit weight maps, NHWC:
 * convolution and transposed convolution with PyTorch-style (per-side) padding, dense layers,
 * LeakyReLU(0.2), and dropout whose masks come from FmNoise (none when dropout is off).
 */
import * as tf from '@tensorflow/tfjs';
import type { WeightMap } from './params.js';
import type { FmNoise } from './noise.js';

export const LEAKY_SLOPE = 0.2;

type Pad4 = [[number, number], [number, number], [number, number], [number, number]];

function explicitPad(padH: number, padW: number): Pad4 {
  return [[0, 0], [padH, padH], [padW, padW], [0, 0]];
}

function param(w: WeightMap, name: string): tf.Variable {
  const v = w[name];
  if (!v) throw new Error(`forward model: missing weight ${name}`);
  return v;
}

/**
 * Conv2d(x, `name`) with stride (sh, sw) and padding (ph, pw) on each side, plus bias. Not the
 * fused op: its gradient always computes the input gradient too, which for the first layer (a
 * constant image stack) is wasted work as large as the layer itself.
 */
export function conv(w: WeightMap, name: string, x: tf.Tensor4D, stride: [number, number], pad: [number, number]): tf.Tensor4D {
  const y = tf.conv2d(x, param(w, `${name}.w`) as tf.Tensor4D, stride, explicitPad(pad[0], pad[1]));
  return tf.add(y, param(w, `${name}.b`));
}

/**
 * ConvTranspose2d(x, `name`) like PyTorch's: output size (in - 1) * s - 2 * p + k per axis,
 * i.e. the gradient of a convolution with the same kernel, stride and padding, plus bias.
 */
export function deconv(w: WeightMap, name: string, x: tf.Tensor4D, stride: [number, number], pad: [number, number]): tf.Tensor4D {
  const filter = param(w, `${name}.w`) as tf.Tensor4D;
  const [kh, kw, cout] = filter.shape;
  const [b, h, wd] = x.shape;
  const outH = (h - 1) * stride[0] - 2 * pad[0] + kh;
  const outW = (wd - 1) * stride[1] - 2 * pad[1] + kw;
  const y = tf.conv2dTranspose(x, filter, [b, outH, outW, cout], stride, explicitPad(pad[0], pad[1]));
  return tf.add(y, param(w, `${name}.b`));
}

export function dense(w: WeightMap, name: string, x: tf.Tensor2D): tf.Tensor2D {
  return tf.fused.matMul({ a: x, b: param(w, `${name}.w`) as tf.Tensor2D, bias: param(w, `${name}.b`) }) as tf.Tensor2D;
}

export function leaky<T extends tf.Tensor>(x: T): T {
  return tf.leakyRelu(x, LEAKY_SLOPE);
}

/** Dropout2d on NHWC maps: drops whole channels of each sample. */
export function dropout2d(x: tf.Tensor4D, p: number, noise: FmNoise): tf.Tensor4D {
  if (!noise.dropout || p <= 0) return x;
  return tf.mul(x, noise.mask([x.shape[0], 1, 1, x.shape[3]], p));
}

/** Dropout on [B, n] features. */
export function dropout(x: tf.Tensor2D, p: number, noise: FmNoise): tf.Tensor2D {
  if (!noise.dropout || p <= 0) return x;
  return tf.mul(x, noise.mask(x.shape, p));
}

/** Three-layer MLP `prefix`.fc1..fc3 with dropout and LeakyReLU after the first two. */
export function mlp(w: WeightMap, prefix: string, x: tf.Tensor2D, p: number, noise: FmNoise): tf.Tensor2D {
  let h = leaky(dropout(dense(w, `${prefix}.fc1`, x), p, noise));
  h = leaky(dropout(dense(w, `${prefix}.fc2`, h), p, noise));
  return dense(w, `${prefix}.fc3`, h);
}

/** Three stride-2 convolutions (4x4, padding 1): 117 x 24 -> 58 x 12 -> 29 x 6 -> 14 x 3. */
export function frameEncoder(w: WeightMap, prefix: string, x: tf.Tensor4D, p: number, noise: FmNoise): tf.Tensor4D {
  let h = leaky(dropout2d(conv(w, `${prefix}.conv1`, x, [2, 2], [1, 1]), p, noise));
  h = leaky(dropout2d(conv(w, `${prefix}.conv2`, h, [2, 2], [1, 1]), p, noise));
  return conv(w, `${prefix}.conv3`, h, [2, 2], [1, 1]);
}
