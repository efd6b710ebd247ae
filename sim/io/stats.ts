/**
 * `ppuu data stats`: a summary of an episode dataset: episodes and frames per split, episode
 * lengths, the normalisation statistics, and per cost its mean, maximum and how many frames
 * exceed the collision threshold (proximity).
 */
import { join } from 'node:path';
import { readNpy } from '../../common/npy.js';
import { episodeDir, openDataset } from '../../data/dataset.js';
import type { NormStats } from '../../data/dataset-types.js';
import { currentVerification } from '../../data/verify.js';
import { COLLISION_THRESHOLD } from '../units.js';

export interface DatasetStats {
  dataset: string;
  map: string;
  imageShape: [number, number, number];
  episodes: number;
  frames: number;
  splits: Record<'train' | 'val' | 'test', { episodes: number; frames: number }>;
  episodeLength: { min: number; mean: number; max: number };
  slots: Record<string, number>;
  stats: NormStats;
  costs: Record<string, { mean: number; max: number; framesAbove099: number }>;
  writtenBy: string;
  /** `ppuu data verify` of the dataset as it is now (null: never verified, or the manifest changed since); stats read the manifest and the cost files only. */
  verified: { ok: boolean; problems: number; at: string } | null;
}

export function datasetStats(dir: string): DatasetStats {
  const ds = openDataset(dir);
  const m = ds.manifest;
  const eps = m.episodes;
  const splits = { train: { episodes: 0, frames: 0 }, val: { episodes: 0, frames: 0 }, test: { episodes: 0, frames: 0 } };
  const slots: Record<string, number> = {};
  let frames = 0;
  for (const e of eps) {
    splits[e.split].episodes++;
    splits[e.split].frames += e.length;
    frames += e.length;
    const s = e.slot ?? '(none)';
    slots[s] = (slots[s] ?? 0) + 1;
  }
  const K = m.costNames.length;
  const sum = new Float64Array(K);
  const max = new Float64Array(K);
  const above = new Int32Array(K);
  for (const e of eps) {
    const { data, shape } = readNpy(join(episodeDir(dir, e.id), 'costs.npy'));
    if (shape[0] !== e.length || shape[1] !== K) throw new Error(`${e.id}: costs.npy has shape [${shape}], expected [${e.length}, ${K}]`);
    for (let i = 0; i < data.length; i++) {
      const k = i % K;
      const v = data[i]!;
      sum[k]! += v;
      if (v > max[k]!) max[k] = v;
      if (v > COLLISION_THRESHOLD) above[k]!++;
    }
  }
  const costs: DatasetStats['costs'] = {};
  m.costNames.forEach((name, k) => (costs[name] = { mean: frames ? sum[k]! / frames : 0, max: max[k]!, framesAbove099: above[k]! }));
  const lengths = eps.map((e) => e.length);
  return {
    dataset: dir,
    map: m.map,
    imageShape: m.imageShape,
    episodes: eps.length,
    frames,
    splits,
    episodeLength: { min: Math.min(...lengths), mean: frames / Math.max(1, eps.length), max: Math.max(...lengths) },
    slots,
    stats: m.stats,
    costs,
    writtenBy: m.writtenBy,
    verified: (() => {
      const v = currentVerification(dir);
      return v ? { ok: v.ok, problems: v.problems, at: v.verifiedAt } : null;
    })(),
  };
}
