/**
 * The training objective of each method on one batch of real windows (docs/method.md section 6), as
 * differentiable tfjs ops in the policy's weights:
 *
 *   mpur, vg, svg: unroll the frozen model npred steps with the policy's actions (z from the
 *     prior), then  proximity + lambda_l * lane + lambda_u * U + lambda_o * off-road, every term a
 *     mean over batch and steps with weight gamma^t (vg / svg: lambda_u = 0);
 *   il:   1-step imitation, mean squared error to the expert's normalised action (the Gaussian
 *     negative log-likelihood for a stochastic policy);
 *   mper: unroll with the policy's actions and match the expert's trajectory:
 *     mean over steps of gamma^t * (MSE(images) + MSE(states)).
 *   mpur-km, vg-km: the ego moved by the kinematic model through a world (the model's frames,
 *     imagined beforehand, or the logged future: km-rollout.ts), then
 *     10 * (proximity + lambda_l * lane + lambda_o * off-road) + lambda_f * keep-in-frame
 *     + lambda_u * U (mpur-km) + lambda_a * action size + lambda_j * jerk, the costs from
 *     costs-km.ts, each a gamma^t-weighted mean; action size and jerk (the fork's lambda_a and
 *     lambda_j terms) are plain means of the normalised action's squared norm and of the squared
 *     norm of its change between consecutive imagined steps.
 */
import * as tf from '@tensorflow/tfjs';
import type { NormStats } from '../data/dataset-types.js';
import type { ForwardModel } from '../worldmodel/fm/model.js';
import type { FmNoise } from '../worldmodel/fm/noise.js';
import type { BatchTensors } from '../worldmodel/fm/train-step.js';
import { isKmMethod, KM_COST_WEIGHT, type PolicyTrainConfig } from './config.js';
import { kmCosts } from './costs-km.js';
import type { EgoPose } from './kinematic-ego.js';
import { kmRollout, realWorld, type World } from './km-rollout.js';
import { predictionCosts, tileCars, type CarSizes } from './costs.js';
import { LOGVAR_MAX, LOGVAR_MIN, type PolicyNetwork } from './network.js';
import { policyRollout } from './rollout.js';
import { discounts, stepwiseUncertaintyTerms, uncertaintyLoss, uncertaintyTerms, type UStats } from './uncertainty.js';

/** Loss parts, in this order in logs and in the parts tensor. */
export const PART_NAMES = ['total', 'proximity', 'lane', 'offroad', 'uncertainty', 'imitation', 'trajectory', 'frame', 'action', 'jerk'] as const;
export type PartName = (typeof PART_NAMES)[number];

export interface ObjectiveContext {
  model: ForwardModel | null;
  policy: PolicyNetwork;
  cfg: PolicyTrainConfig;
  /** Normalisation of the model's states and actions. */
  stats: NormStats;
  /** Needed when lambda_u > 0. */
  uStats: UStats | null;
  noise: { model: FmNoise; uncertainty: FmNoise; policy: FmNoise };
}

export interface ObjectiveInputs {
  batch: BatchTensors;
  /** Ego sizes of the batch's rows. */
  cars: CarSizes;
  /** The km methods' world, imagined before the gradient pass (needsWorld; realWorld when absent). */
  world?: World;
}

/** Whether a configuration's objective needs the world model's frames imagined outside the gradient (imagineWorld). */
export function needsImaginedWorld(cfg: PolicyTrainConfig): boolean {
  return isKmMethod(cfg.method) && cfg.future !== 'real';
}

/** Per-step values [T, B] from a list of [B] tensors, weighted by gamma^t and averaged. */
function discountedMean(perStep: tf.Tensor, steps: number, gamma: number): tf.Scalar {
  return tf.mean(tf.mul(discounts(steps, gamma), perStep)) as tf.Scalar;
}

function needModel(ctx: ObjectiveContext): ForwardModel {
  if (!ctx.model) throw new Error(`policy method ${ctx.cfg.method} needs a forward model`);
  return ctx.model;
}

/** The weights the km costs are combined with (a policy's training config, or MPC's). */
export interface KmCostWeights {
  gamma: number;
  lambdaL: number;
  lambdaO: number;
  lambdaF: number;
}

