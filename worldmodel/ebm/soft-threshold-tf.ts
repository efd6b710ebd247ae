/** Soft-thresholding for tfjs tensors: sign(u) max(|u| - theta, 0) (the L1 proximal step). */
import * as tf from '@tensorflow/tfjs';

export function softThresholdTf(u: tf.Tensor, theta: tf.Tensor | number): tf.Tensor {
  return tf.tidy(() => tf.sign(u).mul(tf.relu(tf.abs(u).sub(theta))));
}
