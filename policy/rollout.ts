/**
 * Imagined rollouts: the frozen forward model unrolled for npred steps from a real context, the
 * policy choosing each action from the current (partly predicted) context, z drawn from the
 * prior per step (VAE). Everything is tfjs ops, so the costs of the predicted frames can be
 * back-propagated through the model into the policy's weights (docs/method.md section 6).
 */
import type * as tf from '@tensorflow/tfjs';
import type { ForwardModel, FmInput } from '../worldmodel/fm/model.js';
import type { FmNoise } from '../worldmodel/fm/noise.js';
import type { PolicyNetwork } from './network.js';

export interface PolicyRollout {
  /** Per step: predicted image [B, 117, 24, C], state [B, 4] (standardised), the policy's action [B, 2] (normalised). */
  images: tf.Tensor4D[];
  states: tf.Tensor2D[];
  actions: tf.Tensor2D[];
  /** z per step [B, nz] (empty for the deterministic model): the uncertainty's copies reuse them. */
  zs: tf.Tensor2D[];
}

export interface RolloutOptions {
  steps: number;
  /** The model's randomness: z from the prior; its dropout flag should be off for the main rollout. */
  modelNoise: FmNoise;
  /** Sampling noise of a stochastic policy (its mean is used without it). */
  policyNoise?: FmNoise;
}

export function policyRollout(model: ForwardModel, policy: PolicyNetwork, input0: FmInput, opts: RolloutOptions): PolicyRollout {
  const actions: tf.Tensor2D[] = [];
  const r = model.unroll(input0, {
    steps: opts.steps,
    noise: opts.modelNoise,
    actions: (_t: number, input: FmInput) => {
      const a = policy.act(input, opts.policyNoise);
      actions.push(a);
      return a;
    },
  });
  return { images: r.images, states: r.states, actions, zs: r.zs };
}
