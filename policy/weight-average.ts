/**
 * An exponential moving average of a policy's weights over its training updates (`--ema DECAY`).
 *
 * One run's policy oscillates between updates 500 apart (policy/README.md: success swings by
 * 10-20 points on the small preset); the average of the recent weights is a steadier policy
 * to drive with. After update n (counting only applied updates):
 *
 *   avg = d_n avg + (1 - d_n) w,   d_n = min(decay, (1 + n) / (10 + n)),
 *
 * TensorFlow's ExponentialMovingAverage with num_updates: the warm-up makes the average forget
 * the seeded starting weights within the first few dozen updates instead of 1 / (1 - decay).
 * The average is a weight map like the policy's (same names), so a checkpoint saves it as the
 * policy folder and a resumed run continues it exactly.
 */
import * as tf from '@tensorflow/tfjs';
import type { WeightMap } from '../worldmodel/fm/params.js';

/** The decay applied at applied update `n` (1-based) for a configured `decay`. */
export function averageDecayAt(decay: number, n: number): number {
  return Math.min(decay, (1 + n) / (10 + n));
}

export class WeightAverage {
  /** The average, one variable per weight. */
  readonly weights: WeightMap;

  /** Starts the average at `start` (copies; the caller keeps its tensors). */
  constructor(start: Record<string, tf.Tensor>, readonly decay: number) {
    if (!(decay > 0 && decay < 1)) throw new Error(`weight average: decay must be in (0, 1), got ${decay}`);
    this.weights = {};
    for (const [name, w] of Object.entries(start)) {
      const copy = tf.add(w, 0);
      this.weights[name] = tf.variable(copy, false);
      copy.dispose(); // the variable holds its own reference
    }
  }

  /** Folds in `current` after applied update `n` (1-based). */
  update(current: WeightMap, n: number): void {
    const d = averageDecayAt(this.decay, n);
    for (const [name, avg] of Object.entries(this.weights)) {
      const w = current[name];
      if (!w) throw new Error(`weight average: no weight ${name}`);
      const next = tf.tidy(() => tf.add(tf.mul(avg, d), tf.mul(w, 1 - d)));
      // New memory, never in place: kernels cache data derived from weights by dataId (adam.ts).
      avg.assign(next);
      next.dispose();
    }
  }

  dispose(): void {
    for (const v of Object.values(this.weights)) v.dispose();
  }
}