/**
 * The km costs of T imagined steps of B cars (docs/method.md section 9): frames per step, the
 * kinematic and reference poses step-major [T * B], each term a gamma^t-weighted mean over steps and cars, combined as
 * 10 * (proximity + lambda_l lane + lambda_o off-road) + lambda_f keep-in-frame. Policy training
 * and MPC (mpc.ts) both call this.
 */
export function kmCostLoss(frames: tf.Tensor4D[], km: EgoPose, ref: EgoPose, cars: CarSizes, w: KmCostWeights, p: Partial<Record<PartName, tf.Scalar>> = {}): tf.Scalar {
  const T = frames.length;
  const B = frames[0]!.shape[0];
  const c = kmCosts(tf.concat(frames, 0), km, ref, tileCars(cars, T));
  const costs = weightedCosts(c, T, B, w, p);
  p.frame = discountedMean(tf.reshape(c.frame, [T, B]), T, w.gamma);
  return tf.add(tf.mul(costs, KM_COST_WEIGHT), tf.mul(p.frame, w.lambdaF)) as tf.Scalar;
}

/**
 * proximity + lambda_l lane (+ lambda_o off-road) from per-row costs of T steps x B rows
 * (step-major), each the gamma^t-weighted mean over steps and rows; records the parts in `p`.
 */
function weightedCosts(
  c: { proximity: tf.Tensor1D; lane: tf.Tensor1D; offroad: tf.Tensor1D | null },
  T: number,
  B: number,
  w: { gamma: number; lambdaL: number; lambdaO: number },
  p: Partial<Record<PartName, tf.Scalar>>,
): tf.Tensor {
  const perStep = (x: tf.Tensor1D) => tf.reshape(x, [T, B]);
  p.proximity = discountedMean(perStep(c.proximity), T, w.gamma);
  p.lane = discountedMean(perStep(c.lane), T, w.gamma);
  let costs: tf.Tensor = tf.add(p.proximity, tf.mul(p.lane, w.lambdaL));
  if (w.lambdaO > 0) {
    if (!c.offroad) throw new Error('the off-road cost needs 4-channel images');
    p.offroad = discountedMean(perStep(c.offroad), T, w.gamma);
    costs = tf.add(costs, tf.mul(p.offroad, w.lambdaO));
  }
  return costs;
}

/**
 * The action-size and jerk terms of T actions [B, 2] (normalised units): the mean over steps and
 * rows of |a_t|^2, and of |a_t - a_(t-1)|^2 over steps 1 .. T-1 (0 for one step).
 */
export function actionTerms(actions: tf.Tensor2D[]): { action: tf.Scalar; jerk: tf.Scalar } {
  const a = tf.stack(actions) as tf.Tensor3D; // [T, B, 2]
  const T = actions.length;
  const action = tf.mean(tf.sum(tf.square(a), 2)) as tf.Scalar;
  if (T < 2) return { action, jerk: tf.scalar(0) };
  const d = tf.sub(tf.slice(a, [1, 0, 0], [T - 1, -1, -1]), tf.slice(a, [0, 0, 0], [T - 1, -1, -1]));
  return { action, jerk: tf.mean(tf.sum(tf.square(d), 2)) as tf.Scalar };
}

/** The km methods' loss parts (docs/method.md section 9). */
function kmLoss(ctx: ObjectiveContext, inputs: ObjectiveInputs, p: Partial<Record<PartName, tf.Scalar>>): tf.Scalar {
  const { cfg, policy } = ctx;
  const { batch, cars } = inputs;
  const T = cfg.npred;
  const world = inputs.world ?? (cfg.future === 'real' ? realWorld(batch, policy.cfg.ncond, policy.cfg.channels, T) : null);
  if (!world) throw new Error('km objective: the model future needs the imagined world (imagineWorld)');
  const r = kmRollout(policy, world, batch.input, ctx.stats, T, { egoView: cfg.view === 'ego' });
  let total: tf.Tensor = kmCostLoss(r.frames, r.km, r.ref, cars, cfg, p);
  const lambdaA = cfg.lambdaA ?? 0;
  const lambdaJ = cfg.lambdaJ ?? 0;
  if (lambdaA > 0 || lambdaJ > 0) {
    const a = actionTerms(r.actions);
    p.action = a.action;
    p.jerk = a.jerk;
    total = tf.add(total, tf.add(tf.mul(a.action, lambdaA), tf.mul(a.jerk, lambdaJ)));
  }
  if (cfg.lambdaU > 0) {
    const model = needModel(ctx);
    if (!ctx.uStats) throw new Error('the uncertainty term needs its statistics (estimate them first)');
    const zs = world.zs.length > 0 ? tf.concat(world.zs, 0) : undefined;
    const input = { images: r.contexts ?? world.contexts, states: tf.concat(r.stateInputs, 0) };
    const terms = stepwiseUncertaintyTerms(model, input, tf.concat(r.actions, 0), zs, tileCars(cars, T), ctx.stats, cfg.k, ctx.noise.uncertainty, T, cfg.uStride, cfg.uRows ?? null);
    p.uncertainty = uncertaintyLoss(terms, ctx.uStats, cfg.uHinge, cfg.gamma);
    total = tf.add(total, tf.mul(p.uncertainty, cfg.lambdaU));
  }
  return total as tf.Scalar;
}

