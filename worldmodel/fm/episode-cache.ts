/**
 * An EpisodeSource that keeps recently used episodes in memory up to a byte budget (least
 * recently used first out), so that sampling many windows does not re-read the same files.
 */
import type { Episode, EpisodeMeta, Split } from '../../data/dataset-types.js';
import type { EpisodeSource } from './windows.js';

function episodeBytes(ep: Episode): number {
  return ep.images.byteLength + ep.states.byteLength + ep.masks.byteLength + ep.actions.byteLength + ep.costs.byteLength + ep.frames.byteLength;
}

export class EpisodeCache implements EpisodeSource {
  private readonly cache = new Map<string, Episode>();
  private bytes = 0;
  loads = 0;

  constructor(
    private readonly source: EpisodeSource,
    private readonly budgetBytes = 2 * 1024 ** 3,
  ) {}

  episodes(split?: Split): EpisodeMeta[] {
    return this.source.episodes(split);
  }

  load(meta: EpisodeMeta): Episode {
    const hit = this.cache.get(meta.id);
    if (hit) {
      // Re-insert to mark as most recently used (Map keeps insertion order).
      this.cache.delete(meta.id);
      this.cache.set(meta.id, hit);
      return hit;
    }
    const ep = this.source.load(meta);
    this.loads++;
    this.cache.set(meta.id, ep);
    this.bytes += episodeBytes(ep);
    for (const [id, old] of this.cache) {
      if (this.bytes <= this.budgetBytes || id === meta.id) break;
      this.cache.delete(id);
      this.bytes -= episodeBytes(old);
    }
    return ep;
  }
}
