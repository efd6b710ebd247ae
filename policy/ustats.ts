/**
 * Measures the per-step statistics that normalise the uncertainty term (docs/method.md section 6):
 * `batches` batches of real windows unrolled with the EXPERT's actions (no gradient), K dropout
 * copies sharing z, variances of images, states and costs per step and sample; their mean and
 * std per step over all samples.
 */
import * as tf from '@tensorflow/tfjs';
import type { NormStats } from '../data/dataset-types.js';
import type { ForwardModel } from '../worldmodel/fm/model.js';
import { FmNoise, STREAM } from '../worldmodel/fm/noise.js';
import { batchTensors, type BatchTensors } from '../worldmodel/fm/train-step.js';
import { STATE_DIM } from '../data/layout.js';
import { tileCars, type CarSizes } from './costs.js';
import { realWorld } from './km-rollout.js';
import type { WindowBatch } from '../worldmodel/fm/windows.js';
import { egoSizesFromContext } from './car-size.js';
import { UStatsAccumulator, stepwiseUncertaintyTerms, uncertaintyTerms, type UncertaintyTerms, type UStats } from './uncertainty.js';

export interface UStatsOptions {
  batches: number;
  k: number;
  stats: NormStats;
  /** Seed of the dropout masks and z samples (batch i uses step i of it). */
  seed: number;
  onProgress?: (done: number, total: number) => void;
  /** The km methods' one-step variances along the logged window (stepwiseUncertaintyTerms) instead of rollouts, every stride-th step. */
  stepwise?: { stride: number };
}

/** The one-step variances of every step of a real window under the expert's actions: contexts and states slid over the logged frames. */
function stepwiseExpertTerms(model: ForwardModel, bt: BatchTensors, cars: CarSizes, opts: UStatsOptions, noise: FmNoise): UncertaintyTerms {
  const { ncond, channels } = model.cfg;
  const T = bt.actions.length;
  const world = realWorld(bt, ncond, channels, T);
  const states: tf.Tensor2D[] = [];
  let st = bt.input.states;
  for (let t = 0; t < T; t++) {
    states.push(st);
    st = ncond === 1 ? bt.targetStates[t]! : tf.concat([tf.slice(st, [0, STATE_DIM], [-1, (ncond - 1) * STATE_DIM]), bt.targetStates[t]!], 1);
  }
  const input = { images: world.contexts, states: tf.concat(states, 0) };
  return stepwiseUncertaintyTerms(model, input, tf.concat(bt.actions, 0), undefined, tileCars(cars, T), opts.stats, opts.k, noise, T, opts.stepwise?.stride ?? 1);
}

export async function estimateUStats(model: ForwardModel, nextBatch: (i: number) => Promise<WindowBatch>, opts: UStatsOptions): Promise<UStats> {
  let acc: UStatsAccumulator | null = null;
  for (let i = 0; i < opts.batches; i++) {
    const wb = await nextBatch(i);
    const steps = opts.stepwise ? Math.ceil(wb.npred / opts.stepwise.stride) : wb.npred;
    acc ??= new UStatsAccumulator(steps);
    const cars = egoSizesFromContext(wb.ctxImages, wb.batch, wb.ncond, wb.channels);
    const out = tf.tidy(() => {
      const bt = batchTensors(wb);
      const noise = FmNoise.forStep(opts.seed, i, true, STREAM.uncertainty);
      const t = opts.stepwise ? stepwiseExpertTerms(model, bt, cars, opts, noise) : uncertaintyTerms(model, bt.input, bt.actions, undefined, cars, opts.stats, opts.k, noise);
      return tf.stack([t.image, t.state, t.cost]);
    });
    const v = (await out.data()) as Float32Array;
    out.dispose();
    const n = steps * wb.batch;
    acc.add(v.subarray(0, n), v.subarray(n, 2 * n), v.subarray(2 * n, 3 * n), wb.batch);
    opts.onProgress?.(i + 1, opts.batches);
  }
  if (!acc) throw new Error('estimateUStats: no batches');
  return acc.stats();
}
