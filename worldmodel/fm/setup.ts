/**
 * Backend set-up for forward-model work: picks the backend (worldmodel/backend.ts) and makes sure
 * this project's training kernels are registered for it, so that convolutions can be
 * back-propagated on wasm.
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend, type BackendChoice } from '../backend.js';
import { registerTrainingKernels } from '../kernels/register.js';
import { UserError } from '../../common/errors.js';

export async function initFmBackend(requested?: string, opts: { training?: boolean } = {}): Promise<BackendChoice> {
  const choice = await initBackend({ requested });
  registerTrainingKernels(tf.getBackend());
  if (opts.training && !tf.getKernel('Conv2DBackpropFilter', tf.getBackend())) {
    throw new UserError(`backend '${choice.name}' cannot back-propagate through convolutions (no Conv2DBackpropFilter kernel); choose another with --backend`);
  }
  return choice;
}
