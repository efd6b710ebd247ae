/**
 * The scenario file format: its JSON Schema (checked with ajv in validate.ts) and the matching
 * TypeScript types. A scenario says which traffic to load (a track store or seeded synthetic
 * traffic), which car(s) the bot drives (listed vehicle ids, or every car of a split), when and
 * for how long, with which controller, under which seeds, and how the app shows it. A suite file
 * holds several scenarios (for `ppuu eval --scenarios`).
 *
 * Units: frames are 10 Hz simulator steps (0.1 s). Relative paths inside a scenario are resolved
 * against the folder of the file that holds it.
 */

export const SCENARIO_FORMAT = 'ppuu-scenario';
export const SUITE_FORMAT = 'ppuu-suite';

/** Traffic from a track store folder written by `ppuu data import` / `ppuu data synth`. */
export interface TracksDataset {
  kind: 'tracks';
  path: string;
}
/** Seeded synthetic I-80-like traffic generated in memory (data/synth); `options` go to the generator as they are. */
export interface SynthDataset {
  kind: 'synth';
  seed: number;
  durationS: number;
  options?: Record<string, unknown>;
}
export type DatasetSpec = TracksDataset | SynthDataset;

/** The bot drives these vehicle ids (each one its own episode unless `together` is set). */
export interface EgoVehicles {
  kind: 'vehicles';
  ids: number[];
  /** Drive all listed cars in one world at once (default false: one episode per car). */
  together?: boolean;
}
/** The bot drives every car of a split (seeded 80/10/10 by vehicle, as data/dataset splits episodes). */
export interface EgoSplit {
  kind: 'split';
  split: 'train' | 'val' | 'test' | 'all';
  /** Seed of the split permutation (default 0). */
  splitSeed?: number;
  /** Keep only the first N cars of the split, in vehicle-id order. */
  limit?: number;
}
export type EgoSpec = EgoVehicles | EgoSplit;

export interface IdmParams {
  desiredSpeedMps?: number;
  timeHeadwayS?: number;
  minGapM?: number;
  maxAccMps2?: number;
  comfortDecMps2?: number;
}

export type ControllerSpec =
  | { kind: 'replay' }
  | { kind: 'no-action' }
  | { kind: 'idm'; params?: IdmParams }
  | { kind: 'policy'; path: string; stochastic?: boolean };

export interface WorldModelSpec {
  /** Forward-model checkpoint folder. */
  path: string;
  /** Imagined steps shown ahead of the current frame. */
  horizon?: number;
  /** Dropout samples whose spread is shown as uncertainty. */
  samples?: number;
}

export interface DisplayOptions {
  camera?: 'follow' | 'free';
  showGhost?: boolean;
  showObservation?: boolean;
  showImagined?: boolean;
  /** Playback speed, multiples of real time. */
  playbackSpeed?: number;
  startPaused?: boolean;
  /** Frame (episode-relative) shown first. */
  frame?: number;
}

export interface Scenario {
  format?: typeof SCENARIO_FORMAT;
  name: string;
  description?: string;
  map: 'i80';
  /** I-80 time slot of the data ('0400-0415', ...) or null (synthetic); selects the black list. */
  slot?: string | null;
  dataset: DatasetSpec;
  ego: EgoSpec;
  /** Frames after the ego's first recorded frame at which the episode starts (default 0). */
  startFrame?: number;
  /** Frames the ego replays its logged actions before the controller drives (default 20: the model's context). */
  takeoverFrames?: number;
  /** Longest episode in frames (default: until the ego's data ends). */
  durationFrames?: number;
  controller: ControllerSpec;
  /** One run per seed (stochastic policies, world-model samples); default [0]. */
  seeds?: number[];
  worldModel?: WorldModelSpec;
  display?: DisplayOptions;
}

export interface Suite {
  format: typeof SUITE_FORMAT;
  name: string;
  description?: string;
  scenarios: Scenario[];
}

const name = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^\\n]*$' } as const;
const nonNegInt = { type: 'integer', minimum: 0 } as const;

