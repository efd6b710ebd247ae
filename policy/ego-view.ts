/**
 * The policy's view from the kinematic ego (km methods, `--view ego`). A frame of the logged
 * future (or of the world model unrolled with the logged actions) is centred on the reference
 * pose p_ref, the expert's; the kinematic ego the policy drives is elsewhere, p_km. In the
 * simulator the policy always sees frames centred on its own car, so a policy that reads the
 * reference frames in training never sees how far it has fallen behind the car ahead or closed
 * in on the car behind: its only feedback on its own position is the speed in its state.
 *
 * This resamples a reference frame into the frame the kinematic ego would see (nearest pixel,
 * heading up): the output pixel at ego coordinates (x' ahead, y' right, m) shows the reference
 * frame's point
 *   f = u + cos x' - sin y',   s = w + sin x' + cos y'
 * where (u, w) is the ego's offset from the frame centre in the frame's axes and (cos, sin) its
 * heading relative to the reference (the inverse of costs-km.ts' mask transform). A point outside
 * the reference frame takes the value of its nearest edge pixel: the lane lines run on, where
 * empty pixels would draw the end of the road across the frame. (Measured on the small preset,
 * policy/README.md: either way the ego view drives worse than the reference view.) The offsets
 * are values: the resampled frames are data, as the frames themselves are (the gradient reaches
 * the actions through the costs' masks).
 */
import { IMAGE_H, IMAGE_PX_PER_M, IMAGE_W } from '../data/layout.js';

/** Per row of a batch: the ego's offset (m) and heading relative to the frame, as costs-km.ts' egoOffset. */
export interface FrameOffsets {
  u: Float32Array;
  w: Float32Array;
  cos: Float32Array;
  sin: Float32Array;
}

/**
 * Offsets of kinematic poses from reference poses, both as packed rows [x, y, dx, dy, v] (px of
 * the simulator, SCALE_PX_PER_M per metre) of `n` cars: the rear centres' difference in the
 * reference's axes (the centres' differs by half a length times the heading change, under a
 * pixel at these angles).
 */
export function frameOffsets(km: Float32Array, ref: Float32Array, n: number, pxPerM: number): FrameOffsets {
  const o: FrameOffsets = { u: new Float32Array(n), w: new Float32Array(n), cos: new Float32Array(n), sin: new Float32Array(n) };
  for (let b = 0; b < n; b++) {
    const [kx, ky, kdx, kdy] = [km[b * 5]!, km[b * 5 + 1]!, km[b * 5 + 2]!, km[b * 5 + 3]!];
    const [rx, ry, rdx, rdy] = [ref[b * 5]!, ref[b * 5 + 1]!, ref[b * 5 + 2]!, ref[b * 5 + 3]!];
    const ex = (kx - rx) / pxPerM;
    const ey = (ky - ry) / pxPerM;
    o.u[b] = ex * rdx + ey * rdy;
    o.w[b] = ey * rdx - ex * rdy;
    o.cos[b] = kdx * rdx + kdy * rdy;
    o.sin[b] = kdy * rdx - kdx * rdy;
  }
  return o;
}

/**
 * Frames [n, 117, 24, channels] (row-major, channels last) resampled to the kinematic ego's view;
 * rows whose offset is zero are copied.
 */
export function egoViewFrames(frames: Float32Array, n: number, channels: number, o: FrameOffsets): Float32Array {
  const H = IMAGE_H;
  const W = IMAGE_W;
  const px = IMAGE_PX_PER_M;
  const plane = H * W * channels;
  if (frames.length !== n * plane) throw new Error(`ego view: ${frames.length} values for ${n} frames of ${H} x ${W} x ${channels}`);
  const out = new Float32Array(frames.length);
  const rowC = (H - 1) / 2;
  const colC = (W - 1) / 2;
  for (let b = 0; b < n; b++) {
    const base = b * plane;
    const u = o.u[b]!;
    const w = o.w[b]!;
    const c = o.cos[b]!;
    const s = o.sin[b]!;
    if (u === 0 && w === 0 && s === 0) {
      out.set(frames.subarray(base, base + plane), base);
      continue;
    }
    for (let i = 0; i < H; i++) {
      const xe = (rowC - i) / px;
      for (let j = 0; j < W; j++) {
        const ye = (j - colC) / px;
        const f = u + c * xe - s * ye;
        const sr = w + s * xe + c * ye;
        // Beyond the reference frame: its nearest edge pixel (lane lines run on; a black band would be a road's end).
        const ri = Math.min(H - 1, Math.max(0, Math.round(rowC - f * px)));
        const rj = Math.min(W - 1, Math.max(0, Math.round(colC + sr * px)));
        const src = base + (ri * W + rj) * channels;
        const dst = base + (i * W + j) * channels;
        for (let k = 0; k < channels; k++) out[dst + k] = frames[src + k]!;
      }
    }
  }
  return out;
}
