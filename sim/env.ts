/**
 * The lockstep environment (docs/method.md section 7): many controlled episodes of one replayed slot,
 * stepped together so that a policy is evaluated in batches. Each episode controls one car; every
 * other car replays its logged actions and does not react (episodes do not see each other).
 *
 * An episode starts at its car's first frame. The car follows its logged actions (its replay)
 * while observations are buffered at frames where the car is in the validity window; once
 * `contextFrames` (20) are buffered, the controller drives it, one action per 0.1 s step, from
 * the frame of the 20th observation on. The episode ends with:
 *   collision  proximity cost > 0.99,
 *   offroad    the rear centre above lane 0 or below the lower road edge,
 *   arrived    rear x > map.validMaxXPx (success),
 *   end-of-data  the slot's last frame is passed,
 *   timeout    more than maxSteps driven steps.
 * A car whose log ends before 20 observations are buffered is 'too-short'; with
 * skipIncompleteLogs (what evaluation uses), one whose log ends before it arrives (cut by the end
 * of the recording: even its own logged actions could not make it arrive) is 'incomplete-log'.
 * Neither is driven.
 * Actions are clipped to the car's limits (sim/kinematics.ts).
 */
import { checkControllerBatch, type Controller, type ControllerBatch, type EpisodeView } from './controllers/controller.js';
import type { Costs } from './costs.js';
import { clipAction, stepCar, type CarState } from './kinematics.js';
import { isOffRoad } from './map.js';
import { neighbourState } from './neighbours.js';
import { Rasteriser, type ImageVariant } from './raster/rasteriser.js';
import { replayState, type ReplayCar, type ReplayData } from './replay.js';
import { Scene } from './scene.js';
import { COLLISION_THRESHOLD, CONTEXT_FRAMES } from './units.js';
import { ACTION_DIM, IMAGE_H, IMAGE_W, SCALE_PX_PER_M, STATE_DIM, STATE_ROWS } from '../data/layout.js';
import { yieldToSignals } from '../common/interrupt.js';

/** Longest stretch of stepping between two turns of the event loop, ms. */
const YIELD_MS = 100;
let yielded = performance.now();

export type Outcome = 'running' | 'arrived' | 'collision' | 'offroad' | 'end-of-data' | 'timeout' | 'too-short' | 'incomplete-log';

export interface EnvOptions {
  variant?: ImageVariant;
  contextFrames?: number;
  /** Largest number of driven steps per episode. */
  maxSteps?: number;
  /** Leave out cars whose log ends before they arrive (outcome 'incomplete-log'). Default false. */
  skipIncompleteLogs?: boolean;
}

export interface EpisodeResult {
  vehicleId: number;
  outcome: Outcome;
  success: boolean;
  /** Distance driven by the controller along x, m (from the takeover to the end). */
  distanceM: number;
  /** Steps driven by the controller. */
  steps: number;
  takeoverFrame: number | null;
  endFrame: number;
  maxProximity: number;
  meanProximity: number;
  meanLane: number;
}

interface Run {
  vehicleId: number;
  car: ReplayCar;
  frame: number;
  state: CarState;
  phase: 'buffering' | 'driving' | 'done';
  outcome: Outcome;
  ctxImages: Uint8Array;
  ctxStates: Float32Array;
  /** Next ring slot and number of buffered observations. */
  head: number;
  buffered: number;
  neighbours: Float32Array;
  mask: Uint8Array;
  costs: Costs;
  takeoverFrame: number | null;
  takeoverX: number;
  steps: number;
  maxProx: number;
  sumProx: number;
  sumLane: number;
}

export class LockstepEnv {
  readonly contextFrames: number;
  readonly maxSteps: number;
  readonly skipIncompleteLogs: boolean;
  readonly rasteriser: Rasteriser;
  readonly obsSize: number;
  private runs: Run[] = [];
  private readonly scene = new Scene(256);
  private readonly skip = new Set<number>();

  constructor(
    readonly data: ReplayData,
    readonly vehicleIds: readonly number[],
    opts: EnvOptions = {},
  ) {
    this.contextFrames = opts.contextFrames ?? CONTEXT_FRAMES;
    this.maxSteps = opts.maxSteps ?? 2000;
    this.skipIncompleteLogs = opts.skipIncompleteLogs ?? false;
    this.rasteriser = new Rasteriser(data.map, opts.variant ?? 'paper');
    this.obsSize = IMAGE_H * IMAGE_W * this.rasteriser.channels;
    for (const id of vehicleIds) if (!data.car(id)) throw new Error(`vehicle ${id} is not in the replayed slot`);
  }

