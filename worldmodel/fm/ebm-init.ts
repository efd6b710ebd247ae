/**
 * Initialising the forward model's first convolutions from an energy-based encoder
 * (`ppuu train fm --encoder-init DIR [--encoder-tile mean|last|repeat]`).
 *
 * `ppuu ebm train --kind conv-sparse` (or `--kind psd --patch 4`) writes a 4x4, stride-2,
 * padding-1 convolution of one frame, kernel [4, 4, C, F] and bias [F] (worldmodel/ebm/
 * encoder-init.ts). The frame encoder's first convolution `enc.conv1` sees ncond frames stacked
 * on channels, so it gets the kernel tiled over frames (tileEncoderKernel); the posterior
 * network's `post.conv1` (VAE) sees one frame and gets the kernel as it is. Biases: the
 * encoder's bias where it has one, multiplied by ncond for 'repeat' tiling (whose response to a
 * still scene is ncond times the one-frame response, so leaky(conv + bias) keeps its shape);
 * without one the seeded default bias stays. Every other weight is untouched, so a run with
 * the init differs from one without it (same seed) only in these tensors.
 *
 * Requirements (checked, one-line errors): C equals the dataset's channels and F equals the
 * first convolution's outputs (nfeature / 4: 4 for tiny, 16 for small, 64 for paper).
 * `applyEncoderInitTo` does the work on any weight map with such convolutions; the policy's
 * `--encoder-init` (policy/ebm-init.ts) calls it too.
 */
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { UserError } from '../../common/errors.js';
import { loadEncoderInit, tileEncoderKernel, type TileMode } from '../ebm/encoder-init.js';
import type { EbmKind } from '../ebm/store.js';
import type { ForwardModel } from './model.js';
import type { WeightMap } from './params.js';

export const TILE_MODES: readonly TileMode[] = ['mean', 'last', 'repeat'];
export type { TileMode };

/** What `hparams.json` and `train-state.json` record about the init. */
export interface EncoderInitRecord {
  /** The EBM model folder, as given. */
  source: string;
  kind: EbmKind;
  tile: TileMode;
  /** One frame's channels (C) and the filters (F) of the kernel. */
  channels: number;
  filters: number;
  /** Whether the EBM's bias was copied (else the seeded default bias stayed). */
  bias: boolean;
  /** Weight tensors that hold values from the EBM when training starts. */
  tensors: string[];
}

/** Weight names of the first convolution of each frame encoder (posterior only in the VAE). */
export function firstConvNames(model: ForwardModel): Array<{ prefix: string; frames: number }> {
  const out = [{ prefix: 'enc.conv1', frames: model.cfg.ncond }];
  if (model.kind === 'vae') out.push({ prefix: 'post.conv1', frames: 1 });
  return out;
}

/**
 * The weights an encoder init writes into: the forward model's or the policy's (policy/ebm-init.ts),
 * whose frame encoders have the same 4x4, stride-2, padding-1 first convolution.
 */
export interface EncoderInitTarget {
  /** Whose weights, as error messages name it ('the forward model', 'the policy'). */
  owner: string;
  weights: WeightMap;
  /** One frame's channels (the dataset's) and the encoder's nfeature (first conv outputs: nfeature / 4). */
  channels: number;
  nfeature: number;
  /** The first convolutions to set and how many frames each sees on its channels. */
  convs: Array<{ prefix: string; frames: number }>;
}

/**
 * Loads the EBM encoder from `dir`, checks its shape against `target`, and assigns the listed
 * first convolutions (kernel tiled over their frames, bias as described at the top). Returns the
 * record (its `tensors` lists every weight set here). Shared by the forward model and the policy.
 */
export async function applyEncoderInitTo(target: EncoderInitTarget, dir: string, tile: TileMode = 'mean'): Promise<EncoderInitRecord> {
  if (!TILE_MODES.includes(tile)) throw new UserError(`field encoder-tile: must be one of ${TILE_MODES.join(', ')}, got '${tile}'`);
  const init = await loadEncoderInit(dir);
  const file = join(dir, 'ebm.json');
  const { owner, nfeature } = target;
  const filters = nfeature / 4;
  try {
    if (init.stride !== 2 || init.padding !== 1) {
      throw new UserError(`${file}: field encoder: stride ${init.stride}, padding ${init.padding}; ${owner}'s first convolution has stride 2, padding 1`);
    }
    if (init.channels !== target.channels) {
      throw new UserError(`${file}: field atoms.patch: the encoder sees ${init.channels} channels per frame; the dataset's images have ${target.channels} (train the EBM on images of this dataset's variant)`);
    }
    if (init.filters !== filters) {
      throw new UserError(`${file}: field encoder: the kernel has ${init.filters} filters; ${owner}'s first convolution (nfeature ${nfeature}) has ${filters} outputs (ppuu ebm train --atoms ${filters})`);
    }
    const tensors: string[] = [];
    for (const { prefix, frames } of target.convs) {
      const kernel = frames === 1 ? init.kernel.clone() : tileEncoderKernel(init.kernel, frames, tile);
      assign(target, `${prefix}.w`, kernel);
      tensors.push(`${prefix}.w`);
      if (init.bias) {
        const scale = frames > 1 && tile === 'repeat' ? frames : 1;
        assign(target, `${prefix}.b`, tf.tidy(() => tf.mul(init.bias!, scale)));
        tensors.push(`${prefix}.b`);
      }
    }
    return { source: dir, kind: init.kind, tile, channels: init.channels, filters: init.filters, bias: init.bias !== null, tensors };
  } finally {
    init.kernel.dispose();
    init.bias?.dispose();
  }
}

/**
 * Loads the EBM encoder from `dir`, checks its shape against `model`, and assigns the first
 * convolutions. Returns the record (its `tensors` lists every weight set here).
 */
export async function applyEncoderInit(model: ForwardModel, dir: string, tile: TileMode = 'mean'): Promise<EncoderInitRecord> {
  const target = { owner: 'the forward model', weights: model.weights, channels: model.cfg.channels, nfeature: model.cfg.nfeature, convs: firstConvNames(model) };
  return applyEncoderInitTo(target, dir, tile);
}

/** Assigns `value` (disposed here) to the weight `name` after checking the shape. */
function assign(target: EncoderInitTarget, name: string, value: tf.Tensor): void {
  const v = target.weights[name];
  try {
    if (!v) throw new Error(`${target.owner}: no weight ${name}`);
    if (v.shape.join(',') !== value.shape.join(',')) throw new Error(`${target.owner}: ${name} has shape [${v.shape}], the EBM init gives [${value.shape}]`);
    v.assign(value);
  } finally {
    value.dispose();
  }
}
