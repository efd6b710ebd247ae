/**
 * Training batches: batch k of a run is a pure function of (dataset, split, shapes, seed, k),
 * so a resumed run sees the same batches as an uninterrupted one. SyncBatches builds them on the
 * calling thread; Prefetcher (prefetch.ts) builds them ahead in a worker thread.
 */
import { Rng } from '../../common/rng.js';
import type { EpisodeMeta, NormStats, Split } from '../../data/dataset-types.js';
import { mixSeed, STREAM } from './noise.js';
import { assembleBatch, sampleWindows, type EpisodeSource, type WindowBatch, type WindowShape } from './windows.js';

export interface BatchLoader {
  /** The batch of training step `step` (steps are asked for in increasing order). */
  next(step: number): Promise<WindowBatch>;
  close(): Promise<void>;
}

export interface BatchSpec {
  split: Split;
  shape: WindowShape;
  seed: number;
  stats: NormStats;
}

export function makeBatch(source: EpisodeSource, metas: EpisodeMeta[], spec: BatchSpec, step: number): WindowBatch {
  const rng = new Rng(mixSeed(spec.seed, step, STREAM.data));
  const { batch, ncond, npred, channels } = spec.shape;
  const refs = sampleWindows(metas, ncond + npred, batch, rng, spec.split);
  return assembleBatch(source, refs, { ncond, npred, channels }, spec.stats);
}

/** Builds each batch when asked, on the calling thread. */
export class SyncBatches implements BatchLoader {
  private readonly metas: EpisodeMeta[];
  constructor(
    private readonly source: EpisodeSource,
    private readonly spec: BatchSpec,
  ) {
    this.metas = source.episodes(spec.split);
  }
  async next(step: number): Promise<WindowBatch> {
    return makeBatch(this.source, this.metas, this.spec, step);
  }
  async close(): Promise<void> {}
}
