/**
 * The world of one replayed slot as the viewer and scenario runner see it: a global frame
 * cursor, every car on the road at that frame, and any number of controlled cars. Replayed cars
 * follow their logged actions (the kinematic replay); a controlled car starts from its replayed
 * state when control is taken and is then moved by the actions given to step() (its logged
 * action when none is given, no action once its log has ended). Controlled cars see each other
 * at their controlled positions and every other car at its replayed position.
 *
 * snapshot() gives, per car: id, rear-centre position and centre position (px), unit heading,
 * size (px), speed (px/s), whether it is controlled, and its logged ("ghost") rear-centre position
 * at this frame (null once its log has ended); and per controlled car its observation (117 x 24 x
 * C uint8, HWC, front at row 0), its costs, its symbolic state and how it ended, if it has.
 * Off-road and arrival are detected by step(); a collision (proximity > 0.99) when snapshot()
 * renders the observation. Controlled cars that ended stay where they are.
 */
import type { Costs } from './costs.js';
import { clipAction, stepCar, type CarState } from './kinematics.js';
import { isOffRoad } from './map.js';
import { neighbourState } from './neighbours.js';
import { Rasteriser, type ImageVariant } from './raster/rasteriser.js';
import { replayState, type ReplayCar, type ReplayData } from './replay.js';
import { Scene } from './scene.js';
import { COLLISION_THRESHOLD } from './units.js';
import { IMAGE_H, IMAGE_W, STATE_DIM, STATE_ROWS } from '../data/layout.js';

export interface CarSnapshot {
  id: number;
  /** Rear centre, px. */
  xPx: number;
  yPx: number;
  /** Centre of the car (rear + heading * length / 2), px. */
  centreXPx: number;
  centreYPx: number;
  dirX: number;
  dirY: number;
  lengthPx: number;
  widthPx: number;
  speedPxPerS: number;
  controlled: boolean;
  /** Logged (smoothed) rear centre at this frame, null when the log has no point here. */
  ghost: { xPx: number; yPx: number } | null;
}

export type ControlledStatus = 'driving' | 'collision' | 'offroad' | 'arrived';

export interface ControlledSnapshot {
  id: number;
  /** 117 x 24 x channels uint8, HWC. */
  observation: Uint8Array;
  channels: number;
  costs: Costs;
  /** 7 x 4 symbolic state and mask (sim/neighbours.ts). */
  state: Float32Array;
  mask: Uint8Array;
  status: ControlledStatus;
}

export interface WorldSnapshot {
  frame: number;
  cars: CarSnapshot[];
  controlled: ControlledSnapshot[];
}

interface Controlled {
  car: ReplayCar;
  state: CarState;
  status: ControlledStatus;
}

export class World {
  frame: number;
  private readonly controlled = new Map<number, Controlled>();
  private readonly rasteriser: Rasteriser;
  private readonly scene = new Scene(256);

  constructor(
    readonly data: ReplayData,
    opts: { variant?: ImageVariant; frame?: number } = {},
  ) {
    this.rasteriser = new Rasteriser(data.map, opts.variant ?? 'paper');
    this.frame = opts.frame ?? data.firstFrame;
  }

  get channels(): number {
    return this.rasteriser.channels;
  }

  /** Moves the cursor to `frame` (releasing every controlled car). */
  seek(frame: number): void {
    this.controlled.clear();
    this.frame = frame;
  }

  /** Takes control of car `id` from its replayed state at the current frame. */
  control(id: number): void {
    const car = this.data.car(id);
    if (!car) throw new Error(`vehicle ${id} is not in the replayed slot`);
    const k = this.frame - car.firstFrame;
    if (k < 0 || k >= car.n) throw new Error(`vehicle ${id} is not on the road at frame ${this.frame}`);
    this.controlled.set(id, { car, state: replayState(car, this.frame), status: 'driving' });
  }

  release(id: number): void {
    this.controlled.delete(id);
  }

  controlledIds(): number[] {
    return [...this.controlled.keys()];
  }

  /** The scene at the current frame: replayed cars, with controlled cars at their own states. */
  private buildScene(): Scene {
    const skip = new Set(this.controlled.keys());
    const scene = this.scene.fromReplay(this.data, this.frame, skip);
    for (const [id, c] of this.controlled) scene.add(id, c.state, c.car.lengthPx, c.car.widthPx);
    return scene;
  }

  /**
   * Advances one frame. actions maps controlled ids to [a px/s^2, b 1/px] (clipped to the car's
   * limits); a controlled car without an entry takes its logged action (none once the log ends).
   * Cars that collided, left the road or arrived stay where they are.
   */
  step(actions: ReadonlyMap<number, readonly [number, number]> = new Map()): void {
    for (const [id, c] of this.controlled) {
      if (c.status !== 'driving') continue;
      const k = this.frame - c.car.firstFrame;
      const logged: [number, number] = k >= 0 && k < c.car.n ? [c.car.a[k]!, c.car.b[k]!] : [0, 0];
      const act = actions.get(id) ?? logged;
      const [a, b] = clipAction(act[0], act[1], c.car.lengthPx);
      stepCar(c.state, a, b);
    }
    this.frame++;
    const map = this.data.map;
    for (const c of this.controlled.values()) {
      if (c.status !== 'driving') continue;
      if (isOffRoad(map, c.state.xPx, c.state.yPx)) c.status = 'offroad';
      else if (c.state.xPx > map.validMaxXPx) c.status = 'arrived';
    }
  }

  /** Every car at the current frame, and the observation of each controlled car. */
  snapshot(opts: { observations?: boolean } = {}): WorldSnapshot {
    const scene = this.buildScene();
    const cars: CarSnapshot[] = [];
    for (let i = 0; i < scene.n; i++) {
      const id = scene.ids[i]!;
      const c = this.controlled.get(id);
      const car = c?.car ?? this.data.car(id)!;
      const k = this.frame - car.firstFrame;
      const L = scene.lengthPx[i]!;
      cars.push({
        id,
        xPx: scene.x[i]!,
        yPx: scene.y[i]!,
        centreXPx: scene.x[i]! + (scene.dirX[i]! * L) / 2,
        centreYPx: scene.y[i]! + (scene.dirY[i]! * L) / 2,
        dirX: scene.dirX[i]!,
        dirY: scene.dirY[i]!,
        lengthPx: L,
        widthPx: scene.widthPx[i]!,
        speedPxPerS: scene.speed[i]!,
        controlled: c !== undefined,
        ghost: k >= 0 && k < car.n ? { xPx: car.ghostX[k]!, yPx: car.ghostY[k]! } : null,
      });
    }
    const controlled: ControlledSnapshot[] = [];
    if (opts.observations !== false) {
      for (const [id, c] of this.controlled) {
        const ego = scene.indexOf(id);
        if (ego < 0) continue;
        const observation = new Uint8Array(IMAGE_H * IMAGE_W * this.channels);
        const costs = this.rasteriser.observe(scene, ego, observation);
        const state = new Float32Array(STATE_ROWS * STATE_DIM);
        const mask = new Uint8Array(STATE_ROWS);
        neighbourState(this.data.map, scene, ego, state, 0, mask, 0);
        if (c.status === 'driving' && costs.proximity > COLLISION_THRESHOLD) c.status = 'collision';
        controlled.push({ id, observation, channels: this.channels, costs, state, mask, status: c.status });
      }
    }
    return { frame: this.frame, cars, controlled };
  }
}
