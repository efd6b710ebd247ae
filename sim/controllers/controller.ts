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

export interface Controller {
  readonly name: string;
  /** Returns [n, 2] actions (a px/s^2, b 1/px), one row per batch row. */
  act(batch: ControllerBatch): Float32Array | Promise<Float32Array>;
}
