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

/** Traffic from a track store folder (`ppuu data import` / `ppuu data synth`) or a raw trajectory file (imported in memory). */
export interface TracksDataset {
  kind: 'tracks';
  path: string;
}
/** An episode dataset (`ppuu data dump`): its manifest gives the traffic (its track stores) and the exact split. */
export interface EpisodesDataset {
  kind: 'episodes';
  path: string;
}
/**
 * Seeded synthetic I-80-like traffic (data/synth, IDM + MOBIL) of the scenario's `slot` (its
 * demand and congestion profile; default '0400-0415'), `minutes` long after the warm-up.
 * Generated once and cached on disk.
 */
export interface SynthDataset {
  kind: 'synth';
  seed: number;
  minutes: number;
}
export type DatasetSpec = TracksDataset | EpisodesDataset | SynthDataset;

/** The bot drives these vehicle ids, one episode each (as in evaluation, episodes do not see each other). */
export interface EgoVehicles {
  kind: 'vehicles';
  ids: number[];
}
/**
 * The bot drives every car of a split, one episode each. With an `episodes` dataset the split is
 * the dataset's own; otherwise it is the split `ppuu data dump --split-seed splitSeed` gives the
 * store when dumped alone (80/10/10 of the cars with a valid frame, seeded).
 */
export interface EgoSplit {
  kind: 'split';
  split: 'train' | 'val' | 'test' | 'all';
  /** Seed of the split permutation (default 0; ignored for an `episodes` dataset). */
  splitSeed?: number;
  /** Keep only the first N cars of the split, in vehicle-id order. */
  limit?: number;
}
export type EgoSpec = EgoVehicles | EgoSplit;

/** Overrides of sim/controllers' IDM defaults. */
export interface IdmParams {
  desiredSpeedMps?: number;
  timeGapS?: number;
  minGapM?: number;
  maxAccelMps2?: number;
  comfortDecelMps2?: number;
}

export type ControllerSpec =
  | { kind: 'replay' }
  | { kind: 'no-action' }
  | { kind: 'idm'; params?: IdmParams }
  | { kind: 'policy'; path: string; stochastic?: boolean }
  /** Planning through a world model at run time (policy/mpc.ts); `policy` warm-starts new cars' plans. */
  | { kind: 'mpc'; model: string; horizon?: number; iters?: number; policy?: string };

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
  /**
   * Time window of the recording, in source frame ids: only cars that enter at or after
   * `startFrame` and before `startFrame + windowFrames` are egos (default: the whole recording).
   */
  startFrame?: number;
  windowFrames?: number;
  /** Observations buffered on the logged actions before the controller drives (default 20, the models' context). */
  contextFrames?: number;
  /**
   * Observation channels: 'paper' (lanes, cars, ego) or 'offroad' (lanes, cars, off-road, ego);
   * default: the episode dataset's, else 'paper'. A policy needs the variant it was trained on.
   */
  imageVariant?: 'paper' | 'offroad';
  /** Longest drive in frames after the takeover (default 2000); the episode also ends at a collision, off-road, arrival or the end of the data. */
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
    timeGapS: { type: 'number', exclusiveMinimum: 0, maximum: 10 },
    minGapM: { type: 'number', minimum: 0, maximum: 50 },
    maxAccelMps2: { type: 'number', exclusiveMinimum: 0, maximum: 10 },
    comfortDecelMps2: { type: 'number', exclusiveMinimum: 0, maximum: 10 },
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
          required: ['path'],
          properties: { kind: { const: 'episodes' }, path: { type: 'string', minLength: 1 } },
        },
        {
          additionalProperties: false,
          required: ['seed', 'minutes'],
          properties: {
            kind: { const: 'synth' },
            seed: { type: 'integer', minimum: 0 },
            minutes: { type: 'number', exclusiveMinimum: 0, maximum: 15 },
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
    windowFrames: { type: 'integer', minimum: 1 },
    contextFrames: { type: 'integer', minimum: 1, maximum: 100 },
    imageVariant: { enum: ['paper', 'offroad'] },
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
        {
          additionalProperties: false,
          required: ['model'],
          properties: {
            kind: { const: 'mpc' },
            model: { type: 'string', minLength: 1 },
            horizon: { type: 'integer', minimum: 1, maximum: 100 },
            iters: { type: 'integer', minimum: 1, maximum: 100 },
            policy: { type: 'string', minLength: 1 },
          },
        },
      ],
    },
    seeds: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'integer', minimum: 0 } },
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
