/**
 * The small pictures beside the road: the bot's 117 x 24 observation (what the policy sees: red
 * lane lines, green other cars, blue the bot itself; front at the top) and, when a world model
 * is loaded, its imagined future frames with a bar chart of their spread (uncertainty) per step.
 */
import type { ImaginedFrames } from '../protocol/types.js';

const scratch = typeof document !== 'undefined' ? document.createElement('canvas') : null;

/**
 * Draws an [h, w, c] uint8 image (c = 1, 3 or 4; channels beyond RGB are ignored) on a canvas,
 * magnified `scale` times with square pixels (drawn at that size rather than CSS-scaled, which
 * some compositors render wrongly).
 */
export function drawImage(canvas: HTMLCanvasElement, data: Uint8Array, h: number, w: number, c: number, scale = 2): void {
  if (!scratch) return;
  if (canvas.width !== w * scale) canvas.width = w * scale;
  if (canvas.height !== h * scale) canvas.height = h * scale;
  scratch.width = w;
  scratch.height = h;
  const sctx = scratch.getContext('2d');
  const ctx = canvas.getContext('2d');
  if (!ctx || !sctx) return;
  const img = sctx.createImageData(w, h);
  const px = img.data;
  for (let i = 0, n = h * w; i < n; i++) {
    const s = i * c;
    px[i * 4] = data[s]!;
    px[i * 4 + 1] = c > 1 ? data[s + 1]! : data[s]!;
    px[i * 4 + 2] = c > 2 ? data[s + 2]! : data[s]!;
    px[i * 4 + 3] = 255;
  }
  sctx.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(scratch, 0, 0, w * scale, h * scale);
}

export class ObservationInset {
  constructor(
    private readonly figure: HTMLElement,
    private readonly canvas: HTMLCanvasElement,
  ) {}

  show(obs: Uint8Array | null, shape: { heightPx: number; widthPx: number; channels: number } | null, visible: boolean): void {
    this.figure.hidden = !visible || !obs || !shape;
    if (this.figure.hidden || !obs || !shape) return;
    drawImage(this.canvas, obs, shape.heightPx, shape.widthPx, shape.channels);
  }
}

export class ImaginedInset {
  private canvases: HTMLCanvasElement[] = [];

  constructor(
    private readonly figure: HTMLElement,
    private readonly strip: HTMLElement,
    private readonly spreadCanvas: HTMLCanvasElement,
  ) {}

  /** Shows `im`, imagined from episode frame `fromFrame`; hides the inset when there is nothing. */
  show(im: ImaginedFrames | null, visible: boolean, fromFrame = 0): void {
    this.figure.hidden = !visible || !im;
    if (this.figure.hidden || !im) return;
    const caption = this.figure.querySelector('figcaption');
    if (caption) caption.textContent = `imagined from frame ${fromFrame}: ${im.steps} steps, spread per step`;
    // Show at most 8 steps, evenly spaced over the horizon.
    const shown = Math.min(8, im.steps);
    while (this.canvases.length < shown) {
      const c = document.createElement('canvas');
      this.strip.appendChild(c);
      this.canvases.push(c);
    }
    this.canvases.forEach((c, k) => (c.hidden = k >= shown));
    const size = im.heightPx * im.widthPx * im.channels;
    for (let k = 0; k < shown; k++) {
      const step = Math.round((k * (im.steps - 1)) / Math.max(1, shown - 1));
      drawImage(this.canvases[k]!, im.frames.subarray(step * size, (step + 1) * size), im.heightPx, im.widthPx, im.channels, 1);
      this.canvases[k]!.title = `t + ${step + 1}`;
    }
    const ctx = this.spreadCanvas.getContext('2d');
    if (!ctx) return;
    const { width: w, height: h } = this.spreadCanvas;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, w, h);
    const max = Math.max(1e-9, ...im.spread);
    const bw = w / im.steps;
    ctx.fillStyle = '#ff8c3a';
    im.spread.forEach((v, k) => {
      const bh = (v / max) * (h - 2);
      ctx.fillRect(k * bw + 1, h - bh, Math.max(1, bw - 2), bh);
    });
  }
}
