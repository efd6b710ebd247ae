/**
 * `ppuu data dump`: turns track stores into an episode dataset (data/dataset-types.ts), one
 * episode per car that has at least one frame in the validity window (sim/episode.ts), with a
 * seeded 80/10/10 split by episode and the normalisation statistics of the training split.
 *
 * Crash safety and resuming: dump-config.json (the inputs) is written first; every episode
 * folder appears atomically (data/dataset.ts); manifest.json is written last and marks the
 * dataset complete. Re-running with the same inputs skips the episodes already written; a
 * folder holding a different dump is refused. Work is shared by worker threads
 * (sim/io/dump-worker.ts), each rendering and writing whole episodes.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { writeFileAtomic } from '../../common/atomic.js';
import { UserError } from '../../common/errors.js';
import { startWorker } from '../../common/locate.js';
import { interruptRequested, Interrupted, onAbort, onInterruptSignal, pollInterrupts } from '../../common/interrupt.js';
import { readNpy } from '../../common/npy.js';
import {
  cleanPartialEpisodes,
  episodeDir,
  hasEpisode,
  readEpisodeDigests,
  NormAccumulator,
  splitEpisodes,
  writeManifest,
} from '../../data/dataset.js';
import { IMAGE_H, IMAGE_W } from '../../data/layout.js';
import type { DatasetManifest, EpisodeMeta } from '../../data/dataset-types.js';
import { ppuuVersion } from '../../data/version.js';
import { COST_NAMES } from '../costs.js';
import { validRange } from '../episode.js';
import { variantChannels, type ImageVariant } from '../raster/rasteriser.js';
import { findTrackStores, loadReplay, mapOf, type StoreRef } from './replay-input.js';
import { writeEpisodeJob, type DumpJob } from './dump-job.js';

export interface DumpOptions {
  trajectories: string;
  out: string;
  slots?: string[];
  workers?: number;
  variant?: ImageVariant;
  splitSeed?: number;
  /** Called with (episodes done, episodes to do) as episodes are written. */
  onProgress?: (done: number, total: number) => void;
}

export interface DumpSummary {
  out: string;
  map: string;
  sources: Array<{ tracks: string; slot: string | null; episodes: number }>;
  episodes: number;
  frames: number;
  written: number;
  resumed: number;
  splits: Record<'train' | 'val' | 'test', number>;
  imageShape: [number, number, number];
  workers: number;
  seconds: number;
}

interface DumpConfig {
  format: 'ppuu-dump-config';
  sources: Array<{ tracks: string; slot: string | null }>;
  variant: ImageVariant;
  splitSeed: number;
}

const CONFIG_FILE = 'dump-config.json';

/** An episode id from the slot (or store folder name) and the vehicle id. */
export function episodeId(ref: StoreRef, vehicleId: number): string {
  const base = (ref.manifest.slot ?? ref.dir.split(/[\\/]/).pop() ?? 'tracks').replace(/[^A-Za-z0-9_.-]/g, '_');
  return `${base}_${vehicleId}`;
}

function sameConfig(a: DumpConfig, b: DumpConfig): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function checkOutput(out: string, config: DumpConfig): 'fresh' | 'partial' | 'complete' {
  if (!existsSync(out) || readdirSync(out).length === 0) return 'fresh';
  const cfgFile = join(out, CONFIG_FILE);
  if (!existsSync(cfgFile)) {
    throw new UserError(`${out}: folder exists and is not a dump by 'ppuu data dump' (no ${CONFIG_FILE}); choose another --out`);
  }
  let old: DumpConfig;
  try {
    old = JSON.parse(readFileSync(cfgFile, 'utf8')) as DumpConfig;
  } catch {
    throw new UserError(`${cfgFile}: invalid JSON; remove the folder or choose another --out`);
  }
  if (!sameConfig(old, config)) {
    const differs = (['sources', 'variant', 'splitSeed'] as const)
      .filter((k) => JSON.stringify(old[k]) !== JSON.stringify(config[k]))
      .map((k) => (k === 'sources' ? `sources ${old.sources.map((x) => x.tracks).join(', ')} -> ${config.sources.map((x) => x.tracks).join(', ')}` : `${k === 'splitSeed' ? '--split-seed' : '--variant'} ${String(old[k])} -> ${String(config[k])}`));
    throw new UserError(`${out}: holds a dump of different inputs (${CONFIG_FILE}: ${differs.join(', ') || 'other settings'}); choose another --out`);
  }
  return existsSync(join(out, 'manifest.json')) ? 'complete' : 'partial';
}

interface PlannedEpisode {
  id: string;
  storeIndex: number;
  vehicleId: number;
  slot: string | null;
  length: number;
}

