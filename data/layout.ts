/**
 * The data layout: the sizes, time step, scale, state and action dimensions and frames of
 * reference that data/, sim/, worldmodel/, policy/ and renderer/ share, each defined here once
 * (docs/method.md sections 1-3), with the array shapes built from them and a check of a set of
 * arrays against its shapes. Every other module imports these names from here. Pure constants
 * and functions, no Node or tfjs imports: the viewer's page bundles this file.
 *
 * Units are in the names (_S seconds, _M metres, _PX simulator pixels, _PER_M per metre, _FPS
 * frames per second); sizes without a unit are counts (image rows and columns, vector lengths).
 *
 * Frames of reference, from the data to the models:
 *
 * - NGSIM local (raw files, track stores; data/): the vehicle's front centre, Local_Y along the
 *   road from the study area's entry edge, Local_X to the right from the left road edge. Raw
 *   files are in feet (FOOT_M), track stores in metres; one frame every DT_S.
 * - Simulator / screen (sim/, renderer/): pixels, SCALE_PX_PER_M (a 3.7 m lane is 24 px), at the
 *   car's rear centre; x along the direction of travel, y to the right (down on the screen);
 *   lane n of the main road spans y in [ROAD_TOP_PX + n LANE_W_PX, ROAD_TOP_PX + (n + 1) LANE_W_PX].
 *   x = Local_Y SCALE - MAP_X_OFFSET_PX[map] - length, y = Local_X SCALE + ROAD_TOP_PX.
 * - Observation (state image): IMAGE_H rows x IMAGE_W columns, HWC uint8, row 0 at the front,
 *   column 0 on the left, centred on the car's centre and turned so that its heading points up;
 *   one image pixel is IMAGE_DOWNSCALE simulator px (IMAGE_PX_PER_M).
 * - Symbolic state: STATE_ROWS rows of STATE_DIM values (x, y px; vx, vy px/s), the ego first,
 *   then its neighbours (sim/neighbours.ts); the models read the ego's row.
 * - Action: ACTION_DIM values (a px/s^2 along the heading; b 1/px, curvature, positive steers
 *   left), actions[t] leading from frame t to t + 1.
 * - Models (worldmodel/, policy/): images / 255; states and actions standardised with the
 *   dataset's training-split statistics.
 */

/** Frames per second of NGSIM data and of the simulator (one Frame_ID). */
export const NGSIM_FPS = 10;
/** Time step: one frame, seconds. */
export const DT_S = 1 / NGSIM_FPS;

/** One foot in metres (exact): NGSIM raw files are in feet. */
export const FOOT_M = 0.3048;
/** The simulator's lane: 3.7 m drawn as 24 px. */
export const LANE_W_M = 3.7;
export const LANE_W_PX = 24;
/** Simulator pixels per metre (6.486). */
export const SCALE_PX_PER_M = LANE_W_PX / LANE_W_M;
/** y of the road's top edge (the left edge of lane 0) on every map: 1.5 lane widths. */
export const ROAD_TOP_PX = 1.5 * LANE_W_PX;
/** Per map, the px subtracted from Local_Y x SCALE to give the screen x of the front. */
export const MAP_X_OFFSET_PX = { i80: 470, us101: 615 } as const;

/** The observation image: 117 rows (front at row 0) x 24 columns (left at column 0). */
export const IMAGE_H = 117;
export const IMAGE_W = 24;
/** Simulator px per image pixel: the image is a 468 x 96 px crop downscaled by 4. */
export const IMAGE_DOWNSCALE = 4;
/** Image pixels per metre (1.62). */
export const IMAGE_PX_PER_M = SCALE_PX_PER_M / IMAGE_DOWNSCALE;

/** Rows of the symbolic state: ego, then left / current / right lane behind / ahead neighbours. */
export const STATE_ROWS = 7;
/** Values per state row and of the ego state the models read: x, y, vx, vy. */
export const STATE_DIM = 4;
/** Values per action: a, b. */
export const ACTION_DIM = 2;

/** An array's shape (row-major, the last axis fastest). */
export type Shape = readonly number[];

/** Number of values of an array of `shape`. */
export function shapeSize(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Throws when an array's length differs from what its declared shape needs: `what` names the
 * set (an episode, a batch), each message the field, its shape and both lengths. A wrong length
 * is a bug in the code that built the arrays, so the error is a plain Error (an internal error).
 */
export function checkLengths(what: string, arrays: Readonly<Record<string, ArrayLike<unknown>>>, shapes: Readonly<Record<string, Shape>>): void {
  for (const [name, shape] of Object.entries(shapes)) {
    const a = arrays[name];
    if (a === undefined) throw new Error(`${what}: ${name} is missing`);
    const want = shapeSize(shape);
    if (!shape.every((s) => Number.isInteger(s) && s >= 0)) throw new Error(`${what}: ${name} has an invalid shape [${shape.join(', ')}]`);
    if (a.length !== want) throw new Error(`${what}: ${name} has ${a.length} values, its shape [${shape.join(', ')}] needs ${want}`);
  }
}

/** The arrays of one dataset episode of T frames and their shapes (data/dataset-types.ts). */
export function episodeShapes(T: number, channels: number, nCosts: number) {
  return {
    images: [T, IMAGE_H, IMAGE_W, channels],
    states: [T, STATE_ROWS, STATE_DIM],
    masks: [T, STATE_ROWS],
    actions: [T, ACTION_DIM],
    costs: [T, nCosts],
    frames: [T],
  } satisfies Record<string, Shape>;
}
