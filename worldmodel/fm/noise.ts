/**
 * The forward model's randomness: dropout masks, latent samples and z-dropout coin flips, all
 * drawn from a seeded Rng in JavaScript (so a seed gives the same run on every backend) and
 * handed to tfjs as constant tensors (gradients flow through the masked values, not the masks).
 *
 * Per-step generators are derived from (seed, step, stream), so a run resumed at step k draws
 * exactly what the uninterrupted run drew at step k, with no generator state to save.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../common/rng.js';

/** A 32-bit hash of a few integers (splitmix-style), used to derive independent seeds. */
export function mixSeed(...parts: number[]): number {
  let h = 0x12345678;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x9e3779b1);
    h ^= h >>> 15;
    h = Math.imul(h, 0x85ebca77);
    h ^= h >>> 13;
  }
  return h >>> 0;
}

/** Streams that draw independently for the same (seed, step). */
export const STREAM = { model: 1, data: 2, eval: 3, uncertainty: 4 } as const;

export class FmNoise {
  /** Dropout masks and latent samples. */
  private readonly rng: Rng;
  /** z-dropout coins: a separate stream, so that data-parallel shards of one step flip the same coins. */
  private readonly coins: Rng;
  /** Number of z-dropout draws and how many chose the prior (for tests and logs). */
  zDraws = 0;
  zDropped = 0;

  /**
   * `dropout`: whether Dropout / Dropout2d layers are active (training, MC dropout); off for
   * plain inference.
   */
  constructor(
    seed: number,
    readonly dropout: boolean,
    shard = 0,
  ) {
    this.rng = new Rng(shard === 0 ? seed : mixSeed(seed, shard));
    this.coins = new Rng(mixSeed(seed, 0x636f696e));
  }

  /** For step `step` of a run seeded with `seed`; `shard` numbers the data-parallel part of the batch. */
  static forStep(seed: number, step: number, dropout: boolean, stream: number = STREAM.model, shard = 0): FmNoise {
    return new FmNoise(mixSeed(seed, step, stream), dropout, shard);
  }

  /**
   * Inverted-dropout mask (values 0 or 1/(1-p)) of `shape`; broadcast it over the dimensions
   * of size 1 (Dropout2d drops whole channels: shape [B, 1, 1, C]).
   */
  mask(shape: number[], p: number): tf.Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const keep = 1 / (1 - p);
    for (let i = 0; i < n; i++) data[i] = this.rng.next() >= p ? keep : 0;
    return tf.tensor(data, shape, 'float32');
  }

  /** Standard-normal values of `shape` (latent samples, reparameterisation noise). */
  normal(shape: number[]): tf.Tensor {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = this.rng.normal();
    return tf.tensor(data, shape, 'float32');
  }

  /** z-dropout coin: true (draw z from the prior) with probability p. */
  dropZ(p: number): boolean {
    this.zDraws++;
    const d = this.coins.next() < p;
    if (d) this.zDropped++;
    return d;
  }
}
