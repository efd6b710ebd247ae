/**
 * Inputs of `ppuu sim fidelity`: a track store folder, or trajectory files (a file, or a folder
 * of .csv / .txt files) imported in memory through the data area's importer (with a column
 * mapping where needed).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../common/errors.js';
import { importTrajectories } from '../../data/import/importer.js';
import { isTrackStore, readTrackStore } from '../../data/track-store.js';
import type { TrackStore } from '../../data/tracks.js';
import { fidelity, type FidelityReport } from '../fidelity.js';
import { findMap } from '../map.js';

export async function loadTracks(path: string, mapping?: string): Promise<TrackStore> {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new UserError(`${path}: not found`);
  }
  if (st.isDirectory() && isTrackStore(path)) return readTrackStore(path);
  const files = st.isDirectory()
    ? readdirSync(path)
        .filter((f) => /\.(csv|txt)$/i.test(f))
        .sort()
        .map((f) => join(path, f))
    : [path];
  if (files.length === 0) throw new UserError(`${path}: no track store and no .csv or .txt trajectory files`);
  return (await importTrajectories(files, { mapping })).store;
}

export async function fidelityOf(path: string, mapping?: string): Promise<FidelityReport & { map: string }> {
  const store = await loadTracks(path, mapping);
  const map = findMap(store.manifest.map);
  if (!map) throw new UserError(`${path}: the tracks are of map '${store.manifest.map}', which the simulator has no road for (i80, us101); a mapping's "location" names it`);
  return { map: map.name, ...fidelity(map, store.vehicles) };
}
