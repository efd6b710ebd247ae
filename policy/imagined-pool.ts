/**
 * A pool of windows whose future frames are the world model's, for the km methods' default
 * world ('model-logged', km-rollout.ts): the frozen forward model unrolled with the LOGGED
 * actions does not depend on the policy, so one unroll (the costliest part of an update on a
 * CPU: about as much as the gradient pass) can serve several updates.
 *
 * Block i is the training loader's batch i with its target frames replaced by the model's
 * prediction (z from the prior with noise stream (seed, i), dropout off) and the z of each step
 * kept for the uncertainty term. At update k the pool holds blocks floor(k / reuse) ...
 * floor(k / reuse) + capacity - 1, and the update's windows are drawn uniformly from their rows
 * with an rng of (seed, k). So each imagined window serves `reuse` updates on average, a new
 * block is imagined every `reuse` updates, and the pool at update k (hence a resumed run) is a
 * function of k alone. With reuse 1 and capacity 1 every update has its own fresh batch.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../common/rng.js';
import { ACTION_DIM, IMAGE_H, IMAGE_W, STATE_DIM } from '../data/layout.js';
import type { ForwardModel } from '../worldmodel/fm/model.js';
import { FmNoise, mixSeed } from '../worldmodel/fm/noise.js';
import { batchTensors } from '../worldmodel/fm/train-step.js';
import type { BatchLoader } from '../worldmodel/fm/batches.js';
import type { WindowBatch } from '../worldmodel/fm/windows.js';
import { imagineLoggedFrames, realWorld, type World } from './km-rollout.js';
import type { BatchTensors } from '../worldmodel/fm/train-step.js';

/** Noise stream of the pool's imagination (apart from the per-update streams). */
const POOL_STREAM = 12;
/** Rng stream of the rows an update draws. */
const DRAW_STREAM = 13;

/** A window batch whose targetImages are imagined, with the z of each imagined step ([npred, B, nz], empty for a deterministic model). */
export interface ImaginedBatch {
  batch: WindowBatch;
  zs: Float32Array;
  nz: number;
}

export interface PoolOptions {
  /** Windows per update (the loader's batch). */
  batch: number;
  /** Updates each imagined block serves on average (>= 1). */
  reuse: number;
  /** Blocks held at once (>= 1). */
  capacity: number;
  seed: number;
}

/** Copies `rows` of a [groups, B, ...] array laid out group-major (npred groups of B rows of `size`) into a [groups, rows.length, ...] one. */
function pickRows(groups: number, batch: number, size: number, rows: Array<{ from: Float32Array; row: number }>): Float32Array {
  const out = new Float32Array(groups * rows.length * size);
  for (let g = 0; g < groups; g++) {
    rows.forEach((r, i) => out.set(r.from.subarray((g * batch + r.row) * size, (g * batch + r.row + 1) * size), (g * rows.length + i) * size));
  }
  return out;
}

export class ImaginedPool {
  private readonly blocks = new Map<number, ImaginedBatch>();

  constructor(
    private readonly model: ForwardModel,
    private readonly loader: BatchLoader,
    readonly opts: PoolOptions,
  ) {
    if (!(Number.isInteger(opts.reuse) && opts.reuse >= 1)) throw new Error(`imagined pool: reuse must be an integer >= 1, got ${opts.reuse}`);
    if (!(Number.isInteger(opts.capacity) && opts.capacity >= 1)) throw new Error(`imagined pool: capacity must be an integer >= 1, got ${opts.capacity}`);
  }

