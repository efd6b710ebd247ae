/**
 * The page's store of episode frames, fetched from the Node side in chunks and kept so that
 * scrubbing back never asks again. One request at a time; prefetches ahead of the playhead.
 */
import type { FrameChunk, ViewerApi, ViewerFrame } from '../protocol/types.js';

export class FrameCache {
  private frames: Array<ViewerFrame | undefined> = [];
  private pending: Promise<void> | null = null;
  /** Episode length once the run has ended, else null. */
  total: number | null = null;
  ended: FrameChunk['ended'] = null;
  /** Last fetch error (shown by the page), cleared by a successful fetch. */
  error: string | null = null;

  constructor(
    private readonly api: Pick<ViewerApi, 'frames'>,
    readonly sessionId: string,
    readonly maxFrames: number,
    readonly chunkFrames = 64,
  ) {}

  get(index: number): ViewerFrame | undefined {
    return this.frames[index];
  }

  /** Frames 0 .. loaded - 1 are all present. */
  get loaded(): number {
    return this.loadedUntil(0);
  }

  /** The first frame at or after `from` that is not present. */
  loadedUntil(from: number): number {
    let n = from;
    while (this.frames[n]) n++;
    return n;
  }

  /** The number of frames that can exist: the episode length if known, else the scenario's bound. */
  get limit(): number {
    return this.total ?? this.maxFrames;
  }

  /** Makes sure frame `index` is (being) fetched; resolves when it is present or cannot be. */
  async ensure(index: number): Promise<ViewerFrame | undefined> {
    while (!this.frames[index] && index < this.limit && this.error === null) {
      if (this.pending) await this.pending;
      else await this.fetchFrom(this.firstMissingFrom(index));
    }
    return this.frames[index];
  }

  /** Starts a fetch when fewer than `aheadFrames` frames past `index` are present. */
  prefetch(index: number, aheadFrames = this.chunkFrames): void {
    if (this.pending || this.error !== null) return;
    const end = Math.min(index + aheadFrames, this.limit);
    for (let i = index; i < end; i++) {
      if (!this.frames[i]) {
        void this.fetchFrom(this.firstMissingFrom(i));
        return;
      }
    }
  }

  private firstMissingFrom(index: number): number {
    return this.loadedUntil(index);
  }

  private fetchFrom(from: number): Promise<void> {
    const p = (async () => {
      try {
        const chunk = await this.api.frames(this.sessionId, from, this.chunkFrames);
        chunk.frames.forEach((f, k) => (this.frames[chunk.from + k] = f));
        if (chunk.total !== null) this.total = chunk.total;
        if (chunk.ended) this.ended = chunk.ended;
        // An empty chunk before the end would loop forever: treat what we have as the end.
        if (chunk.frames.length === 0 && this.total === null) this.total = from;
        this.error = null;
      } catch (e) {
        this.error = (e as Error).message ?? String(e);
      } finally {
        this.pending = null;
      }
    })();
    this.pending = p;
    return p;
  }
}
