/**
 * Finding and loading the track stores the simulator replays (File I/O; the pure simulator
 * modules stay free of Node built-ins). A trajectories argument is either one track store
 * folder or a folder whose sub-folders are track stores (one per time slot).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../../common/errors.js';
import { isTrackStore, readTrackStore, readTrackStoreManifest } from '../../data/track-store.js';
import type { TrackStoreManifest } from '../../data/tracks.js';
import { findMap, type RoadMap } from '../map.js';
import { ReplayData } from '../replay.js';

export interface StoreRef {
  dir: string;
  manifest: TrackStoreManifest;
}

/** Track stores under `dir` (itself, or its immediate sub-folders), optionally only those of the given slots. */
export function findTrackStores(dir: string, slots?: readonly string[]): StoreRef[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${dir}: trajectories folder not found`);
  let dirs: string[];
  if (isTrackStore(dir)) dirs = [dir];
  else {
    dirs = readdirSync(dir)
      .sort()
      .map((f) => join(dir, f))
      .filter((p) => statSync(p).isDirectory() && isTrackStore(p));
  }
  if (dirs.length === 0) throw new UserError(`${dir}: no track store found (a folder with tracks.json, or sub-folders holding one; see 'ppuu data import' and 'ppuu data synth')`);
  let refs = dirs.map((d) => ({ dir: resolve(d), manifest: readTrackStoreManifest(d) }));
  if (slots && slots.length > 0) {
    const known = refs.map((r) => r.manifest.slot ?? '(none)');
    for (const s of slots) if (!known.includes(s)) throw new UserError(`${dir}: field slots: no track store for slot '${s}' (found: ${known.join(', ')})`);
    refs = refs.filter((r) => r.manifest.slot !== null && slots.includes(r.manifest.slot));
  }
  return refs;
}

/** The simulator map of a store, or a UserError naming the store. */
export function mapOf(ref: StoreRef): RoadMap {
  const m = findMap(ref.manifest.map);
  if (!m) throw new UserError(`${join(ref.dir, 'tracks.json')}: field map: the simulator has no road map for '${ref.manifest.map}' (supported: i80, us101)`);
  return m;
}

/** Reads a store and builds its replay. */
export function loadReplay(ref: StoreRef): ReplayData {
  return ReplayData.fromTrackStore(mapOf(ref), readTrackStore(ref.dir));
}