  /** Block i: the loader's batch i with the model's predicted future. */
  private async imagine(i: number): Promise<ImaginedBatch> {
    const wb = await this.loader.next(i);
    const noise = FmNoise.forStep(this.opts.seed, i, false, POOL_STREAM);
    const t = batchTensors(wb);
    const world = imagineLoggedFrames(this.model, t, wb.npred, noise);
    // The stacked copies are read to the host and freed with the rest (each block's frames are
    // megabytes: left alive, they filled the wasm heap within a few thousand updates).
    const stacked: tf.Tensor[] = [];
    const read = async (ts: tf.Tensor[]) => {
      const s = tf.stack(ts);
      stacked.push(s);
      return (await s.data()) as Float32Array;
    };
    try {
      const frames = await read(world.frames);
      const zs = world.zs.length > 0 ? await read(world.zs) : new Float32Array(0);
      const nz = world.zs.length > 0 ? world.zs[0]!.shape[1] : 0;
      return { batch: { ...wb, targetImages: frames }, zs, nz };
    } finally {
      tf.dispose(stacked);
      tf.dispose(t as unknown as tf.TensorContainer);
      tf.dispose(world as unknown as tf.TensorContainer);
    }
  }

  /** The windows of update `step` (steps asked for in increasing order, from any start). */
  async next(step: number): Promise<ImaginedBatch> {
    const { reuse, capacity, batch, seed } = this.opts;
    const first = Math.floor(step / reuse);
    for (const i of [...this.blocks.keys()]) if (i < first) this.blocks.delete(i);
    for (let i = first; i < first + capacity; i++) if (!this.blocks.has(i)) this.blocks.set(i, await this.imagine(i));
    if (capacity === 1 && reuse === 1) return this.blocks.get(first)!;
    const rng = new Rng(mixSeed(seed, step, DRAW_STREAM));
    const picked = Array.from({ length: batch }, () => {
      const r = Math.floor(rng.next() * capacity * batch);
      return { block: this.blocks.get(first + Math.floor(r / batch))!, row: r % batch };
    });
    return compose(picked);
  }

  async close(): Promise<void> {
    this.blocks.clear();
    await this.loader.close();
  }
}

/** A batch of the given rows of imagined batches (all of one shape). */
export function compose(picked: Array<{ block: ImaginedBatch; row: number }>): ImaginedBatch {
  const s = picked[0]!.block.batch;
  const B = s.batch;
  const frame = IMAGE_H * IMAGE_W * s.channels;
  const nz = picked[0]!.block.nz;
  const rows = (f: (b: ImaginedBatch) => Float32Array) => picked.map((p) => ({ from: f(p.block), row: p.row }));
  const take = (f: (b: ImaginedBatch) => Float32Array, groups: number, size: number) => pickRows(groups, B, size, rows(f));
  return {
    batch: {
      ...s,
      batch: picked.length,
      ctxImages: take((b) => b.batch.ctxImages, 1, frame * s.ncond),
      ctxStates: take((b) => b.batch.ctxStates, 1, STATE_DIM * s.ncond),
      actions: take((b) => b.batch.actions, s.npred, ACTION_DIM),
      targetImages: take((b) => b.batch.targetImages, s.npred, frame),
      targetStates: take((b) => b.batch.targetStates, s.npred, STATE_DIM),
      episodeIds: picked.map((p) => p.block.batch.episodeIds[p.row]!),
      starts: picked.map((p) => p.block.batch.starts[p.row]!),
    },
    zs: nz > 0 ? take((b) => b.zs, s.npred, nz) : new Float32Array(0),
    nz,
  };
}

/**
 * The world of an imagined batch (its tensors `t` from batchTensors): contexts slid over the
 * imagined frames and the frames centred on the logged poses, as imagineLoggedWorld gives them,
 * with the imagined z of each step for the uncertainty term. The caller disposes the zs.
 */
export function pooledWorld(b: ImaginedBatch, t: BatchTensors, ncond: number, channels: number): World {
  const w = tf.tidy(() => {
    const r = realWorld(t, ncond, channels, b.batch.npred);
    return { contexts: r.contexts, frames: r.frames, refStates: r.refStates! };
  });
  const B = b.batch.batch;
  const zs = b.nz > 0 ? Array.from({ length: b.batch.npred }, (_, k) => tf.tensor2d(b.zs.subarray(k * B * b.nz, (k + 1) * B * b.nz), [B, b.nz])) : [];
  return { ...w, zs };
}
