/**
 * The simulator's kinematic model (sim/kinematics.ts, docs/method.md sections 2 and 9) in
 * differentiable tfjs ops, batched: the ego's imagined motion during policy training and
 * planning comes from here, so the costs' gradient reaches the actions through exact kinematics
 * (whatever the world model has learned about actions).
 *
 *   p += dt v d;   d~ = d + b v dt d_perp, d_perp = (d_y, -d_x);   d = d~ / |d~|;   v += a dt
 *
 * Units as in sim/: p the rear centre in px, d a unit heading, v px/s, a px/s^2, b 1/px (b > 0
 * steers left, towards smaller y). Actions are not clipped here (the environment clips them to
 * the car's limits when it drives).
 */
import * as tf from '@tensorflow/tfjs';
import type { NormStats } from '../data/dataset-types.js';
import { DT_S } from '../data/layout.js';
import { hostOps } from '../worldmodel/backend.js';
import { fusedKinematicStep } from './kinematic-ego-fused.js';

/** One pose per batch row; every field [B]. */
export interface EgoPose {
  x: tf.Tensor1D;
  y: tf.Tensor1D;
  dx: tf.Tensor1D;
  dy: tf.Tensor1D;
  v: tf.Tensor1D;
}

/** Below this speed (px/s) the velocity gives no heading and +x is used. */
const MIN_HEADING_SPEED = 1e-3;

function col(t: tf.Tensor2D, i: number): tf.Tensor1D {
  return tf.reshape(tf.slice(t, [0, i], [-1, 1]), [-1]) as tf.Tensor1D;
}

/** Poses from standardised ego states [B, 4] (x, y, vx, vy): speed |v|, heading v / |v|. */
export function poseFromStates(states: tf.Tensor2D, stats: NormStats): EgoPose {
  const raw = (i: number) => tf.add(tf.mul(col(states, i), stats.stateStd[i]!), stats.stateMean[i]!) as tf.Tensor1D;
  const vx = raw(2);
  const vy = raw(3);
  const v = tf.sqrt(tf.add(tf.add(tf.square(vx), tf.square(vy)), 1e-12)) as tf.Tensor1D;
  const moving = tf.greater(v, MIN_HEADING_SPEED);
  return {
    x: raw(0),
    y: raw(1),
    dx: tf.where(moving, tf.div(vx, v), tf.onesLike(v)) as tf.Tensor1D,
    dy: tf.where(moving, tf.div(vy, v), tf.zerosLike(v)) as tf.Tensor1D,
    v,
  };
}

/** Standardised states [B, 4] (x, y, v d_x, v d_y) of poses: what the policy and the world model read. */
export function statesFromPose(p: EgoPose, stats: NormStats): tf.Tensor2D {
  // (raw - mean) / std as one product and one sum over the 4 columns.
  const inv = stats.stateStd.slice(0, 4).map((s) => 1 / s);
  const shift = stats.stateMean.slice(0, 4).map((m, i) => -m * inv[i]!);
  const raw = tf.stack([p.x, p.y, tf.mul(p.v, p.dx), tf.mul(p.v, p.dy)], 1);
  return tf.add(tf.mul(raw, tf.tensor1d(inv)), tf.tensor1d(shift)) as tf.Tensor2D;
}

/** Physical actions (a px/s^2, b 1/px), each [B], from normalised ones [B, 2]. */
export function physicalActions(actions: tf.Tensor2D, stats: NormStats): { a: tf.Tensor1D; b: tf.Tensor1D } {
  const raw = tf.add(tf.mul(actions, tf.tensor1d(stats.actionStd.slice(0, 2))), tf.tensor1d(stats.actionMean.slice(0, 2)));
  const [a, b] = tf.unstack(raw, 1) as [tf.Tensor1D, tf.Tensor1D];
  return { a, b };
}

/** One step of the kinematic model (differentiable in the pose and the actions). */
export function kinematicStep(p: EgoPose, a: tf.Tensor1D, b: tf.Tensor1D, dtS = DT_S): EgoPose {
  const vdt = tf.mul(p.v, dtS);
  const k = tf.mul(b, vdt);
  // d~ = d + k * (d_y, -d_x)
  const nx = tf.add(p.dx, tf.mul(k, p.dy));
  const ny = tf.sub(p.dy, tf.mul(k, p.dx));
  // |d~| >= 1 (d~ adds an orthogonal vector to a unit one); the epsilon only keeps the gradient finite.
  const n = tf.sqrt(tf.add(tf.add(tf.square(nx), tf.square(ny)), 1e-16));
  return {
    x: tf.add(p.x, tf.mul(vdt, p.dx)) as tf.Tensor1D,
    y: tf.add(p.y, tf.mul(vdt, p.dy)) as tf.Tensor1D,
    dx: tf.div(nx, n) as tf.Tensor1D,
    dy: tf.div(ny, n) as tf.Tensor1D,
    v: tf.add(p.v, tf.mul(a, dtS)) as tf.Tensor1D,
  };
}

/** Poses packed in one tensor [B, 5] (columns x, y, dx, dy, v): the form a rollout carries step to step. */
export function packPose(p: EgoPose): tf.Tensor2D {
  return tf.stack([p.x, p.y, p.dx, p.dy, p.v], 1) as tf.Tensor2D;
}

export function unpackPose(t: tf.Tensor2D): EgoPose {
  const [x, y, dx, dy, v] = tf.unstack(t, 1) as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
  return { x, y, dx, dy, v };
}

/**
 * One step for normalised actions [B, 2] on packed poses [B, 5]: [B, 9], the next pose (5
 * columns) and the standardised state the policy and the world model read (4: statesFromPose).
 * On host backends one op with an analytic gradient (kinematic-ego-fused.ts, tested equal to
 * the composition below), elsewhere physicalActions, kinematicStep and statesFromPose.
 */
export function kinematicStepPacked(pose: tf.Tensor2D, actions: tf.Tensor2D, stats: NormStats, dtS = DT_S): tf.Tensor2D {
  if (hostOps()) return fusedKinematicStep(pose, actions, stats, dtS);
  const { a, b } = physicalActions(actions, stats);
  const next = kinematicStep(unpackPose(pose), a, b, dtS);
  return tf.concat([packPose(next), statesFromPose(next, stats)], 1) as tf.Tensor2D;
}

/** The pose with every field cut from the gradient. */
export function detachPose(p: EgoPose, detach: <T extends tf.Tensor>(t: T) => T): EgoPose {
  return { x: detach(p.x), y: detach(p.y), dx: detach(p.dx), dy: detach(p.dy), v: detach(p.v) };
}

/** Poses of several lists joined along the batch axis (in list order). */
export function concatPoses(ps: EgoPose[]): EgoPose {
  const c = (k: keyof EgoPose) => tf.concat(ps.map((p) => p[k])) as tf.Tensor1D;
  return { x: c('x'), y: c('y'), dx: c('dx'), dy: c('dy'), v: c('v') };
}
