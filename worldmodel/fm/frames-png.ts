/**
 * A picture of predictions: for each window two rows of frames, the real future on top and the
 * model's prediction below, one column per predicted step (0.1 s apart), pixels scaled up.
 * Channels: R lanes, G other cars, B ego (a 4th channel, where present, is merged into B).
 */
import { PNG } from 'pngjs';
import { writeFileAtomic } from '../../common/atomic.js';
import { IMAGE_H, IMAGE_W } from '../../data/layout.js';

export interface FrameRows {
  /** Per window: real and predicted frames, each [steps][H * W * C] in [0, 1]. */
  real: Float32Array[][];
  predicted: Float32Array[][];
  channels: number;
}

const GAP = 2;

export function framesPng(rows: FrameRows, scale = 2): Uint8Array {
  const windows = rows.real.length;
  const steps = Math.max(0, ...rows.real.map((r) => r.length));
  const cellW = IMAGE_W * scale;
  const cellH = IMAGE_H * scale;
  const width = Math.max(1, steps * (cellW + GAP) + GAP);
  const height = Math.max(1, windows * (2 * cellH + 3 * GAP) + GAP);
  const png = new PNG({ width, height });
  png.data.fill(0);
  for (let i = 0; i < width * height; i++) {
    png.data[i * 4] = png.data[i * 4 + 1] = png.data[i * 4 + 2] = 60;
    png.data[i * 4 + 3] = 255;
  }
  const C = rows.channels;
  const draw = (frame: Float32Array, x0: number, y0: number) => {
    for (let y = 0; y < cellH; y++) {
      for (let x = 0; x < cellW; x++) {
        const p = (Math.floor(y / scale) * IMAGE_W + Math.floor(x / scale)) * C;
        const o = ((y0 + y) * width + x0 + x) * 4;
        const b = C > 3 ? Math.max(frame[p + 2]!, frame[p + 3]!) : C > 2 ? frame[p + 2]! : 0;
        png.data[o] = Math.round(255 * clamp01(frame[p]!));
        png.data[o + 1] = Math.round(255 * clamp01(C > 1 ? frame[p + 1]! : frame[p]!));
        png.data[o + 2] = Math.round(255 * clamp01(b));
      }
    }
  };
  for (let w = 0; w < windows; w++) {
    const y0 = GAP + w * (2 * cellH + 3 * GAP);
    rows.real[w]!.forEach((f, t) => draw(f, GAP + t * (cellW + GAP), y0));
    rows.predicted[w]!.forEach((f, t) => draw(f, GAP + t * (cellW + GAP), y0 + cellH + GAP));
  }
  return PNG.sync.write(png);
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

export function writeFramesPng(path: string, rows: FrameRows, scale = 2): void {
  writeFileAtomic(path, framesPng(rows, scale));
}
