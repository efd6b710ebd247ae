/**
 * The road as three.js meshes, from the RoadDrawing the Node side derives from sim/'s map: the
 * verge around the paved polygons, lane lines (solid edges, 10 ft dashes every 40 ft inside, like
 * US highway paint) as thin quads merged into one geometry, and the record-start / arrival lines
 * with their names written on the verge above the road.
 * The pavement itself is the scene's background colour: drawing the verge (a third of a
 * follow-camera view) instead of the pavement (two thirds) nearly halves what a software
 * rasteriser has to fill. Road y points down; the scene is built at (x, -y).
 */
import { BufferAttribute, BufferGeometry, CanvasTexture, Group, Mesh, MeshBasicMaterial, Path, PlaneGeometry, Shape, ShapeGeometry, SRGBColorSpace } from 'three';
import { FOOT_M, SCALE_PX_PER_M } from '../../../data/layout.js';
import type { RoadDrawing } from '../../protocol/types.js';
import { PALETTE } from '../palette.js';

const DASH_PX = 10 * FOOT_M * SCALE_PX_PER_M;
const GAP_PX = 30 * FOOT_M * SCALE_PX_PER_M;
const LINE_WIDTH_PX = 0.8;

/** Appends a quad (two triangles) of width w along the segment (x0,y0)-(x1,y1). */
function pushSegment(out: number[], x0: number, y0: number, x1: number, y1: number, w: number, z: number): void {
  const len = Math.hypot(x1 - x0, y1 - y0);
  if (len < 1e-6) return;
  const nx = (-(y1 - y0) / len) * (w / 2);
  const ny = ((x1 - x0) / len) * (w / 2);
  const a = [x0 + nx, -(y0 + ny)];
  const b = [x1 + nx, -(y1 + ny)];
  const c = [x1 - nx, -(y1 - ny)];
  const d = [x0 - nx, -(y0 - ny)];
  out.push(a[0]!, a[1]!, z, b[0]!, b[1]!, z, c[0]!, c[1]!, z, a[0]!, a[1]!, z, c[0]!, c[1]!, z, d[0]!, d[1]!, z);
}

function pushPolyline(out: number[], pts: number[], dashed: boolean, w: number, z: number): void {
  const period = DASH_PX + GAP_PX;
  let along = 0; // distance from the polyline's start, so dashes continue across its corners
  for (let i = 0; i + 3 < pts.length; i += 2) {
    const [x0, y0, x1, y1] = [pts[i]!, pts[i + 1]!, pts[i + 2]!, pts[i + 3]!];
    const len = Math.hypot(x1 - x0, y1 - y0);
    if (!dashed) pushSegment(out, x0, y0, x1, y1, w, z);
    else {
      // Dashes start at multiples of the period along the whole polyline.
      for (let d = Math.ceil(along / period) * period - period; d < along + len; d += period) {
        const a = Math.max(0, d - along);
        const b = Math.min(len, d + DASH_PX - along);
        if (b <= a) continue;
        pushSegment(out, x0 + ((x1 - x0) * a) / len, y0 + ((y1 - y0) * a) / len, x0 + ((x1 - x0) * b) / len, y0 + ((y1 - y0) * b) / len, w, z);
      }
    }
    along += len;
  }
}

function trianglesMesh(positions: number[], color: number): Mesh {
  const g = new BufferGeometry();
  g.setAttribute('position', new BufferAttribute(new Float32Array(positions), 3));
  return new Mesh(g, new MeshBasicMaterial({ color }));
}

/** How far the verge reaches beyond the road on every side, px (past the widest free-camera view). */
const VERGE_REACH_PX = 40_000;

export function buildRoad(road: RoadDrawing): Group {
  const group = new Group();
  group.name = 'road';
  // A large rectangle with the paved polygons as holes.
  const R = VERGE_REACH_PX;
  const verge = new Shape();
  verge.moveTo(-R, R);
  verge.lineTo(road.widthPx + R, R);
  verge.lineTo(road.widthPx + R, -(road.heightPx + R));
  verge.lineTo(-R, -(road.heightPx + R));
  verge.closePath();
  for (const s of road.surfaces) {
    const hole = new Path();
    hole.moveTo(s.points[0]!, -s.points[1]!);
    for (let i = 2; i + 1 < s.points.length; i += 2) hole.lineTo(s.points[i]!, -s.points[i + 1]!);
    hole.closePath();
    verge.holes.push(hole);
  }
  const vergeMesh = new Mesh(new ShapeGeometry(verge), new MeshBasicMaterial({ color: PALETTE.verge }));
  vergeMesh.name = 'verge';
  group.add(vergeMesh);
  const lines: number[] = [];
  for (const m of road.markings) pushPolyline(lines, m.points, m.style === 'dashed', LINE_WIDTH_PX, 0.1);
  const marks = trianglesMesh(lines, PALETTE.marking);
  marks.name = 'markings';
  group.add(marks);
  if (road.zones) {
    const z: number[] = [];
    const topY = Math.min(...road.surfaces.flatMap((s) => s.points.filter((_, i) => i % 2 === 1)));
    const lines = [
      { x: road.zones.recordStartXPx, text: 'recording starts \u2192' },
      { x: road.zones.arrivalXPx, text: 'arrival line \u2192' },
    ];
    for (const { x, text } of lines) {
      pushSegment(z, x, 0, x, road.heightPx, 0.6, 0.15);
      if (typeof document !== 'undefined' && topY > 14) group.add(zoneLabel(text, x, topY));
    }
    const zones = trianglesMesh(z, PALETTE.zoneLine);
    zones.name = 'zones';
    group.add(zones);
  }
  return group;
}

/** A line's name, written on the verge above the road just left of the line (x, topY in road px). */
function zoneLabel(text: string, x: number, topY: number): Mesh {
  const canvas = document.createElement('canvas');
  const scale = 4; // texture px per road px, so that the text stays sharp when zoomed in
  const hPx = 11;
  const ctx = canvas.getContext('2d')!;
  ctx.font = `${hPx * scale * 0.8}px system-ui, sans-serif`;
  const wPx = Math.ceil(ctx.measureText(text).width / scale) + 4;
  canvas.width = wPx * scale;
  canvas.height = hPx * scale;
  ctx.font = `${hPx * scale * 0.8}px system-ui, sans-serif`;
  ctx.fillStyle = '#c8ccd2';
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  ctx.fillText(text, canvas.width - 2 * scale, canvas.height / 2);
  const tex = new CanvasTexture(canvas);
  tex.colorSpace = SRGBColorSpace;
  const mesh = new Mesh(new PlaneGeometry(wPx, hPx), new MeshBasicMaterial({ map: tex, transparent: true, depthWrite: false }));
  mesh.position.set(x - wPx / 2 - 1, -(topY - hPx / 2 - 3), 0.2);
  mesh.name = 'zone-label';
  return mesh;
}
