/**
 * Planning at run time through the world model (docs/method.md section 9, the fork's MPCKMPolicy): at
 * every step, for all controlled cars in one batch, the next H actions are optimised by gradient
 * descent on the km costs (objectives.ts kmCostLoss: proximity, lane, off-road, keep-in-frame)
 * of the ego moved by the kinematic model over a reference future, and the first action is
 * executed.
 *
 * Reference future: the frozen world model unrolled H steps (no gradient, dropout off, z from the
 * prior) from the car's context with the warm-start plan, each frame centred on the kinematic
 * pose that plan gives; the optimised plan's poses move the cost masks over those frames. Warm
 * start: the car's previous plan shifted by one step (its last action repeated), else a trained
 * policy's action on the current context, else no action (zero acceleration and steering).
 * Optimiser: Adam at lr 0.1 on the normalised actions, gradients clipped to [-1, 1] element-wise
 * (inf-norm 1), `iters` iterations, each followed by a projection of the plan onto +-3 (the
 * controller's clamp, so the plan counts only on actions the car executes); the first action
 * is un-normalised like a policy's.
 */
import * as tf from '@tensorflow/tfjs';
import type { NormStats } from '../data/dataset-types.js';
import type { Controller, ControllerBatch } from '../sim/controllers/controller.js';
import { ACTION_DIM } from '../data/layout.js';
import { Adam } from '../worldmodel/fm/adam.js';
import type { ForwardModel } from '../worldmodel/fm/model.js';
import { FmNoise } from '../worldmodel/fm/noise.js';
import type { LoadedPolicy } from './checkpoint.js';
import { contextInput, unnormaliseActions } from './controller.js';
import { ACTION_CLAMP } from './config.js';
import { OBS_SCALE, type CarSizes } from './costs.js';
import { kinematicStepPacked, packPose, unpackPose, type EgoPose } from './kinematic-ego.js';
import { POSE_COLS } from './kinematic-ego-fused.js';
import { kmCostLoss, type KmCostWeights } from './objectives.js';

export interface MpcOptions {
  /** Planned steps (the fork: 30). */
  horizon: number;
  /** Adam iterations per executed step (the fork: 10). */
  iters: number;
  learningRate: number;
  weights: KmCostWeights;
  /** Warm start for a car without a previous plan (else no action). */
  policy?: LoadedPolicy | null;
  /** Seed of the model's z samples. */
  seed?: number;
}

export const MPC_DEFAULTS = { horizon: 10, iters: 5, learningRate: 0.1 } as const;

export interface PlanResult {
  /** The optimised plan, normalised, [n, H, 2]. */
  plan: Float32Array;
  /** The km cost of the plan before each iteration and after the last (iters + 1 values). */
  costs: number[];
}

/** Poses of the batch's cars from their exact simulator states. */
function posesOf(batch: ControllerBatch): EgoPose {
  const e = batch.episodes;
  const f = (g: (i: number) => number) => tf.tensor1d(Float32Array.from(e, (_, i) => g(i)));
  return { x: f((i) => e[i]!.state.xPx), y: f((i) => e[i]!.state.yPx), dx: f((i) => e[i]!.state.dirX), dy: f((i) => e[i]!.state.dirY), v: f((i) => e[i]!.state.speedPxPerS) };
}

/** The kinematic poses after each step of a normalised plan [n, H, 2], step-major [H * n]. */
function rollPlan(pose0: EgoPose, plan: tf.Tensor3D, stats: NormStats): EgoPose {
  const H = plan.shape[1];
  const out: tf.Tensor2D[] = [];
  let p = packPose(pose0);
  for (let t = 0; t < H; t++) {
    const a = tf.reshape(tf.slice(plan, [0, t, 0], [-1, 1, -1]), [-1, ACTION_DIM]) as tf.Tensor2D;
    p = tf.slice(kinematicStepPacked(p, a, stats), [0, 0], [-1, POSE_COLS]);
    out.push(p);
  }
  return unpackPose(tf.concat(out, 0));
}

export class MpcPlanner {
  private readonly plans = new Map<number, Float32Array>();
  private calls = 0;

  constructor(
    readonly model: ForwardModel,
    readonly stats: NormStats,
    readonly opts: MpcOptions,
  ) {}

  /** The normalised action that is no action: a = 0, b = 0 in physical units. */
  private noAction(): [number, number] {
    const { actionMean: m, actionStd: s } = this.stats;
    return [-m[0]! / s[0]!, -m[1]! / s[1]!];
  }

