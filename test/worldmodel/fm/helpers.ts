/** Shared set-up of the forward-model tests: the backend, a tiny procedural dataset, random inputs. */
import * as tf from '@tensorflow/tfjs';
import { initFmBackend } from '../../../worldmodel/fm/setup.js';
import { writeTinyDataset } from '../../helpers/tiny-dataset.js';
import type { FmConfig } from '../../../worldmodel/fm/config.js';
import type { FmInput } from '../../../worldmodel/fm/model.js';
import { Rng } from '../../../common/rng.js';

export async function setup(): Promise<void> {
  await initFmBackend(undefined, { training: true });
}

let tiny: string | null = null;
/** A 10-episode, 40-frame procedural dataset (one per test process). */
export function tinyDataset(): string {
  tiny ??= writeTinyDataset({ n: 10, length: 40, seed: 3 });
  return tiny;
}

function randomArray(n: number, rng: Rng, lo: number, hi: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(lo, hi);
  return a;
}

/** A seeded random context (images in [0, 1], states standardised-looking). */
export function randomInput(cfg: FmConfig, batch: number, seed = 1): FmInput {
  const rng = new Rng(seed);
  return {
    images: tf.tensor4d(randomArray(batch * 117 * 24 * cfg.ncond * cfg.channels, rng, 0, 1), [batch, 117, 24, cfg.ncond * cfg.channels]),
    states: tf.tensor2d(randomArray(batch * cfg.ncond * 4, rng, -1, 1), [batch, cfg.ncond * 4]),
  };
}

export function randomActions(steps: number, batch: number, seed = 2): tf.Tensor2D[] {
  const rng = new Rng(seed);
  return Array.from({ length: steps }, () => tf.tensor2d(randomArray(batch * 2, rng, -1, 1), [batch, 2]));
}

export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}
