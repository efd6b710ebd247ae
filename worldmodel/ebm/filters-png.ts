/**
 * Draws the atoms of a model (dictionary columns, cluster centres, principal directions or conv
 * filters) as a grid of small images in one PNG, the picture people expect from sparse coding.
 * Each atom is scaled on its own: zero is mid-grey, the largest |value| is black or full colour.
 * Channels map to red, green, blue (state images: lane markings, other cars, ego); a fourth
 * channel is not drawn, one channel is drawn grey.
 */
import { PNG } from 'pngjs';

export interface FilterGridOptions {
  /** Screen pixels per atom pixel (default: tiles of about 32 px). */
  scale?: number;
  /** Atoms per grid row (default: about square). */
  columns?: number;
}

/** Renders the K columns of atoms [h * w * c, K] into PNG bytes; returns them with the grid size. */
export function renderFilterGrid(atoms: ArrayLike<number>, patch: readonly [number, number, number], K: number, opts: FilterGridOptions = {}): { png: Uint8Array; width: number; height: number; columns: number; rows: number } {
  const [h, w, c] = patch;
  const d = h * w * c;
  if (atoms.length !== d * K) throw new Error(`renderFilterGrid: ${atoms.length} values for ${K} atoms of ${h}x${w}x${c}`);
  const scale = opts.scale ?? Math.max(1, Math.round(32 / Math.max(h, w)));
  const columns = Math.max(1, Math.min(K, opts.columns ?? Math.ceil(Math.sqrt(K))));
  const rows = Math.max(1, Math.ceil(K / columns));
  const gap = Math.max(1, Math.round(scale / 4));
  const tileW = w * scale;
  const tileH = h * scale;
  const width = columns * (tileW + gap) + gap;
  const height = rows * (tileH + gap) + gap;
  const png = new PNG({ width, height });
  // Background (gaps) dark grey so that tiles stand apart.
  for (let i = 0; i < width * height; i++) png.data.set([40, 40, 40, 255], i * 4);
  for (let j = 0; j < K; j++) {
    let m = 0;
    for (let i = 0; i < d; i++) m = Math.max(m, Math.abs(atoms[i * K + j]!));
    const x0 = gap + (j % columns) * (tileW + gap);
    const y0 = gap + Math.floor(j / columns) * (tileH + gap);
    for (let r = 0; r < h; r++) {
      for (let col = 0; col < w; col++) {
        const rgb = [0, 0, 0];
        for (let ch = 0; ch < 3; ch++) {
          const src = c === 1 ? 0 : ch;
          const v = src < c ? atoms[((r * w + col) * c + src) * K + j]! : 0;
          rgb[ch] = Math.round(128 + (m > 0 ? (127 * v) / m : 0));
        }
        for (let dy = 0; dy < scale; dy++) {
          for (let dx = 0; dx < scale; dx++) {
            const p = ((y0 + r * scale + dy) * width + x0 + col * scale + dx) * 4;
            png.data[p] = rgb[0]!;
            png.data[p + 1] = rgb[1]!;
            png.data[p + 2] = rgb[2]!;
            png.data[p + 3] = 255;
          }
        }
      }
    }
  }
  return { png: new Uint8Array(PNG.sync.write(png)), width, height, columns, rows };
}