  /** Warm-start plans [n, H, 2] for the batch's cars. */
  private async warmStart(batch: ControllerBatch): Promise<Float32Array> {
    const H = this.opts.horizon;
    const out = new Float32Array(batch.n * H * ACTION_DIM);
    let fromPolicy: Float32Array | null = null;
    if (this.opts.policy && batch.episodes.some((e) => !this.plans.has(e.vehicleId))) {
      const p = this.opts.policy;
      const a = tf.tidy(() => p.policy.act(contextInput(batch, p.policy.cfg.ncond, p.policy.cfg.channels, p.stats, `policy ${p.dir}`)));
      fromPolicy = (await a.data()) as Float32Array;
      a.dispose();
    }
    const [na, nb] = this.noAction();
    batch.episodes.forEach((e, i) => {
      const prev = this.plans.get(e.vehicleId);
      for (let t = 0; t < H; t++) {
        const o = (i * H + t) * ACTION_DIM;
        if (prev) {
          const src = Math.min(t + 1, H - 1) * ACTION_DIM;
          out[o] = prev[src]!;
          out[o + 1] = prev[src + 1]!;
        } else if (fromPolicy) {
          out[o] = fromPolicy[i * 2]!;
          out[o + 1] = fromPolicy[i * 2 + 1]!;
        } else {
          out[o] = na;
          out[o + 1] = nb;
        }
      }
    });
    return out;
  }

  /** Optimises the batch's plans (and remembers them for the next step's warm start). */
  async plan(batch: ControllerBatch): Promise<PlanResult> {
    const { horizon: H, iters } = this.opts;
    const n = batch.n;
    const cfg = this.model.cfg;
    const noise = FmNoise.forStep(this.opts.seed ?? 0, this.calls++, false, 0);
    const cars: CarSizes = {
      lengthObsPx: Float32Array.from(batch.episodes, (e) => e.lengthPx * OBS_SCALE),
      widthObsPx: Float32Array.from(batch.episodes, (e) => e.widthPx * OBS_SCALE),
    };
    const init = await this.warmStart(batch);
    // The reference future: the model unrolled with the warm-start plan, centred on its kinematic poses.
    const pose0 = posesOf(batch);
    type Ref = { frames: tf.Tensor4D[]; poses: EgoPose };
    const ref = tf.tidy((): tf.TensorContainer => {
      const input = contextInput(batch, cfg.ncond, cfg.channels, this.stats, 'the MPC world model');
      const plan0 = tf.tensor3d(init, [n, H, ACTION_DIM]);
      const actions = Array.from({ length: H }, (_, t) => tf.reshape(tf.slice(plan0, [0, t, 0], [-1, 1, -1]), [n, ACTION_DIM]) as tf.Tensor2D);
      const r = this.model.unroll(input, { actions, noise });
      return { frames: r.images, poses: rollPlan(pose0, plan0, this.stats) } as unknown as tf.TensorContainer;
    }) as unknown as Ref;
    const init3 = tf.tensor3d(init, [n, H, ACTION_DIM]);
    const plan = tf.variable(init3, true);
    init3.dispose();
    const adam = new Adam({ plan }, { learningRate: this.opts.learningRate });
    // Each iteration's cost stays on the backend until the end: one read for all of them.
    const costT: tf.Scalar[] = [];
    const loss = () => kmCostLoss(ref.frames, rollPlan(pose0, plan, this.stats), ref.poses, cars, this.opts.weights);
    try {
      for (let k = 0; k < iters; k++) {
        const { value, grads } = tf.variableGrads(loss, [plan]);
        costT.push(value);
        const clipped = tf.tidy(() => tf.clipByValue(grads[plan.name]!, -1, 1));
        tf.dispose(grads);
        adam.apply({ plan: clipped });
        clipped.dispose();
        // Projected onto the actions the controller executes (+-ACTION_CLAMP), so the plan never
        // counts on braking or steering the car cannot do.
        const projected = tf.tidy(() => tf.clipByValue(plan, -ACTION_CLAMP, ACTION_CLAMP));
        plan.assign(projected);
        projected.dispose();
      }
      costT.push(tf.tidy(loss));
      const all = tf.stack(costT);
      const costs = Array.from(await all.data());
      all.dispose();
      const out = (await plan.data()) as Float32Array;
      batch.episodes.forEach((e, i) => this.plans.set(e.vehicleId, out.slice(i * H * ACTION_DIM, (i + 1) * H * ACTION_DIM)));
      return { plan: Float32Array.from(out), costs };
    } finally {
      tf.dispose(costT);
      adam.dispose();
      plan.dispose();
      tf.dispose([ref.frames, ref.poses.x, ref.poses.y, ref.poses.dx, ref.poses.dy, ref.poses.v, pose0.x, pose0.y, pose0.dx, pose0.dy, pose0.v]);
    }
  }
}

/** MPC as a simulator controller: plans for every controlled car of a lockstep step, executes each plan's first action. */
export function mpcController(model: ForwardModel, stats: NormStats, opts: MpcOptions, name = 'mpc'): Controller {
  const planner = new MpcPlanner(model, stats, opts);
  const H = opts.horizon;
  return {
    name,
    async act(batch: ControllerBatch): Promise<Float32Array> {
      const { plan } = await planner.plan(batch);
      const first = new Float32Array(batch.n * ACTION_DIM);
      for (let i = 0; i < batch.n; i++) first.set(plan.subarray(i * H * ACTION_DIM, i * H * ACTION_DIM + ACTION_DIM), i * ACTION_DIM);
      return unnormaliseActions(first, { stats });
    },
  };
}
