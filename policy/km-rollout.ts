/**
 * Imagined rollouts with the ego separated from the world (docs/method.md section 9): the policy's
 * actions move the ego through the kinematic model (kinematic-ego.ts); the world (the other
 * cars, the lanes) comes from frames that do not depend on the actions' gradient:
 *
 *   'real'   the logged future frames of the window: what a perfect world model would predict
 *            for the replayed cars, which do not react to the ego (the upper bound);
 *   'model'  the frozen forward model unrolled with the policy's actions and the kinematic
 *            states (z from the prior, dropout off), computed before the gradient pass
 *            (imagineWorld) and then held fixed: the world model's response to actions shapes
 *            the frames, the exact kinematics carry the gradient.
 *
 * The policy reads, at step t, the last ncond frames (context, then the future frames) and the
 * last ncond kinematic states, standardised; its image code does not depend on the actions, so
 * every step's code is computed in one batched call and only the small state path runs step by
 * step. Frame t (after action t) is centred on ref[t]: the logged pose ('real', 'model-logged'),
 * or the kinematic pose itself ('model': the world model was given the kinematic states and the
 * policy's actions, so its frame is centred on the kinematic ego).
 */
import * as tf from '@tensorflow/tfjs';
import type { NormStats } from '../data/dataset-types.js';
import type { FmInput, ForwardModel } from '../worldmodel/fm/model.js';
import type { FmNoise } from '../worldmodel/fm/noise.js';
import type { BatchTensors } from '../worldmodel/fm/train-step.js';
import { kinematicStepPacked, packPose, poseFromStates, unpackPose, type EgoPose } from './kinematic-ego.js';
import { POSE_COLS } from './kinematic-ego-fused.js';
import type { PolicyNetwork } from './network.js';
import { egoViewFrames, frameOffsets } from './ego-view.js';
import { SCALE_PX_PER_M, STATE_DIM } from '../data/layout.js';

export type WorldSource = 'model' | 'model-logged' | 'real';
export const WORLD_SOURCES: readonly WorldSource[] = ['model', 'model-logged', 'real'];

export interface KmRollout {
  /** Per step t: the policy's normalised action [B, 2] and the frame after it [B, 117, 24, C]. */
  actions: tf.Tensor2D[];
  frames: tf.Tensor4D[];
  /** Per step t: the standardised kinematic states the policy read, [B, ncond * 4]. */
  stateInputs: tf.Tensor2D[];
  /** The kinematic pose after each step and the pose each frame is centred on, step-major [T * B]. */
  km: EgoPose;
  ref: EgoPose;
  /** With the ego view: the contexts the policy read, step-major [T * B, 117, 24, ncond * C] (null: the world's). */
  contexts: tf.Tensor4D | null;
}

export interface KmRolloutOptions {
  /** The policy reads the frames resampled to the kinematic ego's view (ego-view.ts), not the reference frames. */
  egoView?: boolean;
}

/** The world a rollout drives through: per step the policy's image context and the frame after the step. */
export interface World {
  /** Every step's context, step-major: [T * B, 117, 24, ncond * C]. */
  contexts: tf.Tensor4D;
  frames: tf.Tensor4D[];
  /**
   * Standardised ego state [B, 4] each frame is centred on (the logged poses); null when the
   * frames are centred on the kinematic ego itself (the model unrolled with the policy's actions
   * and the kinematic states), so dp is 0 in value with an identity gradient.
   */
  refStates: tf.Tensor2D[] | null;
  /** z per step of the model's rollout (empty for 'real' and the deterministic model). */
  zs: tf.Tensor2D[];
}

/** The context shifted by one frame: images [B, H, W, ncond * C] + frame [B, H, W, C]. */
function shiftImages(images: tf.Tensor4D, frame: tf.Tensor4D, ncond: number, channels: number): tf.Tensor4D {
  if (ncond === 1) return frame;
  return tf.concat([tf.slice(images, [0, 0, 0, channels], [-1, -1, -1, (ncond - 1) * channels]), frame], 3);
}

function shiftStates(states: tf.Tensor2D, state: tf.Tensor2D, ncond: number): tf.Tensor2D {
  if (ncond === 1) return state;
  return tf.concat([tf.slice(states, [0, STATE_DIM], [-1, (ncond - 1) * STATE_DIM]), state], 1);
}

function lastState(states: tf.Tensor2D, ncond: number): tf.Tensor2D {
  return tf.slice(states, [0, (ncond - 1) * STATE_DIM], [-1, STATE_DIM]);
}

