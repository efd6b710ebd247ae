/**
 * Episode dataset I/O (format in dataset-types.ts): episode writer and reader, the manifest with
 * its JSON Schema, the seeded 80/10/10 split by episode, and normalisation statistics.
 *
 * Writing is crash-safe: each episode folder appears atomically (written to a temp folder, then
 * renamed), and manifest.json is written last, so a folder without a manifest is an unfinished
 * dump that a re-run can resume (finished episode folders are kept), never a corrupt dataset.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, mkdtempSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { writeFileAtomic } from '../common/atomic.js';
import { UserError } from '../common/errors.js';
import { trackTemp } from '../common/interrupt.js';
import { encodeNpy, readNpy } from '../common/npy.js';
import { writeFileSync } from 'node:fs';
import { Rng } from '../common/rng.js';
import type { DatasetManifest, Episode, EpisodeMeta, NormStats, Split } from './dataset-types.js';
import { ACTION_DIM, checkLengths, episodeShapes, STATE_DIM, STATE_ROWS } from './layout.js';

export type { DatasetManifest, Episode, EpisodeMeta, NormStats, Split } from './dataset-types.js';

export const EPISODE_FILES = ['images', 'states', 'masks', 'actions', 'costs', 'frames'] as const;
/** Per episode folder: the sha256 of each .npy file, written with them (the manifest copies it). */
export const EPISODE_DIGESTS_FILE = 'sha256.json';

export const manifestSchema = {
  type: 'object',
  required: ['format', 'version', 'map', 'imageShape', 'costNames', 'sources', 'splitSeed', 'episodes', 'stats', 'writtenBy'],
  properties: {
    format: { const: 'ppuu-episodes' },
    version: { const: 1 },
    map: { type: 'string' },
    imageShape: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 3, maxItems: 3 },
    costNames: { type: 'array', items: { type: 'string' }, minItems: 1 },
    sources: {
      type: 'array',
      items: { type: 'object', required: ['tracks', 'slot'], properties: { tracks: { type: 'string' }, slot: { type: ['string', 'null'] } } },
    },
    splitSeed: { type: 'integer' },
    episodes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'slot', 'vehicleId', 'length', 'split'],
        properties: {
          id: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$' },
          slot: { type: ['string', 'null'] },
          vehicleId: { type: 'integer' },
          length: { type: 'integer', minimum: 1 },
          split: { enum: ['train', 'val', 'test'] },
          sha256: { type: 'object', additionalProperties: { type: 'string', pattern: '^[0-9a-f]{64}$' } },
        },
      },
    },
    stats: {
      type: 'object',
      required: ['stateMean', 'stateStd', 'actionMean', 'actionStd'],
      properties: {
        stateMean: { type: 'array', items: { type: 'number' }, minItems: 4, maxItems: 4 },
        stateStd: { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 4, maxItems: 4 },
        actionMean: { type: 'array', items: { type: 'number' }, minItems: 2, maxItems: 2 },
        actionStd: { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 2, maxItems: 2 },
      },
    },
    writtenBy: { type: 'string' },
  },
} as const;

const ajv = new Ajv({ allErrors: false });
const validateManifest = ajv.compile(manifestSchema);

/** Checks a manifest object; the error names the file and the JSON path of the first problem. */
export function checkManifest(value: unknown, file: string): DatasetManifest {
  if (!validateManifest(value)) {
    const e = validateManifest.errors![0]!;
    throw new UserError(`${file}: field ${e.instancePath || '/'}: ${e.message}`);
  }
  return value as unknown as DatasetManifest;
}

/**
 * Seeded split by episode: ids are sorted, shuffled with Rng(seed) and cut at 80 % / 90 %.
 * The same ids and seed always give the same split, whatever order the ids come in.
 */
export function splitEpisodes(ids: readonly string[], seed: number, fractions: [number, number, number] = [0.8, 0.1, 0.1]): Map<string, Split> {
  const order = new Rng(seed).shuffle([...ids].sort());
  const nTrain = Math.round(order.length * fractions[0]);
  const nVal = Math.round(order.length * (fractions[0] + fractions[1])) - nTrain;
  const out = new Map<string, Split>();
  order.forEach((id, i) => out.set(id, i < nTrain ? 'train' : i < nTrain + nVal ? 'val' : 'test'));
  return out;
}

/** Streaming mean / standard deviation (Welford) of the ego state row and the actions. */
export class NormAccumulator {
  private n = 0;
  private mean = new Float64Array(STATE_DIM + ACTION_DIM);
  private m2 = new Float64Array(STATE_DIM + ACTION_DIM);

  /** Adds every frame of an episode: ego row of states [T,7,4] and actions [T,2]. */
  add(states: Float32Array, actions: Float32Array, length: number): void {
    const v = new Float64Array(STATE_DIM + ACTION_DIM);
    for (let t = 0; t < length; t++) {
      for (let k = 0; k < STATE_DIM; k++) v[k] = states[t * STATE_ROWS * STATE_DIM + k]!;
      for (let k = 0; k < ACTION_DIM; k++) v[STATE_DIM + k] = actions[t * ACTION_DIM + k]!;
      this.n++;
      for (let k = 0; k < STATE_DIM + ACTION_DIM; k++) {
        const d = v[k]! - this.mean[k]!;
        this.mean[k]! += d / this.n;
        this.m2[k]! += d * (v[k]! - this.mean[k]!);
      }
    }
  }

