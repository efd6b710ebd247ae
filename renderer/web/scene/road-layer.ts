/**
 * The road as three.js meshes, from the RoadDrawing the Node side derives from sim/'s map: paved
 * polygons, lane lines (solid edges, 10 ft dashes every 40 ft inside, like US highway paint) as
 * thin quads merged into one geometry, and the record-start / arrival lines. Road y points down;
 * the scene is built at (x, -y).
 */
import { BufferAttribute, BufferGeometry, Group, Mesh, MeshBasicMaterial, Shape, ShapeGeometry } from 'three';
import type { RoadDrawing } from '../../protocol/types.js';
import { PALETTE } from '../palette.js';

const PX_PER_M = 24 / 3.7;
const DASH_PX = 3.05 * PX_PER_M;
const GAP_PX = 9.14 * PX_PER_M;
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

export function buildRoad(road: RoadDrawing): Group {
  const group = new Group();
  group.name = 'road';
  for (const s of road.surfaces) {
    const shape = new Shape();
    shape.moveTo(s.points[0]!, -s.points[1]!);
    for (let i = 2; i + 1 < s.points.length; i += 2) shape.lineTo(s.points[i]!, -s.points[i + 1]!);
    shape.closePath();
    const mesh = new Mesh(new ShapeGeometry(shape), new MeshBasicMaterial({ color: PALETTE.road }));
    mesh.name = `surface-${s.kind}`;
    group.add(mesh);
  }
  const lines: number[] = [];
  for (const m of road.markings) pushPolyline(lines, m.points, m.style === 'dashed', LINE_WIDTH_PX, 0.1);
  const marks = trianglesMesh(lines, PALETTE.marking);
  marks.name = 'markings';
  group.add(marks);
  if (road.zones) {
    const z: number[] = [];
    for (const x of [road.zones.recordStartXPx, road.zones.arrivalXPx]) pushSegment(z, x, 0, x, road.heightPx, 0.6, 0.15);
    const zones = trianglesMesh(z, PALETTE.zoneLine);
    zones.name = 'zones';
    group.add(zones);
  }
  return group;
}
