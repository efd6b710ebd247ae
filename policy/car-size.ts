/**
 * The ego car's footprint in observation pixels (obs px = 4 simulator px), measured from its own
 * channel of a car-centred frame (the last channel: blue in the paper images, the 4th channel in
 * the off-road variant). The episode files do not store car sizes; the ego is drawn at its true
 * size and the antialiasing filter preserves mass along each axis, so
 *   length = sum over rows of the row's largest ego value,
 *   width  = sum over columns of the column's largest ego value
 * (values in [0, 1]) recover the rectangle's sides to within a fraction of a pixel. A frame with
 * no ego pixels gives the reference's average car, 14.3 ft x 6.4 ft.
 */
import { FOOT_M, IMAGE_H, IMAGE_W, SCALE_PX_PER_M } from '../data/layout.js';
import { OBS_SCALE, type CarSizes } from './costs.js';

export const DEFAULT_LENGTH_OBS_PX = 14.3 * FOOT_M * SCALE_PX_PER_M * OBS_SCALE;
export const DEFAULT_WIDTH_OBS_PX = 6.4 * FOOT_M * SCALE_PX_PER_M * OBS_SCALE;

/**
 * Ego sizes of each context in `ctxImages` [B, 117, 24, ncond * C] (pixel-major, then frame,
 * then channel; values in [0, 1]) from its last frame.
 */
export function egoSizesFromContext(ctxImages: Float32Array, batch: number, ncond: number, channels: number): CarSizes {
  const lengthObsPx = new Float32Array(batch);
  const widthObsPx = new Float32Array(batch);
  const per = IMAGE_H * IMAGE_W * ncond * channels;
  const colMax = new Float32Array(IMAGE_W);
  const off = (ncond - 1) * channels + channels - 1;
  for (let b = 0; b < batch; b++) {
    colMax.fill(0);
    let length = 0;
    for (let r = 0; r < IMAGE_H; r++) {
      let rowMax = 0;
      for (let c = 0; c < IMAGE_W; c++) {
        const v = ctxImages[b * per + (r * IMAGE_W + c) * ncond * channels + off]!;
        if (v > rowMax) rowMax = v;
        if (v > colMax[c]!) colMax[c] = v;
      }
      length += rowMax;
    }
    const width = colMax.reduce((s, v) => s + v, 0);
    const found = length >= 1 && width >= 0.5;
    lengthObsPx[b] = found ? length : DEFAULT_LENGTH_OBS_PX;
    widthObsPx[b] = found ? width : DEFAULT_WIDTH_OBS_PX;
  }
  return { lengthObsPx, widthObsPx };
}
