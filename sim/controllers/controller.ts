/**
 * The controller interface: what drives the controlled cars of a lockstep environment
 * (sim/env.ts). A controller receives a batch of episodes (one row per car being driven) with
 * the last `contextFrames` observations of each, oldest first, and returns one action per row.
 *
 * Units: observations are raw (images uint8 0..255, HWC; states in px and px/s, not
 * normalised); actions are physical: a in px/s^2 and b in 1/px (sim/kinematics.ts), which the
 * environment clips to the car's limits. A learned policy that works in normalised units
 * un-normalises its outputs with the dataset statistics before returning them.
 */
import { checkLengths, IMAGE_H, IMAGE_W, STATE_DIM } from '../../data/layout.js';
import type { CarState } from '../kinematics.js';
import type { RoadMap } from '../map.js';

/** What a controller may know about one episode besides its observations. */
export interface EpisodeView {
  vehicleId: number;
  /** Absolute frame of the current observation. */
  frame: number;
  state: CarState;
  lengthPx: number;
  widthPx: number;
  /** 7 x 4 symbolic state (ego, then neighbours; sim/neighbours.ts) and its mask. */
  neighbours: Float32Array;
  mask: Uint8Array;
  /** The car's logged action at this frame, if the log has one. */
  loggedAction: readonly [number, number] | null;
}

export interface ControllerBatch {
  n: number;
  map: RoadMap;
  contextFrames: number;
  channels: number;
  episodes: EpisodeView[];
  /** [n, contextFrames, 117, 24, channels] uint8, oldest frame first. */
  images: Uint8Array;
  /** [n, contextFrames, 4] ego (x, y, vx, vy), px and px/s, oldest frame first. */
  states: Float32Array;
}

/** The shape of each array of a controller batch (sizes from data/layout.ts). */
export function controllerBatchShapes(b: Pick<ControllerBatch, 'n' | 'contextFrames' | 'channels'>) {
  return {
    episodes: [b.n],
    images: [b.n, b.contextFrames, IMAGE_H, IMAGE_W, b.channels],
    states: [b.n, b.contextFrames, STATE_DIM],
  };
}

/**
 * Throws when an array of a controller batch does not have the length its n, contextFrames and
 * channels need. `fields` picks the arrays (the environment checks its images when it assembles
 * them, as controllers that do not read them never make it build them).
 */
export function checkControllerBatch(
  b: ControllerBatch,
  fields: ReadonlyArray<keyof ReturnType<typeof controllerBatchShapes>> = ['episodes', 'images', 'states'],
): ControllerBatch {
  const all = controllerBatchShapes(b);
  const shapes = Object.fromEntries(fields.map((f) => [f, all[f]]));
  const arrays = Object.fromEntries(fields.map((f) => [f, b[f]]));
  checkLengths('controller batch', arrays, shapes);
  return b;
}

export interface Controller {
  readonly name: string;
  /** Returns [n, 2] actions (a px/s^2, b 1/px), one row per batch row. */
  act(batch: ControllerBatch): Float32Array | Promise<Float32Array>;
}