/**
 * Every step's context, step-major [T * B, H, W, ncond * C]: context t holds frames t ... t +
 * ncond - 1 of the sequence (the ncond frames of `context` [B, H, W, ncond * C], then `future`,
 * [B, H, W, C] each). The sequence is laid out frame-major [S * B, H, W, C], so slot j of every
 * context is one contiguous block of it (frames j ... j + T - 1) and the contexts are those
 * ncond blocks concatenated on the channel axis: 2 ncond + 2 copies in all, whatever T is.
 */
export function slidingContexts(context: tf.Tensor4D, future: tf.Tensor4D[], ncond: number, channels: number, steps: number): tf.Tensor4D {
  if (future.length < steps - 1) throw new Error(`km rollout: ${future.length} future frames cannot slide a context over ${steps} steps`);
  return tf.tidy(() => {
    const b = context.shape[0];
    const own = Array.from({ length: ncond }, (_, j) => (ncond === 1 ? context : tf.slice(context, [0, 0, 0, j * channels], [-1, -1, -1, channels])));
    const seq = tf.concat([...own, ...future.slice(0, steps - 1)], 0);
    if (ncond === 1) return tf.slice(seq, 0, steps * b);
    return tf.concat(Array.from({ length: ncond }, (_, j) => tf.slice(seq, j * b, steps * b)), 3);
  });
}

/** The logged future as the world: contexts slid over the context and target frames. */
export function realWorld(batch: BatchTensors, ncond: number, channels: number, steps: number): World {
  if (batch.targetImages.length < steps) throw new Error(`km rollout: the window has ${batch.targetImages.length} future frames, the rollout ${steps} steps`);
  return { contexts: slidingContexts(batch.input.images, batch.targetImages, ncond, channels, steps), frames: batch.targetImages.slice(0, steps), refStates: batch.targetStates.slice(0, steps), zs: [] };
}

/**
 * The world model's imagined world for the policy's actions (no gradient: call outside the
 * gradient tape; the caller disposes the result). The model reads the kinematic states, as the
 * policy does.
 */
export function imagineWorld(model: ForwardModel, policy: PolicyNetwork, input0: FmInput, stats: NormStats, steps: number, noise: FmNoise): World {
  const { ncond, channels } = model.cfg;
  const B = input0.images.shape[0];
  const contexts: tf.Tensor4D[] = [];
  const frames: tf.Tensor4D[] = [];
  const zs: tf.Tensor2D[] = [];
  const kept = tf.tidy(() => {
    let input = input0;
    let pose = packPose(poseFromStates(lastState(input0.states, ncond), stats));
    for (let t = 0; t < steps; t++) {
      contexts.push(input.images);
      const action = policy.act(input);
      const z = model.kind === 'vae' ? model.samplePrior(B, noise) : null;
      if (z) zs.push(z);
      const out = model.step(input, action, z, noise);
      frames.push(out.image);
      const next = kinematicStepPacked(pose, action, stats);
      pose = tf.slice(next, [0, 0], [-1, POSE_COLS]);
      if (t + 1 < steps) input = { images: shiftImages(input.images, out.image, ncond, channels), states: shiftStates(input.states, tf.slice(next, [0, POSE_COLS], [-1, STATE_DIM]), ncond) };
    }
    return { contexts: tf.concat(contexts, 0), frames, zs };
  });
  return { ...kept, refStates: null };
}

/**
 * The world model's world for the LOGGED actions (no gradient; the caller disposes it): the
 * model predicts the other cars around the expert's trajectory, as the logged future shows them,
 * and each frame is centred on the model's own predicted ego state (near the logged pose).
 */
export function imagineLoggedWorld(model: ForwardModel, batch: BatchTensors, steps: number, noise: FmNoise): World {
  const { ncond, channels } = model.cfg;
  const r = imagineLoggedFrames(model, batch, steps, noise);
  const contexts = tf.tidy(() => slidingContexts(batch.input.images, r.frames, ncond, channels, steps));
  // The frames are centred on the logged poses (what the model was trained to predict), not on its own state predictions.
  return { contexts, frames: r.frames, zs: r.zs, refStates: batch.targetStates.slice(0, steps).map((s) => tf.clone(s)) };
}

/** The world model's frames for the logged actions and the z of each step (no gradient; the caller disposes them): what imagineLoggedWorld's world is made of. */
export function imagineLoggedFrames(model: ForwardModel, batch: BatchTensors, steps: number, noise: FmNoise): { frames: tf.Tensor4D[]; zs: tf.Tensor2D[] } {
  return tf.tidy(() => {
    const r = model.unroll(batch.input, { actions: batch.actions.slice(0, steps), noise });
    return { frames: r.images, zs: r.zs };
  });
}

