/**
 * The results table as a bar chart: success (%) and mean distance (m) per method, bars at the
 * mean over training seeds with error bars of one std. Drawn as SVG (results.svg) and rendered
 * to PNG (results.png) with resvg, whose text uses the system's fonts.
 */
import { Resvg } from '@resvg/resvg-js';
import type { ResultRow, ResultsTable } from './results.js';

const BAR_W = 46;
const GAP = 14;
const PANEL_H = 220;
const TOP = 40;
const LEFT = 56;
const LABEL_H = 110;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Colour of a row: built-in controllers grey, the paper's methods orange, the km methods blue. */
function colour(r: ResultRow): string {
  if (!r.learned) return '#9e9e9e';
  return r.name.includes('km') ? '#1f6fd1' : '#e08a1e';
}

function panel(rows: ResultRow[], y0: number, title: string, value: (r: ResultRow) => { mean: number; std: number }, max: number, unit: string): string[] {
  const out: string[] = [];
  const w = rows.length * (BAR_W + GAP);
  out.push(`<text x="${LEFT}" y="${y0 - 12}" font-size="15" font-weight="bold">${esc(title)}</text>`);
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    const y = y0 + PANEL_H - (PANEL_H * k) / 4;
    out.push(`<line x1="${LEFT}" x2="${LEFT + w}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${LEFT - 6}" y="${y + 4}" font-size="11" text-anchor="end">${v.toFixed(0)}${unit}</text>`);
  }
  rows.forEach((r, i) => {
    const { mean, std } = value(r);
    if (!Number.isFinite(mean)) return;
    const x = LEFT + GAP / 2 + i * (BAR_W + GAP);
    const h = (PANEL_H * Math.min(mean, max)) / max;
    out.push(`<rect x="${x}" y="${y0 + PANEL_H - h}" width="${BAR_W}" height="${h}" fill="${colour(r)}"/>`);
    out.push(`<text x="${x + BAR_W / 2}" y="${y0 + PANEL_H - h - 4}" font-size="11" text-anchor="middle">${mean.toFixed(0)}</text>`);
    if (std > 0) {
      const cx = x + BAR_W / 2;
      const ya = y0 + PANEL_H - (PANEL_H * Math.min(mean + std, max)) / max;
      const yb = y0 + PANEL_H - (PANEL_H * Math.max(mean - std, 0)) / max;
      out.push(`<line x1="${cx}" x2="${cx}" y1="${ya}" y2="${yb}" stroke="#222" stroke-width="1.5"/>`);
      out.push(`<line x1="${cx - 6}" x2="${cx + 6}" y1="${ya}" y2="${ya}" stroke="#222"/><line x1="${cx - 6}" x2="${cx + 6}" y1="${yb}" y2="${yb}" stroke="#222"/>`);
    }
  });
  return out;
}

export function resultsSvg(t: ResultsTable): string {
  const rows = t.rows;
  const w = LEFT + rows.length * (BAR_W + GAP) + 80;
  const maxDist = Math.max(50, ...rows.map((r) => r.distanceM.mean + r.distanceM.std).filter(Number.isFinite));
  const distTop = TOP + PANEL_H + 50;
  const h = distTop + PANEL_H + LABEL_H;
  const body = [
    `<rect width="${w}" height="${h}" fill="white"/>`,
    ...panel(rows, TOP, `success (%) - preset ${t.preset}`, (r) => r.successPct, 100, ''),
    ...panel(rows, distTop, 'mean distance (m)', (r) => r.distanceM, Math.ceil(maxDist / 50) * 50, ''),
  ];
  rows.forEach((r, i) => {
    const x = LEFT + GAP / 2 + i * (BAR_W + GAP) + BAR_W / 2;
    const y = distTop + PANEL_H + 12;
    body.push(`<text transform="translate(${x},${y}) rotate(40)" font-size="12">${esc(r.name)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="DejaVu Sans, Liberation Sans, Arial, sans-serif">\n${body.join('\n')}\n</svg>\n`;
}

/** PNG bytes of the chart. */
export function resultsPng(t: ResultsTable): Buffer {
  const r = new Resvg(resultsSvg(t), { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, background: 'white' });
  return Buffer.from(r.render().asPng());
}