  get channels(): number {
    return this.rasteriser.channels;
  }

  private valid(s: CarState, car: ReplayCar): boolean {
    const m = this.data.map;
    return s.xPx > m.validMinXPx && s.xPx + s.dirX * car.lengthPx < m.validMaxXPx;
  }

  /** Renders run r's observation at its current frame and state into its context ring. */
  private observe(r: Run): void {
    this.skip.clear();
    this.skip.add(r.vehicleId);
    const scene = this.scene.fromReplay(this.data, r.frame, this.skip);
    const ego = scene.add(r.vehicleId, r.state, r.car.lengthPx, r.car.widthPx);
    r.costs = this.rasteriser.observe(scene, ego, r.ctxImages, r.head * this.obsSize);
    neighbourState(this.data.map, scene, ego, r.neighbours, 0, r.mask, 0);
    r.ctxStates.set(r.neighbours.subarray(0, STATE_DIM), r.head * STATE_DIM);
    r.head = (r.head + 1) % this.contextFrames;
    r.buffered = Math.min(r.buffered + 1, this.contextFrames);
  }

  /** Starts every episode and runs its buffering phase on logged actions. */
  reset(): void {
    const T = this.contextFrames;
    this.runs = this.vehicleIds.map((id) => {
      const car = this.data.car(id)!;
      return {
        vehicleId: id,
        car,
        frame: car.firstFrame,
        state: replayState(car, car.firstFrame),
        phase: 'buffering',
        outcome: 'running',
        ctxImages: new Uint8Array(T * this.obsSize),
        ctxStates: new Float32Array(T * STATE_DIM),
        head: 0,
        buffered: 0,
        neighbours: new Float32Array(STATE_ROWS * STATE_DIM),
        mask: new Uint8Array(STATE_ROWS),
        costs: { proximity: 0, lane: 0, offroad: 0 },
        takeoverFrame: null,
        takeoverX: 0,
        steps: 0,
        maxProx: 0,
        sumProx: 0,
        sumLane: 0,
      } satisfies Run;
    });
    for (const r of this.runs) this.buffer(r);
  }

  private buffer(r: Run): void {
    const car = r.car;
    let validFrames = 0;
    for (let k = 0; k < car.n; k++) if (this.valid(replayState(car, car.firstFrame + k), car)) validFrames++;
    const cut = this.skipIncompleteLogs && !(car.x[car.n - 1]! > this.data.map.validMaxXPx);
    if (validFrames < this.contextFrames || cut) {
      r.phase = 'done';
      r.outcome = validFrames < this.contextFrames ? 'too-short' : 'incomplete-log';
      return;
    }
    for (let k = 0; k < car.n; k++) {
      r.frame = car.firstFrame + k;
      r.state = replayState(car, r.frame);
      if (!this.valid(r.state, car)) continue;
      this.observe(r);
      if (r.buffered === this.contextFrames) {
        r.phase = 'driving';
        r.takeoverFrame = r.frame;
        r.takeoverX = r.state.xPx;
        return;
      }
    }
    r.phase = 'done';
    r.outcome = 'too-short';
  }

  /** Indices of the episodes being driven, in batch order. */
  active(): number[] {
    const out: number[] = [];
    this.runs.forEach((r, i) => {
      if (r.phase === 'driving') out.push(i);
    });
    return out;
  }

  get done(): boolean {
    return this.runs.every((r) => r.phase === 'done');
  }

  private view(r: Run): EpisodeView {
    const k = r.frame - r.car.firstFrame;
    return {
      vehicleId: r.vehicleId,
      frame: r.frame,
      state: { ...r.state },
      lengthPx: r.car.lengthPx,
      widthPx: r.car.widthPx,
      neighbours: r.neighbours,
      mask: r.mask,
      loggedAction: k >= 0 && k < r.car.n ? [r.car.a[k]!, r.car.b[k]!] : null,
    };
  }

