/**
 * The small pictures beside the road: the bot's 117 x 24 observation (what the policy sees: red
 * lane lines, green other cars, blue the bot itself; front at the top) and, when a world model
 * is loaded, its imagined future frames with a bar chart of their spread (uncertainty) per step.
 */
import { IMAGE_H, IMAGE_W } from '../../data/layout.js';
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

  /** Hidden by visibility, not display, so that the panel keeps its layout. */
  show(obs: Uint8Array | null, shape: { heightPx: number; widthPx: number; channels: number } | null, visible: boolean): void {
    const on = visible && !!obs && !!shape;
    this.figure.style.visibility = on ? 'visible' : 'hidden';
    if (!on) return;
    drawImage(this.canvas, obs!, shape!.heightPx, shape!.widthPx, shape!.channels);
  }
}

/** The largest of 1, 2, 5 times a power of ten that is at least v (the spread chart's scale). */
export function niceCeil(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v * (1 - 1e-9)) return m * p;
  return 10 * p;
}

/** Slots of the imagined strip: evenly spaced steps of the horizon. */
export const IMAGINED_SLOTS = 8;

/**
 * The world model's imagined frames (8 slots spread over the horizon, each labelled t+k) and a bar
 * chart of the spread per step with its scale (the axis is labelled in the spread's own unit, the
 * mean per-pixel variance across dropout samples of images in [0, 1]). Every element exists from
 * the start at its final size; new imaginations only repaint, so the page layout never moves.
 */
export class ImaginedInset {
  private readonly canvases: HTMLCanvasElement[] = [];
  private readonly labels: HTMLElement[] = [];
  private readonly caption: HTMLElement | null;

  constructor(
    private readonly figure: HTMLElement,
    strip: HTMLElement,
    private readonly spreadCanvas: HTMLCanvasElement,
  ) {
    this.caption = figure.querySelector('figcaption');
    for (let k = 0; k < IMAGINED_SLOTS; k++) {
      const cell = document.createElement('div');
      const c = document.createElement('canvas');
      c.width = IMAGE_W;
      c.height = IMAGE_H;
      const label = document.createElement('div');
      label.className = 'step';
      label.textContent = '\u00a0';
      cell.append(c, label);
      strip.appendChild(cell);
      this.canvases.push(c);
      this.labels.push(label);
    }
    this.clear('no world model in this scenario');
  }

  /** Blank slots and an empty chart, with `why` as the caption. */
  clear(why: string): void {
    if (this.caption) this.caption.textContent = why;
    for (const c of this.canvases) {
      const ctx = c.getContext('2d');
      if (ctx) {
        ctx.fillStyle = '#111';
        ctx.fillRect(0, 0, c.width, c.height);
      }
    }
    for (const l of this.labels) l.textContent = '\u00a0';
    this.drawSpread(null);
  }

  /** Shows `im`, imagined from episode frame `fromFrame`; with nothing to show, `why` is the caption. */
  show(im: ImaginedFrames | null, visible: boolean, fromFrame = 0, why = 'no imagination for this frame'): void {
    this.figure.style.visibility = visible ? 'visible' : 'hidden';
    if (!im) return this.clear(why);
    if (this.caption) this.caption.textContent = `imagined from frame ${fromFrame}, ${im.steps} steps`;
    const shown = Math.min(IMAGINED_SLOTS, im.steps);
    const size = im.heightPx * im.widthPx * im.channels;
    for (let k = 0; k < IMAGINED_SLOTS; k++) {
      if (k >= shown) {
        const ctx = this.canvases[k]!.getContext('2d');
        if (ctx) ((ctx.fillStyle = '#111'), ctx.fillRect(0, 0, IMAGE_W, IMAGE_H));
        this.labels[k]!.textContent = '\u00a0';
        continue;
      }
      const step = Math.round((k * (im.steps - 1)) / Math.max(1, shown - 1));
      drawImage(this.canvases[k]!, im.frames.subarray(step * size, (step + 1) * size), im.heightPx, im.widthPx, im.channels, 1);
      this.labels[k]!.textContent = `t+${step + 1}`;
    }
    this.drawSpread(im.spread);
  }

  /** The spread per step as bars over a labelled axis (0 to a round maximum). */
  private drawSpread(spread: Float32Array | null): void {
    const ctx = this.spreadCanvas.getContext('2d');
    if (!ctx) return;
    const { width: w, height: h } = this.spreadCanvas;
    ctx.fillStyle = '#111';
    ctx.fillRect(0, 0, w, h);
    const left = 44;
    const top = 14;
    const bottom = h - 14;
    const max = spread && spread.length > 0 ? niceCeil(Math.max(...spread)) : 1;
    ctx.font = '10px system-ui, sans-serif';
    ctx.fillStyle = '#999';
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    ctx.fillText(spread ? max.toExponential(0) : '-', left - 4, top);
    ctx.fillText('0', left - 4, bottom);
    ctx.strokeStyle = '#555';
    ctx.beginPath();
    ctx.moveTo(left + 0.5, top);
    ctx.lineTo(left + 0.5, bottom + 0.5);
    ctx.lineTo(w, bottom + 0.5);
    ctx.moveTo(left - 2, top + 0.5);
    ctx.lineTo(w, top + 0.5);
    ctx.stroke();
    ctx.textAlign = 'left';
    ctx.textBaseline = 'top';
    ctx.fillText('spread across dropout samples', 2, 0);
    if (!spread || spread.length === 0) return;
    ctx.textBaseline = 'bottom';
    ctx.fillText('t+1', left + 1, h);
    ctx.textAlign = 'right';
    ctx.fillText(`t+${spread.length}`, w - 1, h);
    const bw = (w - left - 2) / spread.length;
    ctx.fillStyle = '#ff8c3a';
    spread.forEach((v, k) => {
      const bh = (v / max) * (bottom - top);
      ctx.fillRect(left + 2 + k * bw + 1, bottom - bh, Math.max(1, bw - 2), bh);
    });
  }
}
