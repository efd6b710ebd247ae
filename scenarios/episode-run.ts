/**
 * One scenario episode stepped frame by frame, for the viewer: the ego car replays its log
 * while the controller's context is buffered, then the controller drives it, exactly as in
 * evaluation (sim/env.ts LockstepEnv with this one car; same takeover, clipping and ending
 * rules). Each frame yields a snapshot of the whole road: every car (rear-centre positions, as
 * in sim/), which one is the ego, its logged "ghost" position, its observation and costs.
 */
import type { Controller } from '../sim/controllers/controller.js';
import type { Costs } from '../sim/costs.js';
import { LockstepEnv } from '../sim/env.js';
import type { EnvOptions, Outcome, EpisodeResult } from '../sim/env.js';
import { clipAction, stepCar } from '../sim/kinematics.js';
import { neighbourState } from '../sim/neighbours.js';
import type { CarState } from '../sim/kinematics.js';
import { Rasteriser } from '../sim/raster/rasteriser.js';
import { replayState } from '../sim/replay.js';
import type { ReplayCar, ReplayData } from '../sim/replay.js';
import { Scene } from '../sim/scene.js';
import { IMAGE_H, IMAGE_W, STATE_DIM, STATE_ROWS } from '../data/layout.js';
import { controllerFor } from './controllers.js';
import type { PlannedEpisode } from './plan.js';
import type { Traffic } from './traffic.js';
import { variantOf } from './traffic.js';
import type { ResolvedScenario } from './validate.js';

/** Every car at one instant; index `ego` is the controlled car. Rear centres, px; speeds px/s. */
export interface RoadSnapshot {
  n: number;
  ids: Int32Array;
  x: Float32Array;
  y: Float32Array;
  dirX: Float32Array;
  dirY: Float32Array;
  speed: Float32Array;
  lengthPx: Float32Array;
  widthPx: Float32Array;
  ego: number;
}

export interface EpisodeSnapshot {
  /** Episode-relative frame (0 = the ego's first frame). */
  index: number;
  /** Source frame id. */
  frame: number;
  /** 'replaying': logged actions while the context buffers; 'driving': the controller; 'ended': the frame where it ended. */
  phase: 'replaying' | 'driving' | 'ended';
  road: RoadSnapshot;
  /** The ego's logged (smoothed) rear-centre position and heading at this frame, if the log reaches it. */
  ghost: { x: number; y: number; dirX: number; dirY: number } | null;
  costs: Costs;
  /** uint8 [117, 24, channels] (sim/raster). */
  observation: Uint8Array;
  /** The ego row of the symbolic state (x, y, vx, vy; px, px/s; sim/neighbours.ts), what models are given with the image. */
  egoState: Float32Array;
}

function snapshotOf(scene: Scene, ego: number): RoadSnapshot {
  const n = scene.n;
  const f = (a: Float64Array) => Float32Array.from(a.subarray(0, n));
  return {
    n,
    ids: scene.ids.slice(0, n),
    x: f(scene.x),
    y: f(scene.y),
    dirX: f(scene.dirX),
    dirY: f(scene.dirY),
    speed: f(scene.speed),
    lengthPx: f(scene.lengthPx),
    widthPx: f(scene.widthPx),
    ego,
  };
}

/** The environment options of a scenario, the same for the viewer and for evaluation. */
export function envOptions(s: ResolvedScenario, traffic: Traffic): EnvOptions {
  return { contextFrames: s.contextFrames, maxSteps: s.durationFrames, variant: variantOf(s, traffic), skipIncompleteLogs: true };
}

export class EpisodeRun {
  readonly car: ReplayCar;
  readonly data: ReplayData;
  readonly rasteriser: Rasteriser;
  /**
   * Frame where the controller took over; null when the car is not driven (its log is too short
   * to buffer the context, or it ends before the car arrives), as in evaluation.
   */
  readonly takeoverFrame: number | null;
  /** Why the car is not driven ('too-short', 'incomplete-log'), null when it is. */
  readonly notDriven: Outcome | null;
  /** Upper bound of the episode's frame count (it may end earlier). */
  readonly maxFrames: number;
  outcome: Outcome | null = null;
  result: EpisodeResult | null = null;
  private nextIndex = 0;
  private state: CarState | null = null;
  /** Action (a px/s^2, b 1/px, as applied after clipping) taken at each episode frame, once known. */
  private readonly actions: Array<[number, number]> = [];
  private readonly stateRows = new Float32Array(STATE_ROWS * STATE_DIM);
  private readonly stateMask = new Uint8Array(STATE_ROWS);
  private readonly scene = new Scene(256);
  private readonly skip: Set<number>;

