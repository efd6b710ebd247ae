/**
 * State images for the energy-based modules: a sample of frames from an episode dataset (read
 * through data/dataset.ts), and random patches or row crops cut from them, scaled to [0, 1].
 * Images are uint8 [N, H, W, C] (C = 3 in the paper version: lane markings, other cars, ego).
 */
import { openDataset, type Split } from '../../data/dataset.js';
import { UserError } from '../../common/errors.js';
import { Rng } from '../../common/rng.js';
import { type Mat, mat } from './linalg.js';

export interface ImageSet {
  /** uint8 [count, height, width, channels], row-major. */
  data: Uint8Array;
  count: number;
  height: number;
  width: number;
  channels: number;
}

/**
 * Loads up to `maxImages` frames of one split (default 'train'), drawn uniformly without
 * replacement over all frames of that split's episodes with a seeded generator.
 */
export function loadDatasetImages(dir: string, opts: { split?: Split; maxImages?: number; seed?: number } = {}): ImageSet {
  const ds = openDataset(dir);
  const split = opts.split ?? 'train';
  const episodes = ds.episodes(split);
  if (episodes.length === 0) throw new UserError(`${dir}: dataset has no '${split}' episodes`);
  const [height, width, channels] = ds.manifest.imageShape;
  const frameSize = height * width * channels;
  const total = episodes.reduce((s, e) => s + e.length, 0);
  const want = Math.min(total, opts.maxImages ?? total);
  // Choose which global frame indices to keep, then read only the episodes that hold them.
  const rng = new Rng(opts.seed ?? 0);
  const order = rng.shuffle(Array.from({ length: total }, (_, i) => i)).slice(0, want).sort((a, b) => a - b);
  const data = new Uint8Array(want * frameSize);
  let k = 0;
  let start = 0;
  for (const meta of episodes) {
    const end = start + meta.length;
    if (k < order.length && order[k]! < end) {
      const ep = ds.load(meta);
      while (k < order.length && order[k]! < end) {
        const t = order[k]! - start;
        data.set(ep.images.subarray(t * frameSize, (t + 1) * frameSize), k * frameSize);
        k++;
      }
    }
    start = end;
  }
  return { data, count: want, height, width, channels };
}

/** Value of pixel (r, c, ch) of image n in [0, 1]. */
function px(img: ImageSet, n: number, r: number, c: number, ch: number): number {
  return img.data[((n * img.height + r) * img.width + c) * img.channels + ch]! / 255;
}

/**
 * `count` random size x size patches as rows of a matrix (layout (row, col, channel), values in
 * [0, 1]). Patches whose Euclidean norm is below `minNorm` (empty road) are redrawn, up to 50
 * tries each, so that the models see structure rather than mostly zeros.
 */
export function samplePatches(img: ImageSet, size: number, count: number, opts: { seed?: number; minNorm?: number } = {}): Mat {
  if (size > img.height || size > img.width) throw new UserError(`patch size ${size} exceeds the image size ${img.height}x${img.width}`);
  const rng = new Rng(opts.seed ?? 0);
  const d = size * size * img.channels;
  const P = mat(count, d);
  const minNorm = opts.minNorm ?? 0.5;
  for (let i = 0; i < count; i++) {
    for (let tries = 0; tries < 50; tries++) {
      const n = rng.int(img.count);
      const r0 = rng.int(img.height - size + 1);
      const c0 = rng.int(img.width - size + 1);
      let sq = 0;
      let j = 0;
      for (let r = 0; r < size; r++) {
        for (let c = 0; c < size; c++) {
          for (let ch = 0; ch < img.channels; ch++) {
            const v = px(img, n, r0 + r, c0 + c, ch);
            P.data[i * d + j++] = v;
            sq += v * v;
          }
        }
      }
      if (Math.sqrt(sq) >= minNorm) break;
    }
  }
  return P;
}

/**
 * `count` random crops of `rows` full-width rows as a float array [count, rows, width, C] in
 * [0, 1] (the convolutional models train on crops to keep steps cheap; they are fully
 * convolutional, so the learned filters apply to whole images).
 */
export function sampleRowCrops(img: ImageSet, rows: number, count: number, rng: Rng): Float32Array {
  if (rows > img.height) throw new UserError(`crop of ${rows} rows exceeds the image height ${img.height}`);
  const rowSize = img.width * img.channels;
  const out = new Float32Array(count * rows * rowSize);
  for (let i = 0; i < count; i++) {
    const n = rng.int(img.count);
    const r0 = rng.int(img.height - rows + 1);
    const src = img.data.subarray((n * img.height + r0) * rowSize, (n * img.height + r0 + rows) * rowSize);
    for (let j = 0; j < src.length; j++) out[i * rows * rowSize + j] = src[j]! / 255;
  }
  return out;
}
