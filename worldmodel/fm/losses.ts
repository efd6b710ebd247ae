/**
 * Forward-model losses (docs/method.md section 5): mean squared error of images and states, and the
 * KL divergence of the posterior N(mu, exp(logvar)) from the prior N(0, I), summed over the
 * latent dimensions and averaged over the batch, with the log-variance clamped at 4 (in the KL
 * only) so that exp() cannot overflow.
 *
 *   KL = -1/2 * sum_j (1 + lv_j - mu_j^2 - exp(lv_j)) / B,  lv = min(logvar, 4)
 */
import * as tf from '@tensorflow/tfjs';

export const LOGVAR_CLAMP = 4;

export function klDivergence(mu: tf.Tensor2D, logvar: tf.Tensor2D): tf.Scalar {
  const lv = tf.minimum(logvar, LOGVAR_CLAMP);
  const terms = tf.sub(tf.sub(tf.add(lv, 1), tf.square(mu)), tf.exp(lv));
  return tf.div(tf.mul(tf.sum(terms), -0.5), mu.shape[0]) as tf.Scalar;
}

/** Mean over steps and elements of (pred - target)^2. */
export function meanSquaredError(preds: tf.Tensor[], targets: tf.Tensor[]): tf.Scalar {
  if (preds.length !== targets.length || preds.length === 0) throw new Error('meanSquaredError: lists differ in length or are empty');
  let sum: tf.Tensor = tf.scalar(0);
  for (let t = 0; t < preds.length; t++) sum = tf.add(sum, tf.mean(tf.squaredDifference(preds[t]!, targets[t]!)));
  return tf.div(sum, preds.length) as tf.Scalar;
}

export interface FmLoss {
  total: tf.Scalar;
  image: tf.Scalar;
  state: tf.Scalar;
  kl: tf.Scalar;
}

/** total = MSE(images) + MSE(states) + beta * KL. */
export function fmLoss(predImages: tf.Tensor[], targetImages: tf.Tensor[], predStates: tf.Tensor[], targetStates: tf.Tensor[], kl: tf.Scalar, beta: number): FmLoss {
  const image = meanSquaredError(predImages, targetImages);
  const state = meanSquaredError(predStates, targetStates);
  const total = tf.add(tf.add(image, state), tf.mul(kl, beta)) as tf.Scalar;
  return { total, image, state, kl };
}
