/**
 * Convolutional training needs the gradient of a convolution with respect to its filter
 * (Conv2DBackpropFilter), which stock tfjs-backend-wasm lacks. Where the active backend has no
 * such kernel (and the project's kernels are not registered for it), switch this process to the
 * cpu backend, which always has one, and say so.
 */
import * as tf from '@tensorflow/tfjs';

/** Returns null when the active backend can train convolutions, else a note after moving to cpu. */
export async function ensureConvGradients(): Promise<string | null> {
  const name = tf.getBackend();
  if (tf.getKernel('Conv2DBackpropFilter', name) && tf.getKernel('Conv2DBackpropInput', name)) return null;
  if (!(await tf.setBackend('cpu'))) throw new Error('cpu backend did not initialise');
  return `backend '${name}' has no Conv2DBackpropFilter kernel; convolutional training runs on cpu`;
}
