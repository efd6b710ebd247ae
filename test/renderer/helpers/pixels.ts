/** Counting the viewer's car colours on a PNG screenshot (renderer/web/palette.ts classifiers). */
import { PNG } from 'pngjs';
import { isBlue, isYellow, PALETTE, rgbOf } from '../../../renderer/web/palette.js';

export interface ColourStats {
  yellow: number;
  blue: number;
  /** Centroid and bounding box of the blue pixels (image px), null without any. */
  blueCentre: { x: number; y: number } | null;
  blueBox: { x0: number; y0: number; x1: number; y1: number } | null;
  width: number;
  height: number;
  /**
   * Pixels whose colour lies between the road's and a yellow car's (20-80 % of the way, within a
   * few levels of that line): the partly covered pixels of smoothed car edges. Hard edges have none.
   */
  yellowEdge: number;
}

export function colourStats(png: Buffer): ColourStats {
  const img = PNG.sync.read(png);
  let yellow = 0;
  let blue = 0;
  let sx = 0;
  let sy = 0;
  let box: ColourStats['blueBox'] = null;
  let yellowEdge = 0;
  const road = rgbOf(PALETTE.road);
  const car = rgbOf(PALETTE.realCar);
  const d = [car[0] - road[0], car[1] - road[1], car[2] - road[2]];
  const dd = d[0] ** 2 + d[1] ** 2 + d[2] ** 2;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const i = (y * img.width + x) * 4;
      const r = img.data[i]!;
      const g = img.data[i + 1]!;
      const b = img.data[i + 2]!;
      const t = ((r - road[0]) * d[0] + (g - road[1]) * d[1] + (b - road[2]) * d[2]) / dd;
      if (t > 0.2 && t < 0.8) {
        const off = Math.hypot(r - road[0] - t * d[0], g - road[1] - t * d[1], b - road[2] - t * d[2]);
        if (off < 12) yellowEdge++;
      }
      if (isYellow(r, g, b)) yellow++;
      else if (isBlue(r, g, b)) {
        blue++;
        sx += x;
        sy += y;
        box = box ? { x0: Math.min(box.x0, x), y0: Math.min(box.y0, y), x1: Math.max(box.x1, x), y1: Math.max(box.y1, y) } : { x0: x, y0: y, x1: x, y1: y };
      }
    }
  }
  return { yellow, blue, blueCentre: blue > 0 ? { x: sx / blue, y: sy / blue } : null, blueBox: box, width: img.width, height: img.height, yellowEdge };
}