export async function dumpDataset(opts: DumpOptions): Promise<DumpSummary> {
  const t0 = Date.now();
  const out = resolve(opts.out);
  const variant = opts.variant ?? 'paper';
  const splitSeed = opts.splitSeed ?? 0;
  const refs = findTrackStores(opts.trajectories, opts.slots);
  const maps = new Set(refs.map((r) => mapOf(r).name));
  if (maps.size > 1) throw new UserError(`${opts.trajectories}: track stores of different maps (${[...maps].join(', ')}); dump one map at a time`);
  const config: DumpConfig = {
    format: 'ppuu-dump-config',
    sources: refs.map((r) => ({ tracks: r.dir, slot: r.manifest.slot })),
    variant,
    splitSeed,
  };
  const state = checkOutput(out, config);
  if (state !== 'fresh') cleanPartialEpisodes(out);

  // Plan: every car with a valid frame, in a stable order.
  const plan: PlannedEpisode[] = [];
  const perStore = refs.map(() => 0);
  refs.forEach((ref, s) => {
    const data = loadReplay(ref);
    for (const car of data.cars) {
      const [k0, k1] = validRange(data, car);
      if (k1 > k0) {
        plan.push({ id: episodeId(ref, car.id), storeIndex: s, vehicleId: car.id, slot: ref.manifest.slot, length: k1 - k0 });
        perStore[s]!++;
      }
    }
  });
  if (plan.length === 0) throw new UserError(`${opts.trajectories}: no car has a frame inside the validity window; nothing to dump`);
  const ids = plan.map((p) => p.id);
  if (new Set(ids).size !== ids.length) throw new UserError(`${opts.trajectories}: two stores give the same episode ids (same slot twice?)`);
  // The config is written once the inputs are known to give episodes (no leftover after an error).
  if (state === 'fresh') writeFileAtomic(join(out, CONFIG_FILE), JSON.stringify(config, null, 1) + '\n');

  const todo = state === 'complete' ? [] : plan.filter((p) => !hasEpisode(out, p.id));
  const nWorkers = Math.max(1, Math.min(opts.workers ?? 1, todo.length));
  let done = 0;
  opts.onProgress?.(0, todo.length);
  const tick = () => opts.onProgress?.(++done, todo.length);
  if (todo.length > 0) {
    const jobs: DumpJob[] = Array.from({ length: nWorkers }, () => ({ out, variant, stores: refs.map((r) => r.dir), episodes: [] }));
    // Interleave so that each worker gets a similar mix of long and short episodes.
    todo.forEach((p, i) => jobs[i % nWorkers]!.episodes.push({ id: p.id, store: p.storeIndex, vehicleId: p.vehicleId }));
    // A signal stops the writers (the worker threads are terminated and awaited), then the
    // half-written episode folders are removed and Interrupted is thrown; a re-run resumes.
    const workers = new Set<Worker>();
    const forget = onAbort(() => cleanPartialEpisodes(out));
    const release = pollInterrupts('stopping the dump (the same command resumes it)');
    const unlisten = onInterruptSignal(() => {
      for (const w of workers) void w.terminate();
    });
    try {
      if (nWorkers === 1) await writeEpisodeJob(jobs[0]!, tick, () => interruptRequested() !== null);
      else {
        try {
          await Promise.all(jobs.map((job) => runWorker(job, tick, workers)));
        } catch (e) {
          if (interruptRequested() === null) throw e;
          // Terminated by the signal: wait until every worker has stopped writing.
          await Promise.all([...workers].map((w) => new Promise((r) => w.once('exit', r))));
        }
      }
      const signal = interruptRequested();
      if (signal) {
        cleanPartialEpisodes(out);
        throw new Interrupted(signal, `${done} episodes written to ${out}; the same command resumes the dump`);
      }
    } finally {
      unlisten();
      release();
      forget();
    }
  }

  // Split, statistics of the training split, manifest last.
  const split = splitEpisodes(ids, splitSeed);
  const acc = new NormAccumulator();
  const episodes: EpisodeMeta[] = [];
  for (const p of [...plan].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const sp = split.get(p.id)!;
    const sha256 = state !== 'complete' ? readEpisodeDigests(out, p.id) : null;
    episodes.push({ id: p.id, slot: p.slot, vehicleId: p.vehicleId, length: p.length, split: sp, ...(sha256 ? { sha256 } : {}) });
    if (sp === 'train' && state !== 'complete') {
      const dir = episodeDir(out, p.id);
      const states = readNpy(join(dir, 'states.npy')).data as Float32Array;
      const actions = readNpy(join(dir, 'actions.npy')).data as Float32Array;
      acc.add(states, actions, p.length);
    }
  }
  const C = variantChannels(variant);
  if (state !== 'complete') {
    const manifest: DatasetManifest & { sim: Record<string, unknown> } = {
      format: 'ppuu-episodes',
      version: 1,
      map: [...maps][0]!,
      imageShape: [IMAGE_H, IMAGE_W, C],
      costNames: [...COST_NAMES],
      sources: refs.map((r) => ({ tracks: relative(out, r.dir) || '.', slot: r.manifest.slot, absolute: r.dir })),
      splitSeed,
      episodes,
      stats: acc.stats(),
      writtenBy: ppuuVersion(),
      sim: { variant, extraction: 'spec', smoothingWindow: 15, units: 'px, px/s, a px/s^2, b 1/px' },
    };
    writeManifest(out, manifest);
  }
  const splits = { train: 0, val: 0, test: 0 };
  for (const e of episodes) splits[e.split]++;
  return {
    out,
    map: [...maps][0]!,
    sources: refs.map((r, s) => ({ tracks: r.dir, slot: r.manifest.slot, episodes: perStore[s]! })),
    episodes: plan.length,
    frames: plan.reduce((s, p) => s + p.length, 0),
    written: todo.length,
    resumed: plan.length - todo.length,
    splits,
    imageShape: [IMAGE_H, IMAGE_W, C],
    workers: nWorkers,
    seconds: (Date.now() - t0) / 1000,
  };
}

function runWorker(job: DumpJob, tick: () => void, live: Set<Worker>): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const w = startWorker('dump', { job });
    live.add(w);
    w.on('exit', () => live.delete(w));
    let failed = false;
    w.on('message', (m: { type: string; message?: string; user?: boolean }) => {
      if (m.type === 'episode') tick();
      else if (m.type === 'error') {
        failed = true;
        reject(m.user ? new UserError(m.message ?? 'dump worker failed') : new Error(m.message));
      }
    });
    w.on('error', (e) => {
      failed = true;
      reject(e);
    });
    w.on('exit', (code) => {
      if (failed) return;
      if (code === 0) resolvePromise();
      else reject(new Error(`dump worker exited with code ${code}`));
    });
  });
}