  private constructor(
    readonly scenario: ResolvedScenario,
    readonly episode: PlannedEpisode,
    traffic: Traffic,
    private readonly env: LockstepEnv,
    private readonly controller: Controller,
  ) {
    this.data = traffic.slots[episode.slotIndex]!.data;
    this.car = this.data.car(episode.vehicleId)!;
    this.rasteriser = new Rasteriser(this.data.map, env.rasteriser.variant);
    this.skip = new Set([episode.vehicleId]);
    env.reset();
    const driving = env.active().length > 0;
    this.takeoverFrame = driving ? env.batch().episodes[0]!.frame : null;
    this.notDriven = driving ? null : env.results()[0]!.outcome;
    const lastIndex = this.data.lastFrame + 1 - this.car.firstFrame;
    this.maxFrames = driving ? Math.min(this.takeoverFrame! - this.car.firstFrame + scenario.durationFrames, lastIndex) + 1 : this.car.n;
  }

  static async create(s: ResolvedScenario, episode: PlannedEpisode, traffic: Traffic): Promise<EpisodeRun> {
    const data = traffic.slots[episode.slotIndex]!.data;
    const env = new LockstepEnv(data, [episode.vehicleId], envOptions(s, traffic));
    return new EpisodeRun(s, episode, traffic, env, await controllerFor(s, episode.seed));
  }

  get channels(): number {
    return this.rasteriser.channels;
  }

  private snapshot(frame: number, state: CarState, phase: EpisodeSnapshot['phase']): EpisodeSnapshot {
    const scene = this.scene.fromReplay(this.data, frame, this.skip);
    const ego = scene.add(this.car.id, state, this.car.lengthPx, this.car.widthPx);
    const observation = new Uint8Array(IMAGE_H * IMAGE_W * this.channels);
    const costs = this.rasteriser.observe(scene, ego, observation, 0);
    neighbourState(this.data.map, scene, ego, this.stateRows, 0, this.stateMask, 0);
    const k = frame - this.car.firstFrame;
    const ghost = k >= 0 && k < this.car.n ? { x: this.car.ghostX[k]!, y: this.car.ghostY[k]!, dirX: this.car.dirX[k]!, dirY: this.car.dirY[k]! } : null;
    return { index: k, frame, phase, road: snapshotOf(scene, ego), ghost, costs, observation, egoState: this.stateRows.slice(0, STATE_DIM) };
  }

  /** The action taken at episode frame `index` (leading to index + 1), once that next frame exists. */
  actionAt(index: number): [number, number] | null {
    return this.actions[index] ?? null;
  }

  /** The next frame's snapshot, or null once the episode has ended. */
  async next(): Promise<EpisodeSnapshot | null> {
    const i = this.nextIndex;
    const frame = this.car.firstFrame + i;
    // Before the takeover (or all along for a car that is not driven): the logged replay.
    if (this.takeoverFrame === null || frame < this.takeoverFrame) {
      if (i >= this.car.n) return null;
      this.nextIndex++;
      this.actions[i] = clipAction(this.car.a[i]!, this.car.b[i]!, this.car.lengthPx);
      const last = this.takeoverFrame === null && i === this.car.n - 1;
      if (last) {
        this.result = this.env.results()[0]!;
        this.outcome = this.result.outcome;
      }
      return this.snapshot(frame, replayState(this.car, frame), last ? 'ended' : 'replaying');
    }
    if (this.outcome !== null) return null;
    if (frame === this.takeoverFrame) {
      this.state = { ...this.env.batch().episodes[0]!.state };
      this.nextIndex++;
      return this.snapshot(frame, this.state, 'driving');
    }
    // One controller step from the previous frame.
    const batch = this.env.batch();
    const actions = await this.controller.act(batch);
    const [a, b] = clipAction(actions[0]!, actions[1]!, this.car.lengthPx);
    this.actions[i - 1] = [Number.isFinite(a) ? a : 0, Number.isFinite(b) ? b : 0];
    this.env.step(actions);
    this.nextIndex++;
    if (this.env.active().length > 0) {
      this.state = { ...this.env.batch().episodes[0]!.state };
      return this.snapshot(frame, this.state, 'driving');
    }
    // The episode ended on this step: the env no longer shows the car, so apply the same clipped
    // action to the previous state (what the env did) to draw where it ended.
    const prev = { ...batch.episodes[0]!.state };
    stepCar(prev, this.actions[i - 1]![0], this.actions[i - 1]![1]);
    this.result = this.env.results()[0]!;
    this.outcome = this.result.outcome;
    this.state = null;
    return this.snapshot(frame, prev, 'ended');
  }
}