  /** The statistics; a zero or undefined spread becomes 1 so that standardising never divides by 0. */
  stats(): NormStats {
    const std = Array.from(this.m2, (m) => {
      const s = this.n > 1 ? Math.sqrt(m / (this.n - 1)) : 0;
      return s > 1e-8 ? s : 1;
    });
    const mean = Array.from(this.mean);
    return { stateMean: mean.slice(0, STATE_DIM), stateStd: std.slice(0, STATE_DIM), actionMean: mean.slice(STATE_DIM), actionStd: std.slice(STATE_DIM) };
  }
}

/** Throws when an episode's arrays do not have the lengths of its shapes (data/layout.ts). */
export function checkEpisodeShapes(ep: Episode, channels: number, nCosts: number): void {
  checkLengths(`episode ${ep.meta.id}`, ep as unknown as Record<string, ArrayLike<unknown>>, episodeShapes(ep.meta.length, channels, nCosts));
}

/** Folder of one episode inside a dataset. */
export function episodeDir(datasetDir: string, id: string): string {
  return join(datasetDir, 'episodes', id);
}

/** Whether an episode folder is complete (all its files present); used to resume a dump. */
export function hasEpisode(datasetDir: string, id: string): boolean {
  const dir = episodeDir(datasetDir, id);
  return EPISODE_FILES.every((f) => existsSync(join(dir, `${f}.npy`)));
}

/** Writes one episode's arrays atomically as episodes/<id>/*.npy. */
export function writeEpisode(datasetDir: string, ep: Episode, channels: number, nCosts: number): void {
  checkEpisodeShapes(ep, channels, nCosts);
  const shapes = episodeShapes(ep.meta.length, channels, nCosts);
  const parent = join(datasetDir, 'episodes');
  mkdirSync(parent, { recursive: true });
  const tmp = mkdtempSync(join(parent, `.${ep.meta.id}.tmp-`));
  const forget = trackTemp(tmp);
  try {
    const digests: Record<string, string> = {};
    for (const name of EPISODE_FILES) {
      const bytes = encodeNpy(ep[name], shapes[name]);
      digests[name] = createHash('sha256').update(bytes).digest('hex');
      writeFileSync(join(tmp, `${name}.npy`), bytes);
    }
    writeFileSync(join(tmp, EPISODE_DIGESTS_FILE), JSON.stringify(digests) + '\n');
    const dest = episodeDir(datasetDir, ep.meta.id);
    rmSync(dest, { recursive: true, force: true });
    renameSync(tmp, dest);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    forget();
  }
}

/** The digests written with an episode (null: none, as in episodes of older dumps). */
export function readEpisodeDigests(datasetDir: string, id: string): Record<string, string> | null {
  const file = join(episodeDir(datasetDir, id), EPISODE_DIGESTS_FILE);
  if (!existsSync(file)) return null;
  try {
    const v = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    return EPISODE_FILES.every((f) => typeof v[f] === 'string') ? (v as Record<string, string>) : null;
  } catch {
    return null;
  }
}

/** Validates and writes manifest.json last, which marks the dataset complete. */
export function writeManifest(datasetDir: string, manifest: DatasetManifest): void {
  checkManifest(manifest, join(datasetDir, 'manifest.json'));
  writeFileAtomic(join(datasetDir, 'manifest.json'), JSON.stringify(manifest, null, 1) + '\n');
}

/** Removes temp folders left by an interrupted writer. */
export function cleanPartialEpisodes(datasetDir: string): void {
  const parent = join(datasetDir, 'episodes');
  if (!existsSync(parent)) return;
  for (const f of readdirSync(parent)) if (f.startsWith('.') && f.includes('.tmp-')) rmSync(join(parent, f), { recursive: true, force: true });
}

/** A finished dataset opened for reading. */
export class Dataset {
  readonly manifest: DatasetManifest;
  constructor(readonly dir: string) {
    const file = join(dir, 'manifest.json');
    if (!existsSync(dir)) throw new UserError(`${dir}: dataset folder not found`);
    if (!existsSync(file)) throw new UserError(`${dir}: not a finished dataset (no manifest.json; re-run 'ppuu data dump' to finish it)`);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      throw new UserError(`${file}: invalid JSON (${(e as Error).message})`);
    }
    this.manifest = checkManifest(raw, file);
  }

  get channels(): number {
    return this.manifest.imageShape[2];
  }

  /** Episode metadata, optionally of one split. */
  episodes(split?: Split): EpisodeMeta[] {
    return split ? this.manifest.episodes.filter((e) => e.split === split) : this.manifest.episodes;
  }

  /** Loads one episode's arrays (checking shapes against the manifest). */
  load(meta: EpisodeMeta): Episode {
    const dir = episodeDir(this.dir, meta.id);
    const T = meta.length;
    const get = (name: (typeof EPISODE_FILES)[number], shape: readonly number[]) => {
      const { data, shape: got } = readNpy(join(dir, `${name}.npy`));
      if (got.length !== shape.length || got.some((s, i) => s !== shape[i])) {
        throw new UserError(`${join(dir, name + '.npy')}: shape [${got}] does not match the manifest's [${shape}]`);
      }
      return data;
    };
    const shapes = episodeShapes(T, this.channels, this.manifest.costNames.length);
    return {
      meta,
      images: get('images', shapes.images) as Uint8Array,
      states: get('states', shapes.states) as Float32Array,
      masks: get('masks', shapes.masks) as Uint8Array,
      actions: get('actions', shapes.actions) as Float32Array,
      costs: get('costs', shapes.costs) as Float32Array,
      frames: get('frames', shapes.frames) as Int32Array,
    };
  }
}

export function openDataset(dir: string): Dataset {
  return new Dataset(dir);
}