  /** The controller input for the active episodes (images are assembled on first access). */
  batch(): ControllerBatch {
    const idx = this.active();
    const runs = idx.map((i) => this.runs[i]!);
    const T = this.contextFrames;
    const obs = this.obsSize;
    const states = new Float32Array(runs.length * T * STATE_DIM);
    runs.forEach((r, b) => {
      for (let t = 0; t < T; t++) {
        const slot = (r.head + t) % T; // oldest first
        states.set(r.ctxStates.subarray(slot * STATE_DIM, (slot + 1) * STATE_DIM), (b * T + t) * STATE_DIM);
      }
    });
    let images: Uint8Array | null = null;
    const assemble = (): Uint8Array => {
      const out = new Uint8Array(runs.length * T * obs);
      runs.forEach((r, b) => {
        for (let t = 0; t < T; t++) {
          const slot = (r.head + t) % T;
          out.set(r.ctxImages.subarray(slot * obs, (slot + 1) * obs), (b * T + t) * obs);
        }
      });
      return out;
    };
    const batch: ControllerBatch = {
      n: runs.length,
      map: this.data.map,
      contextFrames: T,
      channels: this.channels,
      episodes: runs.map((r) => this.view(r)),
      get images() {
        if (!images) {
          images = assemble();
          checkControllerBatch(batch, ['images']);
        }
        return images;
      },
      states,
    };
    return checkControllerBatch(batch, ['episodes', 'states']);
  }

  /** Applies one action per active episode (rows in the order of active()) and advances them one frame. */
  step(actions: Float32Array): void {
    const idx = this.active();
    if (actions.length < idx.length * ACTION_DIM) throw new Error(`step: expected ${idx.length * ACTION_DIM} action values, got ${actions.length}`);
    const map = this.data.map;
    idx.forEach((i, b) => {
      const r = this.runs[i]!;
      const [a, s] = clipAction(actions[b * ACTION_DIM]!, actions[b * ACTION_DIM + 1]!, r.car.lengthPx);
      stepCar(r.state, Number.isFinite(a) ? a : 0, Number.isFinite(s) ? s : 0);
      r.frame++;
      r.steps++;
      if (r.frame > this.data.lastFrame) return this.finish(r, 'end-of-data');
      this.observe(r);
      r.maxProx = Math.max(r.maxProx, r.costs.proximity);
      r.sumProx += r.costs.proximity;
      r.sumLane += r.costs.lane;
      if (r.costs.proximity > COLLISION_THRESHOLD) return this.finish(r, 'collision');
      if (isOffRoad(map, r.state.xPx, r.state.yPx)) return this.finish(r, 'offroad');
      if (r.state.xPx > map.validMaxXPx) return this.finish(r, 'arrived');
      if (r.steps >= this.maxSteps) return this.finish(r, 'timeout');
    });
  }

  private finish(r: Run, outcome: Outcome): void {
    r.phase = 'done';
    r.outcome = outcome;
  }

  results(): EpisodeResult[] {
    return this.runs.map((r) => ({
      vehicleId: r.vehicleId,
      outcome: r.outcome,
      success: r.outcome === 'arrived',
      distanceM: r.takeoverFrame === null ? 0 : (r.state.xPx - r.takeoverX) / SCALE_PX_PER_M,
      steps: r.steps,
      takeoverFrame: r.takeoverFrame,
      endFrame: r.frame,
      maxProximity: r.maxProx,
      meanProximity: r.steps > 0 ? r.sumProx / r.steps : 0,
      meanLane: r.steps > 0 ? r.sumLane / r.steps : 0,
    }));
  }
}

/** Resets the environment and drives all its episodes with `controller` until every one has ended. */
export async function runEnv(env: LockstepEnv, controller: Controller, onStep?: (activeCount: number) => void): Promise<EpisodeResult[]> {
  env.reset();
  // Controllers resolve without giving the event loop a turn, so a whole evaluation would run
  // before a SIGINT / SIGTERM handler could: yield every YIELD_MS of stepping (counted across
  // calls: an evaluation is many short runs).
  while (!env.done) {
    const batch = env.batch();
    const actions = await controller.act(batch);
    env.step(actions);
    onStep?.(batch.n);
    if (performance.now() - yielded > YIELD_MS) {
      await yieldToSignals();
      yielded = performance.now();
    }
  }
  return env.results();
}
