/**
 * Loads the traffic a scenario names and turns it into sim/'s replays (one ReplayData per
 * recording slot): a track-store folder, a raw trajectory file (imported in memory), an episode
 * dataset (its manifest's track stores, and its split), or seeded synthetic traffic. Replays are
 * deterministic, so each distinct dataset is loaded once per process and shared.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { UserError } from '../common/errors.js';
import { openDataset } from '../data/dataset.js';
import type { Split } from '../data/dataset-types.js';
import { isTrackStore, readTrackStore } from '../data/track-store.js';
import type { TrackStore } from '../data/tracks.js';
import { findMap } from '../sim/map.js';
import type { RoadMap } from '../sim/map.js';
import { ReplayData } from '../sim/replay.js';
import type { ResolvedScenario } from './validate.js';

export interface TrafficSlot {
  slot: string | null;
  data: ReplayData;
  /** Split of each vehicle id where the dataset defines one (episode datasets), else null. */
  split: Map<number, Split> | null;
  /** Episode id of each vehicle id (episode datasets), else null. */
  episodeIds: Map<number, string> | null;
}

export interface Traffic {
  map: RoadMap;
  slots: TrafficSlot[];
  /** Where it came from, in words. */
  source: string;
}

/** Generates a synthetic track store; set by the data area's synth module when it is loaded. */
export type SynthGenerator = (opts: { seed: number; durationS: number; slot: string | null; options: Record<string, unknown> }) => Promise<TrackStore>;
let synthGenerator: SynthGenerator | null = null;
export function setSynthGenerator(g: SynthGenerator): void {
  synthGenerator = g;
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
    return { map, slots: [{ slot: data.slot, data, split: null, episodeIds: null }], source: `tracks ${path}` };
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
      slots.push({ slot: src.slot, data, split, episodeIds: ids });
    }
    return { map, slots, source: `episodes ${dir}` };
  }
  if (!synthGenerator) throw new UserError(`${scenarioWhere(s, '.dataset.kind')}: synthetic traffic is not available in this build (use a track store: "kind": "tracks")`);
  const store = await synthGenerator({ seed: d.seed, durationS: d.durationS, slot: s.slot, options: d.options ?? {} });
  const data = replay(map, store, s.slot ?? store.manifest.slot);
  return { map, slots: [{ slot: data.slot, data, split: null, episodeIds: null }], source: `synthetic traffic, seed ${d.seed}, ${d.durationS} s` };
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