const idmParams = {
  type: 'object',
  additionalProperties: false,
  properties: {
    desiredSpeedMps: { type: 'number', exclusiveMinimum: 0, maximum: 60 },
    timeHeadwayS: { type: 'number', exclusiveMinimum: 0, maximum: 10 },
    minGapM: { type: 'number', minimum: 0, maximum: 50 },
    maxAccMps2: { type: 'number', exclusiveMinimum: 0, maximum: 10 },
    comfortDecMps2: { type: 'number', exclusiveMinimum: 0, maximum: 10 },
  },
} as const;

export const scenarioSchema = {
  $id: 'ppuu-scenario',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'map', 'dataset', 'ego', 'controller'],
  properties: {
    $schema: { type: 'string' },
    format: { const: SCENARIO_FORMAT },
    name,
    description: { type: 'string' },
    map: { enum: ['i80'] },
    slot: { anyOf: [{ type: 'string', pattern: '^[0-9]{4}-[0-9]{4}$' }, { type: 'null' }] },
    dataset: {
      type: 'object',
      discriminator: { propertyName: 'kind' },
      required: ['kind'],
      properties: { kind: { type: 'string' } },
      oneOf: [
        {
          additionalProperties: false,
          required: ['path'],
          properties: { kind: { const: 'tracks' }, path: { type: 'string', minLength: 1 } },
        },
        {
          additionalProperties: false,
          required: ['seed', 'durationS'],
          properties: {
            kind: { const: 'synth' },
            seed: { type: 'integer' },
            durationS: { type: 'number', exclusiveMinimum: 0, maximum: 3600 },
            options: { type: 'object' },
          },
        },
      ],
    },
    ego: {
      type: 'object',
      discriminator: { propertyName: 'kind' },
      required: ['kind'],
      properties: { kind: { type: 'string' } },
      oneOf: [
        {
          additionalProperties: false,
          required: ['ids'],
          properties: {
            kind: { const: 'vehicles' },
            ids: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'integer' } },
            together: { type: 'boolean' },
          },
        },
        {
          additionalProperties: false,
          required: ['split'],
          properties: {
            kind: { const: 'split' },
            split: { enum: ['train', 'val', 'test', 'all'] },
            splitSeed: { type: 'integer' },
            limit: { type: 'integer', minimum: 1 },
          },
        },
      ],
    },
    startFrame: nonNegInt,
    takeoverFrames: nonNegInt,
    durationFrames: { type: 'integer', minimum: 1 },
    controller: {
      type: 'object',
      discriminator: { propertyName: 'kind' },
      required: ['kind'],
      properties: { kind: { type: 'string' } },
      oneOf: [
        { additionalProperties: false, properties: { kind: { const: 'replay' } } },
        { additionalProperties: false, properties: { kind: { const: 'no-action' } } },
        { additionalProperties: false, properties: { kind: { const: 'idm' }, params: idmParams } },
        {
          additionalProperties: false,
          required: ['path'],
          properties: { kind: { const: 'policy' }, path: { type: 'string', minLength: 1 }, stochastic: { type: 'boolean' } },
        },
      ],
    },
    seeds: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'integer' } },
    worldModel: {
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      properties: {
        path: { type: 'string', minLength: 1 },
        horizon: { type: 'integer', minimum: 1, maximum: 100 },
        samples: { type: 'integer', minimum: 1, maximum: 64 },
      },
    },
    display: {
      type: 'object',
      additionalProperties: false,
      properties: {
        camera: { enum: ['follow', 'free'] },
        showGhost: { type: 'boolean' },
        showObservation: { type: 'boolean' },
        showImagined: { type: 'boolean' },
        playbackSpeed: { type: 'number', exclusiveMinimum: 0, maximum: 64 },
        startPaused: { type: 'boolean' },
        frame: nonNegInt,
      },
    },
  },
} as const;

export const suiteSchema = {
  $id: 'ppuu-suite',
  type: 'object',
  additionalProperties: false,
  required: ['format', 'name', 'scenarios'],
  properties: {
    $schema: { type: 'string' },
    format: { const: SUITE_FORMAT },
    name,
    description: { type: 'string' },
    scenarios: { type: 'array', minItems: 1, items: { $ref: 'ppuu-scenario' } },
  },
} as const;
