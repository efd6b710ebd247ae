/**
 * Loads the traffic a scenario names and turns it into sim/'s replays (one ReplayData per
 * recording slot): a track-store folder, a raw trajectory file (imported in memory), an episode
 * dataset (its manifest's track stores, and its split), or seeded synthetic traffic. Replays are
 * deterministic, so each distinct dataset is loaded once per process and shared.
 */
import { existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { writeDirOnce } from '../common/atomic.js';
import { UserError } from '../common/errors.js';
import { synthCodeVersion } from '../data/synth/code-version.js';
import { openDataset } from '../data/dataset.js';
import type { Split } from '../data/dataset-types.js';
import { I80_SLOTS, isI80Slot } from '../data/slots.js';
import type { I80Slot } from '../data/slots.js';
import { isTrackStore, readTrackStore } from '../data/track-store.js';
import type { TrackStore } from '../data/tracks.js';
import { findMap } from '../sim/map.js';
import type { RoadMap } from '../sim/map.js';
import type { ImageVariant } from '../sim/raster/rasteriser.js';
import { ReplayData } from '../sim/replay.js';
import { episodeId } from '../sim/io/dump.js';
import type { ResolvedScenario } from './validate.js';

export interface TrafficSlot {
  slot: string | null;
  data: ReplayData;
  /** Split of each vehicle id where the dataset defines one (episode datasets), else null. */
  split: Map<number, Split> | null;
  /** Episode id of each vehicle id (episode datasets), else null. */
  episodeIds: Map<number, string> | null;
  /** The episode id `ppuu data dump` gives a car of this store (sim/io/dump.ts episodeId). */
  episodeIdOf: (vehicleId: number) => string;
}

export interface Traffic {
  map: RoadMap;
  slots: TrafficSlot[];
  /** Observation variant of the data (an episode dataset's channels), null when the data has none. */
  variant: ImageVariant | null;
  /** Where it came from, in words. */
  source: string;
}

/** Folder where generated synthetic traffic is kept between runs (PPUU_CACHE overrides). */
export function synthCacheDir(): string {
  return join(process.env.PPUU_CACHE ?? join(tmpdir(), 'ppuu-cache'), 'synth');
}

/**
 * The cache folder of one seed, slot and length of synthetic traffic, under a folder named by the
 * version of the code that generates it (data/synth/code-version.ts).
 */
export function synthCacheEntry(seed: number, slot: I80Slot, minutes: number): string {
  return join(synthCacheDir(), synthCodeVersion(), `seed${seed}-${slot}-${minutes}min`);
}

/**
 * Generates (or reuses) the synthetic track store of one seed, slot and length. Concurrent
 * builders (several test processes) each generate into a private folder and the first to finish
 * renames it into place; the others discard theirs (the traffic is deterministic).
 */
export async function synthStore(seed: number, slot: I80Slot, minutes: number): Promise<{ store: TrackStore; dir: string }> {
  const dir = synthCacheEntry(seed, slot, minutes);
  const store = join(dir, slot);
  if (!isTrackStore(store)) {
    const { generateSynthetic } = await import('../data/synth/generate.js');
    await writeDirOnce(dir, (path) => generateSynthetic(path, { slots: [slot], minutes, seed, recordDir: dir }));
  }
  return { store: readTrackStore(store), dir: store };
}

const cache = new Map<string, Promise<Traffic>>();

/** Where the scenario's errors point (its file, and index inside a suite). */
export function scenarioWhere(s: ResolvedScenario, field: string): string {
  const inSuite = s.source.index !== null ? `$.scenarios[${s.source.index}]` : '$';
  return `${s.source.file}: field ${inSuite}${field}`;
}

function pathOf(s: ResolvedScenario, p: string): string {
  return isAbsolute(p) ? p : resolve(s.baseDir, p);
}

async function storeFromPath(s: ResolvedScenario, path: string): Promise<TrackStore> {
  if (!existsSync(path)) throw new UserError(`${scenarioWhere(s, '.dataset.path')}: ${path} does not exist`);
  if (statSync(path).isDirectory()) {
    if (!isTrackStore(path)) throw new UserError(`${scenarioWhere(s, '.dataset.path')}: ${path} is a folder but not a track store (no tracks.json)`);
    return readTrackStore(path);
  }
  const { importTrajectories } = await import('../data/import/importer.js');
  return (await importTrajectories([path], s.slot ? { slot: s.slot } : {})).store;
}

function replay(map: RoadMap, store: TrackStore, slot: string | null | undefined): ReplayData {
  return ReplayData.fromTrackStore(map, store, slot === undefined ? {} : { slot });
}

async function load(s: ResolvedScenario): Promise<Traffic> {
  const map = findMap(s.map);
  if (!map) throw new UserError(`${scenarioWhere(s, '.map')}: unknown map '${s.map}'`);
  const d = s.dataset;
  if (d.kind === 'tracks') {
    const path = pathOf(s, d.path);
    const store = await storeFromPath(s, path);
    const data = replay(map, store, s.slot ?? undefined);
    const ref = { dir: path, manifest: store.manifest };
    return { map, slots: [{ slot: data.slot, data, split: null, episodeIds: null, episodeIdOf: (id) => episodeId(ref, id) }], variant: null, source: `tracks ${path}` };
  }
  if (d.kind === 'episodes') {
    const dir = pathOf(s, d.path);
    const ds = openDataset(dir);
    const slots: TrafficSlot[] = [];
    for (const src of ds.manifest.sources) {
      const tracks = pathOf({ ...s, baseDir: dir }, src.tracks);
      const store = await storeFromPath(s, tracks);
      const data = replay(map, store, src.slot);
      const split = new Map<number, Split>();
      const ids = new Map<number, string>();
      for (const e of ds.manifest.episodes) {
        if (e.slot !== src.slot) continue;
        split.set(e.vehicleId, e.split);
        ids.set(e.vehicleId, e.id);
      }
      const ref = { dir: tracks, manifest: store.manifest };
      slots.push({ slot: src.slot, data, split, episodeIds: ids, episodeIdOf: (id) => ids.get(id) ?? episodeId(ref, id) });
    }
    return { map, slots, variant: ds.manifest.imageShape[2] === 4 ? 'offroad' : 'paper', source: `episodes ${dir}` };
  }
  const slot = s.slot ?? '0400-0415';
  if (!isI80Slot(slot)) throw new UserError(`${scenarioWhere(s, '.slot')}: synthetic traffic exists for the I-80 slots ${I80_SLOTS.join(', ')}, not '${slot}'`);
  const { store, dir } = await synthStore(d.seed, slot, d.minutes);
  const data = replay(map, store, slot);
  const ref = { dir, manifest: store.manifest };
  return { map, slots: [{ slot, data, split: null, episodeIds: null, episodeIdOf: (id) => episodeId(ref, id) }], variant: null, source: `synthetic ${slot} traffic, seed ${d.seed}, ${d.minutes} min` };
}

/** The observation variant a scenario's episodes use: its own, else its dataset's, else 'paper'. */
export function variantOf(s: ResolvedScenario, traffic: Traffic): ImageVariant {
  return s.imageVariant ?? traffic.variant ?? 'paper';
}

/** The scenario's traffic (loaded once per distinct dataset). */
export function loadTraffic(s: ResolvedScenario): Promise<Traffic> {
  const key = JSON.stringify([s.map, s.slot, s.dataset, s.dataset.kind === 'synth' ? '' : s.baseDir]);
  let p = cache.get(key);
  if (!p) {
    p = load(s);
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}
