/**
 * Turns sim/'s road map into the RoadDrawing the page draws: the paved area between the top
 * edge (y = topPx) and the lower edge polyline (which takes in the on-ramp), every map marking
 * as a line (lane boundaries inside the main road dashed, road edges and ramp lines solid), and
 * the record-start / arrival lines of the map's validity window. Numbers come from the map only.
 */
import { lowerEdgeY } from '../../sim/map.js';
import type { RoadMap } from '../../sim/map.js';
import type { RoadDrawing } from '../protocol/types.js';
import { LANE_W_PX } from '../../data/layout.js';

export function roadDrawing(map: RoadMap): RoadDrawing {
  const W = map.widthPx;
  // Paved area: along the top edge left to right, back along the lower edge right to left.
  const lower: number[] = [];
  const edge = map.lowerEdge.filter(([x]) => x > 0 && x < W);
  const yAt = (x: number) => lowerEdgeY(map, x);
  lower.push(W, yAt(W));
  for (let i = edge.length - 1; i >= 0; i--) lower.push(edge[i]![0], edge[i]![1]);
  lower.push(0, yAt(0));
  const surface = [0, map.topPx, W, map.topPx, ...lower];

  const innerTop = map.topPx;
  const innerBottom = map.topPx + map.mainLanes * LANE_W_PX;
  const clip = (v: number) => Math.max(0, Math.min(W, v));
  const markings = map.markings.map(([x0, y0, x1, y1]) => {
    const horizontal = Math.abs(y1 - y0) < 1e-9;
    const inner = horizontal && y0 > innerTop + 1e-6 && y0 < innerBottom - 1e-6;
    // Clip to the screen along the segment (markings run past the ends for the rasteriser).
    const t0 = x1 === x0 ? 0 : (clip(x0) - x0) / (x1 - x0);
    const t1 = x1 === x0 ? 1 : (clip(x1) - x0) / (x1 - x0);
    const pts = [x0 + (x1 - x0) * t0, y0 + (y1 - y0) * t0, x0 + (x1 - x0) * t1, y0 + (y1 - y0) * t1];
    return { style: inner ? ('dashed' as const) : ('solid' as const), points: pts };
  });
  return {
    widthPx: W,
    heightPx: map.heightPx,
    surfaces: [{ kind: 'road', points: surface }],
    markings,
    zones: { recordStartXPx: map.validMinXPx, arrivalXPx: map.validMaxXPx },
  };
}
