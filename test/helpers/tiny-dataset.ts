/**
 * Builds small procedural episode datasets for tests: a green block (another car) drifting
 * down the image at a speed set by the action, lane lines in red, the ego in blue, and states
 * and costs consistent with it. Deterministic for a seed.
 */
import { join } from 'node:path';
import { Rng } from '../../common/rng.js';
import { NormAccumulator, splitEpisodes, writeEpisode, writeManifest } from '../../data/dataset.js';
import { DT_S, IMAGE_H as H, IMAGE_W as W } from '../../data/layout.js';
import type { DatasetManifest, Episode, EpisodeMeta } from '../../data/dataset-types.js';
import { tempDir } from './temp.js';

export function proceduralEpisode(id: string, length: number, seed: number, channels = 3): Episode {
  const rng = new Rng(seed);
  const T = length;
  const images = new Uint8Array(T * H * W * channels);
  const states = new Float32Array(T * 7 * 4);
  const masks = new Uint8Array(T * 7);
  const actions = new Float32Array(T * 2);
  const costs = new Float32Array(T * 2);
  const frames = new Int32Array(T);
  let gapPx = rng.uniform(20, 80);
  let x = 300;
  let v = rng.uniform(50, 100);
  const col = 8 + rng.int(8);
  for (let t = 0; t < T; t++) {
    const a = rng.uniform(-5, 5);
    actions[t * 2] = a;
    actions[t * 2 + 1] = rng.uniform(-1e-3, 1e-3);
    const px = (t * H * W) * channels;
    for (let r = 0; r < H; r++) {
      for (const c of [1, 12, 22]) images[px + (r * W + c) * channels] = 200;
      for (let c = 10; c < 14; c++) if (r >= 60 && r < 70) images[px + (r * W + c) * channels + 2] = 255;
    }
    const top = Math.max(0, Math.min(H - 8, Math.round(60 - gapPx / 4)));
    for (let r = top; r < top + 8; r++) for (let c = col; c < col + 4; c++) images[px + (r * W + c) * channels + 1] = 255;
    states.set([x, 100, v, 0], t * 28);
    masks[t * 7] = 1;
    costs[t * 2] = Math.max(0, 1 - gapPx / 80);
    costs[t * 2 + 1] = 0.1;
    frames[t] = 1000 + t;
    x += v * DT_S;
    v += a * DT_S;
    gapPx = Math.max(5, Math.min(200, gapPx - a * 0.5));
  }
  const meta: EpisodeMeta = { id, slot: 'synthetic', vehicleId: seed, length: T, split: 'train' };
  return { meta, images, states, masks, actions, costs, frames };
}

/**
 * Writes a dataset of `n` procedural episodes of `length` frames to a new temp folder. Episode i
 * is proceduralEpisode(id, length, episodeSeed(i)); `edit` may change it before it is written
 * (statistics are computed after the edit). `ids` names the episodes (default ep0000, ...).
 */
export function writeTinyDataset(
  opts: {
    n?: number;
    length?: number;
    seed?: number;
    channels?: number;
    dir?: string;
    ids?: (i: number) => string;
    episodeSeed?: (i: number) => number;
    edit?: (ep: Episode, i: number) => void;
    source?: string;
  } = {},
): string {
  const n = opts.n ?? 10;
  const length = opts.length ?? 60;
  const channels = opts.channels ?? 3;
  const dir = opts.dir ?? tempDir('ppuu-tiny-dataset-');
  const ids = Array.from({ length: n }, (_, i) => opts.ids?.(i) ?? `ep${String(i).padStart(4, '0')}`);
  const split = splitEpisodes(ids, opts.seed ?? 1);
  const acc = new NormAccumulator();
  const metas: EpisodeMeta[] = [];
  ids.forEach((id, i) => {
    const ep = proceduralEpisode(id, length, opts.episodeSeed?.(i) ?? (opts.seed ?? 1) * 1000 + i, channels);
    opts.edit?.(ep, i);
    ep.meta.split = split.get(id)!;
    writeEpisode(dir, ep, channels, 2);
    if (ep.meta.split === 'train') acc.add(ep.states, ep.actions, length);
    metas.push(ep.meta);
  });
  const manifest: DatasetManifest = {
    format: 'ppuu-episodes', version: 1, map: 'i80', imageShape: [H, W, channels], costNames: ['proximity', 'lane'],
    sources: [{ tracks: opts.source ?? 'procedural', slot: null }], splitSeed: opts.seed ?? 1, episodes: metas, stats: acc.stats(), writtenBy: 'test',
  };
  writeManifest(dir, manifest);
  return dir;
}
