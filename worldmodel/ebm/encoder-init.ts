/**
 * Initialising a world-model (or policy) convolution from a trained energy-based encoder.
 *
 * `ppuu ebm train --kind conv-sparse` (or `--kind psd --patch 4`) learns an encoder whose first
 * layer is a 4x4, stride-2, padding-1 convolution of ONE frame, kernel [4, 4, C, F] (C = 3 in the
 * paper version, F = 64 in the paper preset = the forward model's first conv outputs). The forward
 * model's first convolution sees ncond frames stacked on channels (oldest first, channel index
 * frame * C + c), kernel [4, 4, ncond * C, F]. `tileEncoderKernel` builds that kernel:
 *
 *   'mean'   every frame gets kernel / ncond: a still scene gives exactly the one-frame response
 *            (default; keeps activations at the scale the encoder was trained at);
 *   'last'   only the newest frame gets the kernel, the others zeros;
 *   'repeat' every frame gets the full kernel (response grows with ncond).
 *
 * The posterior network's first convolution sees one frame and takes the kernel as it is.
 * `bias` is the encoder's pre-activation offset ([F]) where it has one (PSD: b; conv-sparse:
 * -theta, so that leaky(conv + bias) keeps the positive half of soft(conv, theta)).
 */
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../common/errors.js';
import { loadEbmModel, type EbmKind } from './store.js';

export interface EncoderInit {
  /** [4, 4, C, F]: one frame's filters. */
  kernel: tf.Tensor4D;
  /** [F] or null. */
  bias: tf.Tensor1D | null;
  channels: number;
  filters: number;
  stride: number;
  padding: number;
  kind: EbmKind;
  source: string;
}

/** Reads the encoder of a model folder written by `ppuu ebm train`. The caller disposes the tensors. */
export async function loadEncoderInit(dir: string): Promise<EncoderInit> {
  const { file, arrays } = await loadEbmModel(dir);
  if (!file.encoder) {
    throw new UserError(`${dir}: model of kind '${file.kind}' has no convolutional encoder (train --kind conv-sparse, or --kind psd --patch 4)`);
  }
  const k = arrays[file.encoder.kernel]!;
  const channels = file.atoms.patch[2];
  const filters = k.shape.at(-1)!;
  if (k.data.length !== 16 * channels * filters) {
    throw new UserError(`${dir}: encoder kernel of shape [${k.shape}] is not a 4x4 kernel over ${channels} channels`);
  }
  const bias = file.encoder.bias ? arrays[file.encoder.bias]! : null;
  if (bias && bias.data.length !== filters) throw new UserError(`${dir}: encoder bias has ${bias.data.length} values for ${filters} filters`);
  return {
    kernel: tf.tensor4d(k.data, [4, 4, channels, filters]),
    bias: bias ? tf.tensor1d(bias.data) : null,
    channels,
    filters,
    stride: file.encoder.stride,
    padding: file.encoder.padding,
    kind: file.kind,
    source: dir,
  };
}

export type TileMode = 'mean' | 'last' | 'repeat';

/** [4, 4, C, F] -> [4, 4, frames * C, F], frame-major channels (oldest frame first). */
export function tileEncoderKernel(kernel: tf.Tensor4D, frames: number, mode: TileMode = 'mean'): tf.Tensor4D {
  if (!(frames >= 1 && Number.isInteger(frames))) throw new Error(`tileEncoderKernel: frames must be a positive integer, got ${frames}`);
  return tf.tidy(() => {
    const parts: tf.Tensor4D[] = [];
    for (let f = 0; f < frames; f++) {
      if (mode === 'mean') parts.push(kernel.div(frames));
      else if (mode === 'repeat') parts.push(kernel);
      else parts.push(f === frames - 1 ? kernel : tf.zerosLike(kernel));
    }
    return tf.concat(parts, 2);
  });
}
