/**
 * A small least-recently-used cache of backend tensors derived from another tensor's data
 * (for example the per-phase filters of a transposed convolution), keyed by the source's dataId
 * object. tfjs data behind a dataId never changes (a Variable's assign gives it a new dataId),
 * so a hit is always valid. Keeping the derived tensors alive also keeps the wasm backend's
 * packed XNNPACK operators for them, which is where most of the saving comes from when the same
 * weights are applied many times (unrolled prediction, frozen models). Evicted entries are
 * released at once; the cache holds at most `capacity` entries per backend.
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
