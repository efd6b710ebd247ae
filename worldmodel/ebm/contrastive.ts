/**
 * Contrastive energy shaping with a siamese network (Hadsell, Chopra & LeCun 2006): one
 * embedding f shared by both inputs, the energy of a pair E(a, b) = ||f(a) - f(b)||^2, and the
 * margin loss over labelled pairs
 *
 *   L = s * 1/2 D^2 + (1 - s) * 1/2 max(0, m - D)^2,   D = ||f(a) - f(b)||,  s = 1 for similar,
 *
 * which pushes the energy of similar pairs down and that of dissimilar pairs up until their
 * distance reaches the margin m (beyond it they cost nothing, so the embedding cannot collapse
 * nor blow up). The loss works with any tfjs embedding; `trainSiameseLinear` trains the
 * simplest one, f(x) = W^T x.
 */
import * as tf from '@tensorflow/tfjs';
import { type Mat, mat, row } from './linalg.js';
import { Rng } from '../../common/rng.js';

/** Pair energies ||ea - eb||^2, [B]. */
export function pairEnergy(ea: tf.Tensor2D, eb: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => ea.sub(eb).square().sum(1) as tf.Tensor1D);
}

/** Mean margin loss; `similar` holds 1 for similar and 0 for dissimilar pairs. */
export function contrastiveLoss(ea: tf.Tensor2D, eb: tf.Tensor2D, similar: tf.Tensor1D, margin: number): tf.Scalar {
  return tf.tidy(() => {
    const d2 = pairEnergy(ea, eb);
    // sqrt has an infinite slope at 0: keep D away from it for pairs that coincide.
    const d = d2.add(1e-12).sqrt();
    const pull = similar.mul(d2).mul(0.5);
    const push = tf.scalar(1).sub(similar).mul(tf.relu(tf.scalar(margin).sub(d)).square()).mul(0.5);
    return pull.add(push).mean() as tf.Scalar;
  });
}

export interface Pairs {
  a: Mat;
  b: Mat;
  /** 1 similar, 0 dissimilar. */
  similar: Uint8Array;
}

/** Trains f(x) = W^T x (W: d x m) with the margin loss by Adam on mini-batches of pairs. */
export function trainSiameseLinear(pairs: Pairs, opts: { dims: number; margin: number; steps: number; batch?: number; learningRate?: number; seed?: number }): { W: Mat; lossHistory: number[] } {
  const rng = new Rng(opts.seed ?? 0);
  const d = pairs.a.cols;
  const n = pairs.a.rows;
  const batch = Math.min(opts.batch ?? 32, n);
  const W = tf.tidy(() => tf.variable(tf.tensor2d(Float32Array.from({ length: d * opts.dims }, () => rng.normal(0, 1 / Math.sqrt(d))), [d, opts.dims])));
  const optimizer = tf.train.adam(opts.learningRate ?? 1e-2);
  const history: number[] = [];
  const ab = new Float32Array(batch * d);
  const bb = new Float32Array(batch * d);
  const sb = new Float32Array(batch);
  try {
    for (let step = 0; step < opts.steps; step++) {
      for (let i = 0; i < batch; i++) {
        const j = rng.int(n);
        ab.set(row(pairs.a, j), i * d);
        bb.set(row(pairs.b, j), i * d);
        sb[i] = pairs.similar[j]!;
      }
      const loss = tf.tidy(() => {
        const A = tf.tensor2d(ab, [batch, d]);
        const B = tf.tensor2d(bb, [batch, d]);
        const S = tf.tensor1d(sb);
        return optimizer.minimize(() => contrastiveLoss(A.matMul(W) as tf.Tensor2D, B.matMul(W) as tf.Tensor2D, S, opts.margin), true)!;
      });
      history.push(loss.dataSync()[0]!);
      loss.dispose();
    }
    const [r, c] = W.shape;
    return { W: mat(r, c, W.dataSync()), lossHistory: history };
  } finally {
    W.dispose();
    optimizer.dispose();
  }
}