/**
 * Drives the kinematic ego through `world` with the policy (differentiable in the policy's
 * weights). With `egoView` (and frames centred on poses other than the kinematic ego's) the
 * policy reads, at step t, the context frames resampled to the kinematic ego's view: frame k
 * (after action k) is moved by the offset of the kinematic pose after step k from the pose it is
 * centred on (ego-view.ts; the context's own frames, before the ego left the expert's pose, as
 * they are). Those offsets depend on the actions, so the image code then runs step by step.
 */
export function kmRollout(policy: PolicyNetwork, world: World, input0: FmInput, stats: NormStats, steps: number, opts: KmRolloutOptions = {}): KmRollout {
  const ncond = policy.cfg.ncond;
  const B = input0.images.shape[0];
  const ref = world.refStates ? poseFromStates(tf.concat(world.refStates.slice(0, steps), 0), stats) : null;
  const view = opts.egoView && ref ? new EgoViewContexts(input0.images, world.frames, ref, policy.cfg.channels, ncond) : null;
  // Without the ego view every step's image code and its projection come from one call each; only the state path runs per step.
  const projected = view ? null : policy.projectCodes(policy.encodeImages(world.contexts));
  const folded = policy.foldedStateProjection();
  let states = input0.states;
  // The pose travels packed [B, 5]: one op per step moves it and gives the state read next.
  let pose = packPose(poseFromStates(lastState(states, ncond), stats));
  const poses: tf.Tensor2D[] = [];
  const actions: tf.Tensor2D[] = [];
  const stateInputs: tf.Tensor2D[] = [];
  for (let t = 0; t < steps; t++) {
    const code = view ? policy.projectCodes(policy.encodeImages(view.context(t))) : tf.slice(projected!, [t * B, 0], [B, -1]);
    const action = policy.headProjected(code, states, folded).mean;
    const next = kinematicStepPacked(pose, action, stats);
    pose = tf.slice(next, [0, 0], [-1, POSE_COLS]);
    actions.push(action);
    stateInputs.push(states);
    poses.push(pose);
    if (t + 1 < steps) {
      states = shiftStates(states, tf.slice(next, [0, POSE_COLS], [-1, STATE_DIM]), ncond);
      view?.add(t, pose);
    }
  }
  const km = unpackPose(tf.concat(poses, 0));
  return { actions, stateInputs, frames: world.frames.slice(0, steps), km, ref: ref ?? km, contexts: view ? view.all() : null };
}

/** The ego view's contexts: the sequence they slide over (the context's ncond frames, then the resampled future frames). */
class EgoViewContexts {
  private readonly seq: tf.Tensor4D[];
  private readonly seen: tf.Tensor4D[] = [];
  private readonly refRows: Float32Array;

  constructor(
    context: tf.Tensor4D,
    private readonly frames: tf.Tensor4D[],
    ref: EgoPose,
    private readonly channels: number,
    private readonly ncond: number,
  ) {
    this.seq = Array.from({ length: ncond }, (_, j) => (ncond === 1 ? context : tf.slice(context, [0, 0, 0, j * channels], [-1, -1, -1, channels])));
    this.refRows = tf.tidy(() => packPose(ref).dataSync() as Float32Array);
  }

  /** The context the policy reads at step t [B, H, W, ncond * C]. */
  context(t: number): tf.Tensor4D {
    const c = this.ncond === 1 ? this.seq[t]! : (tf.concat(this.seq.slice(t, t + this.ncond), 3) as tf.Tensor4D);
    this.seen.push(c);
    return c;
  }

  /** Adds frame t (after action t) resampled to the kinematic pose after step t [B, 5]. */
  add(t: number, pose: tf.Tensor2D): void {
    const [B, H, W] = this.frames[t]!.shape;
    const o = frameOffsets(pose.dataSync() as Float32Array, this.refRows.subarray(t * B * POSE_COLS, (t + 1) * B * POSE_COLS), B, SCALE_PX_PER_M);
    this.seq.push(tf.tensor4d(egoViewFrames(this.frames[t]!.dataSync() as Float32Array, B, this.channels, o), [B, H, W, this.channels]));
  }

  /** Every context read so far, step-major [T * B, H, W, ncond * C]. */
  all(): tf.Tensor4D {
    return tf.concat(this.seen, 0) as tf.Tensor4D;
  }
}