/** Parts as one tensor in PART_NAMES order (zeros for terms a method does not have). */
export function policyLoss(ctx: ObjectiveContext, inputs: ObjectiveInputs): { total: tf.Scalar; parts: tf.Tensor1D } {
  const p: Partial<Record<PartName, tf.Scalar>> = {};
  const { cfg, policy } = ctx;
  const { batch, cars } = inputs;
  const policyNoise = policy.cfg.stochastic ? ctx.noise.policy : undefined;
  if (cfg.method === 'il') {
    const o = policy.forward(batch.input);
    const target = batch.actions[0]!;
    if (o.logvar) {
      const lv = tf.clipByValue(o.logvar, LOGVAR_MIN, LOGVAR_MAX);
      p.imitation = tf.mean(tf.mul(tf.add(lv, tf.mul(tf.squaredDifference(o.mean, target), tf.exp(tf.neg(lv)))), 0.5)) as tf.Scalar;
    } else {
      p.imitation = tf.mean(tf.squaredDifference(o.mean, target)) as tf.Scalar;
    }
    p.total = p.imitation;
  } else if (isKmMethod(cfg.method)) {
    p.total = kmLoss(ctx, inputs, p);
  } else if (cfg.method === 'mper') {
    const model = needModel(ctx);
    const T = cfg.npred;
    const r = policyRollout(model, policy, batch.input, { steps: T, modelNoise: ctx.noise.model, policyNoise });
    const perStep = tf.stack(r.images.map((im, t) => tf.add(tf.mean(tf.squaredDifference(im, batch.targetImages[t]!)), tf.mean(tf.squaredDifference(r.states[t]!, batch.targetStates[t]!)))));
    p.trajectory = tf.div(tf.sum(tf.mul(tf.reshape(discounts(T, cfg.gamma), [T]), perStep)), T) as tf.Scalar;
    p.total = p.trajectory;
  } else {
    const model = needModel(ctx);
    const T = cfg.npred;
    const B = batch.input.images.shape[0];
    const r = policyRollout(model, policy, batch.input, { steps: T, modelNoise: ctx.noise.model, policyNoise });
    // All steps' frames in one cost call: rows are step-major, like tileCars(cars, T).
    const c = predictionCosts(tf.concat(r.images, 0), tf.concat(r.states, 0), tileCars(cars, T), ctx.stats);
    let total: tf.Tensor = weightedCosts(c, T, B, cfg, p);
    if (cfg.lambdaU > 0) {
      if (!ctx.uStats) throw new Error('the uncertainty term needs its statistics (estimate them first)');
      const terms = uncertaintyTerms(model, batch.input, r.actions, r.zs, cars, ctx.stats, cfg.k, ctx.noise.uncertainty);
      p.uncertainty = uncertaintyLoss(terms, ctx.uStats, cfg.uHinge, cfg.gamma);
      total = tf.add(total, tf.mul(p.uncertainty, cfg.lambdaU));
    }
    p.total = total as tf.Scalar;
  }
  const zero = tf.scalar(0);
  const parts = tf.stack(PART_NAMES.map((n) => p[n] ?? zero)) as tf.Tensor1D;
  return { total: p.total!, parts };
}

/** Reads a parts vector into named numbers. */
export function partsRecord(values: ArrayLike<number>): Record<PartName, number> {
  return Object.fromEntries(PART_NAMES.map((n, i) => [n, values[i]!])) as Record<PartName, number>;
}
