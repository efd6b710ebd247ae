/**
 * A small least-recently-used cache of backend tensors derived from another tensor's data
 * (for example the per-phase filters of a transposed convolution), keyed by the source's dataId
 * object. tfjs data behind a dataId never changes (a Variable's assign gives it a new dataId),
 * so a hit is always valid. Keeping the derived tensors alive also keeps the wasm backend's
 * packed XNNPACK operators for them, which is where most of the saving comes from when the same
 * weights are applied many times (unrolled prediction, frozen models). Entries whose source has
 * been disposed (weights replaced by an optimizer step) are released on the next lookup, and at
 * most `capacity` entries are kept per backend, so stale weights do not pile up.
 */
import * as tf from '@tensorflow/tfjs';

type Info = tf.TensorInfo;

interface Entry {
  source: object;
  variant: string;
  infos: Array<Info | null>;
}

export class DerivedCache {
  private readonly entries: Entry[] = []; // most recent last

  constructor(
    private readonly backend: tf.KernelBackend,
    readonly capacity = 64,
  ) {}

  /**
   * The derived tensors of `source` for `variant`, computed by `make` on a miss. The returned
   * infos belong to the cache: do not dispose them.
   */
  get(source: object, variant: string, make: () => Array<Info | null>): Array<Info | null> {
    this.dropDead();
    const i = this.entries.findIndex((e) => e.source === source && e.variant === variant);
    if (i >= 0) {
      const [hit] = this.entries.splice(i, 1);
      this.entries.push(hit!);
      return hit!.infos;
    }
    const infos = make();
    this.entries.push({ source, variant, infos });
    while (this.entries.length > this.capacity) this.release(this.entries.shift()!);
    return infos;
  }

  /** Releases everything (e.g. before measuring memory). */
  clear(): void {
    for (const e of this.entries.splice(0)) this.release(e);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Releases entries whose source tensor has been disposed (its data is gone from the backend). */
  private dropDead(): void {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (this.backend.refCount(e.source) > 0) continue;
      this.entries.splice(i, 1);
      this.release(e);
    }
  }

  private release(e: Entry): void {
    for (const info of e.infos) if (info) this.backend.disposeData(info.dataId);
  }
}

const perBackend = new Map<tf.KernelBackend, DerivedCache>();

/** The cache for `backend` (one per backend instance). */
export function derivedCacheFor(backend: tf.KernelBackend): DerivedCache {
  let c = perBackend.get(backend);
  if (!c) perBackend.set(backend, (c = new DerivedCache(backend)));
  return c;
}

/** Empties every backend's cache. */
export function clearDerivedCaches(): void {
  for (const c of perBackend.values()) c.clear();
}
