/**
 * Evaluation on a dataset split (`ppuu eval`): the split's episodes name the cars to drive; the
 * track stores the dataset was dumped from (manifest sources, resolved relative to the dataset
 * folder, then as absolute paths, then by slot under --trajectories) are replayed, one lockstep
 * environment per slot, with the image variant the dataset uses.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../../common/errors.js';
import { openDataset } from '../../data/dataset.js';
import type { Split } from '../../data/dataset-types.js';
import type { Controller } from '../controllers/controller.js';
import { evaluate, type EvalReport, type SlotEpisodes } from '../evaluate.js';
import { findTrackStores, loadReplay, type StoreRef } from './replay-input.js';
import { isTrackStore, readTrackStoreManifest } from '../../data/track-store.js';

export interface DatasetEvalOptions {
  data: string;
  split: Split;
  policyName: string;
  seeds: number[];
  controllerFor: (seed: number) => Controller | Promise<Controller>;
  /** Folder of track stores to use instead of the paths recorded in the manifest. */
  trajectories?: string;
  maxSteps?: number;
  /** Evaluate at most this many episodes (the first ones by id). */
  limit?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface DatasetEvalReport extends EvalReport {
  dataset: string;
  split: Split;
}

function isDir(p: string): boolean {
  return existsSync(p) && statSync(p).isDirectory();
}

export async function evaluateDataset(opts: DatasetEvalOptions): Promise<DatasetEvalReport> {
  const ds = openDataset(opts.data);
  const m = ds.manifest;
  let metas = ds.episodes(opts.split);
  if (metas.length === 0) throw new UserError(`${opts.data}: the ${opts.split} split has no episodes`);
  if (opts.limit !== undefined) metas = metas.slice(0, opts.limit);
  const channels = m.imageShape[2];
  const variant = channels === 4 ? 'offroad' : 'paper';
  const fromFlag = opts.trajectories ? findTrackStores(opts.trajectories) : null;
  const slots: SlotEpisodes[] = [];
  const bySlot = new Map<string | null, typeof metas>();
  for (const e of metas) bySlot.set(e.slot, [...(bySlot.get(e.slot) ?? []), e]);
  for (const [slot, eps] of bySlot) {
    let ref: StoreRef | undefined;
    if (fromFlag) {
      ref = fromFlag.find((r) => r.manifest.slot === slot);
      if (!ref) throw new UserError(`${opts.trajectories}: no track store for slot '${slot}' of ${opts.data}`);
    } else {
      const src = m.sources.find((s) => s.slot === slot) as { tracks: string; slot: string | null; absolute?: string } | undefined;
      if (!src) throw new UserError(`${join(opts.data, 'manifest.json')}: field sources: no source for slot '${slot}'`);
      const candidates = [isAbsolute(src.tracks) ? src.tracks : resolve(opts.data, src.tracks), src.absolute].filter((p): p is string => !!p);
      const dir = candidates.find((p) => isDir(p) && isTrackStore(p));
      if (!dir) throw new UserError(`${join(opts.data, 'manifest.json')}: field sources: track store for slot '${slot}' not found at ${candidates.join(' or ')} (pass --trajectories DIR)`);
      ref = { dir, manifest: readTrackStoreManifest(dir) };
    }
    const data = loadReplay(ref);
    for (const e of eps) if (!data.car(e.vehicleId)) throw new UserError(`${ref.dir}: vehicle ${e.vehicleId} of episode ${e.id} is not in the track store (was the dataset dumped from other tracks?)`);
    slots.push({ data, vehicleIds: eps.map((e) => e.vehicleId), episodeIds: eps.map((e) => e.id) });
  }
  const report = await evaluate(slots, {
    seeds: opts.seeds,
    controllerFor: opts.controllerFor,
    policyName: opts.policyName,
    variant,
    maxSteps: opts.maxSteps,
    onProgress: opts.onProgress,
  });
  return { dataset: opts.data, split: opts.split, ...report };
}

export { isDir };
