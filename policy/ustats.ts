/**
 * Measures the per-step statistics that normalise the uncertainty term (SPEC.md section 6):
 * `batches` batches of real windows unrolled with the EXPERT's actions (no gradient), K dropout
 * copies sharing z, variances of images, states and costs per step and sample; their mean and
 * std per step over all samples.
 */
import * as tf from '@tensorflow/tfjs';
import type { NormStats } from '../data/dataset-types.js';
import type { ForwardModel } from '../worldmodel/fm/model.js';
import { FmNoise, STREAM } from '../worldmodel/fm/noise.js';
import { batchTensors } from '../worldmodel/fm/train-step.js';
import type { WindowBatch } from '../worldmodel/fm/windows.js';
import { egoSizesFromContext } from './car-size.js';
import { UStatsAccumulator, uncertaintyTerms, type UStats } from './uncertainty.js';

export interface UStatsOptions {
  batches: number;
  k: number;
  stats: NormStats;
  /** Seed of the dropout masks and z samples (batch i uses step i of it). */
  seed: number;
  onProgress?: (done: number, total: number) => void;
}

export async function estimateUStats(model: ForwardModel, nextBatch: (i: number) => Promise<WindowBatch>, opts: UStatsOptions): Promise<UStats> {
  let acc: UStatsAccumulator | null = null;
  for (let i = 0; i < opts.batches; i++) {
    const wb = await nextBatch(i);
    acc ??= new UStatsAccumulator(wb.npred);
    const cars = egoSizesFromContext(wb.ctxImages, wb.batch, wb.ncond, wb.channels);
    const out = tf.tidy(() => {
      const bt = batchTensors(wb);
      const t = uncertaintyTerms(model, bt.input, bt.actions, undefined, cars, opts.stats, opts.k, FmNoise.forStep(opts.seed, i, true, STREAM.uncertainty));
      return tf.stack([t.image, t.state, t.cost]);
    });
    const v = (await out.data()) as Float32Array;
    out.dispose();
    const n = wb.npred * wb.batch;
    acc.add(v.subarray(0, n), v.subarray(n, 2 * n), v.subarray(2 * n, 3 * n), wb.batch);
    opts.onProgress?.(i + 1, opts.batches);
  }
  if (!acc) throw new Error('estimateUStats: no batches');
  return acc.stats();
}
