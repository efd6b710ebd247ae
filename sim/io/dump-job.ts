/**
 * One share of a dump: render and write the listed episodes. Runs in the main thread or in a
 * worker thread (sim/io/dump-worker.ts); each worker builds the replays it needs itself.
 */
import { yieldToSignals } from '../../common/interrupt.js';
import { writeEpisode } from '../../data/dataset.js';
import { readTrackStoreManifest } from '../../data/track-store.js';
import { COST_NAMES } from '../costs.js';
import { buildEpisode } from '../episode.js';
import { Rasteriser, type ImageVariant } from '../raster/rasteriser.js';
import type { ReplayData } from '../replay.js';
import { Scene } from '../scene.js';
import { loadReplay } from './replay-input.js';

export interface DumpJob {
  out: string;
  variant: ImageVariant;
  /** Track store folders; episodes refer to them by index. */
  stores: string[];
  episodes: Array<{ id: string; store: number; vehicleId: number }>;
}

/** Writes the job's episodes, calling onEpisode after each; stops between episodes once `stop()` is true. */
export async function writeEpisodeJob(job: DumpJob, onEpisode: (id: string) => void, stop: () => boolean = () => false): Promise<void> {
  const replays = new Map<number, ReplayData>();
  const replay = (s: number) => {
    let r = replays.get(s);
    if (!r) {
      const dir = job.stores[s]!;
      r = loadReplay({ dir, manifest: readTrackStoreManifest(dir) });
      replays.set(s, r);
    }
    return r;
  };
  const scene = new Scene(256);
  const rasterisers = new Map<string, Rasteriser>();
  for (const e of job.episodes) {
    if (stop()) return;
    const data = replay(e.store);
    let R = rasterisers.get(data.map.name);
    if (!R) rasterisers.set(data.map.name, (R = new Rasteriser(data.map, job.variant)));
    const ep = buildEpisode(data, e.vehicleId, R, scene);
    if (!ep) throw new Error(`episode ${e.id}: no valid frame`);
    writeEpisode(
      job.out,
      {
        meta: { id: e.id, slot: data.slot, vehicleId: e.vehicleId, length: ep.length, split: 'train' },
        images: ep.images,
        states: ep.states,
        masks: ep.masks,
        actions: ep.actions,
        costs: ep.costs,
        frames: ep.frames,
      },
      R.channels,
      COST_NAMES.length,
    );
    onEpisode(e.id);
    await yieldToSignals();
  }
}
