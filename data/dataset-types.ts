/**
 * The episode dataset: what `ppuu data dump` writes (one episode per valid car) and what the
 * world model and the policy train on. A folder, numpy-readable:
 *
 *   manifest.json                    DatasetManifest (JSON Schema-validated with ajv)
 *   episodes/<episodeId>/images.npy  uint8   [T, 117, 24, C]  car-centred state images (C = 3, or 4)
 *   episodes/<episodeId>/states.npy  float32 [T, 7, 4]        (x, y, vx, vy) px, px/s: ego + 6 neighbours
 *   episodes/<episodeId>/masks.npy   uint8   [T, 7]           1 where that neighbour exists (ego always 1)
 *   episodes/<episodeId>/actions.npy float32 [T, 2]           (acceleration px/s^2, steering b) taken at t
 *   episodes/<episodeId>/costs.npy   float32 [T, K]           costNames order (proximity, lane, ...)
 *   episodes/<episodeId>/frames.npy  int32   [T]              source frame ids
 *
 * Convention: images[t], states[t] and costs[t] describe the same instant; actions[t] is the
 * action applied at t that leads to t + 1.
 */

export type Split = 'train' | 'val' | 'test';

export interface EpisodeMeta {
  id: string;
  slot: string | null;
  vehicleId: number;
  length: number;
  split: Split;
  /** sha256 hex digest of each of the episode's files (name without .npy -> digest); absent in older datasets. */
  sha256?: Record<string, string>;
}

export interface NormStats {
  /** Per state component (x, y, vx, vy) of the ego row, over the training split. */
  stateMean: number[];
  stateStd: number[];
  /** Per action component (a, b), over the training split. */
  actionMean: number[];
  actionStd: number[];
}

export interface DatasetManifest {
  format: 'ppuu-episodes';
  version: 1;
  map: string;
  imageShape: [number, number, number];
  costNames: string[];
  sources: Array<{ tracks: string; slot: string | null }>;
  splitSeed: number;
  episodes: EpisodeMeta[];
  stats: NormStats;
  writtenBy: string;
}

export interface Episode {
  meta: EpisodeMeta;
  images: Uint8Array;
  states: Float32Array;
  masks: Uint8Array;
  actions: Float32Array;
  costs: Float32Array;
  frames: Int32Array;
}
