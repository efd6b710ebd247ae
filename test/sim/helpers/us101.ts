/**
 * Test helper: reads the shared US-101 sample tracks (../shared/data/ngsim/us101-tracks/*.csv,
 * metric, one vehicle per file) into VehicleTrack objects without the data area's importer.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { VehicleTrack } from '../../../data/tracks.js';

export const NGSIM_DIR = resolve(process.cwd(), '../shared/data/ngsim');
export const US101_DIR = join(NGSIM_DIR, 'us101-tracks');

export function us101Available(): boolean {
  return existsSync(US101_DIR);
}

export function readUs101Track(file: string): VehicleTrack {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  const head = lines[0]!.split(',');
  const col = (name: string) => head.indexOf(name);
  const [iId, iF, iX, iY, iV, iA] = ['Vehicle_ID', 'Frame_ID', 'local_x(m)', 'local_y(m)', 'v_Vel(m)', 'v_Acc(m)'].map(col) as number[];
  const rows = lines.slice(1).map((l) => l.split(','));
  const n = rows.length;
  const t: VehicleTrack = {
    vehicleId: Number(rows[0]![iId!]),
    frames: new Int32Array(n),
    localXM: new Float32Array(n),
    localYM: new Float32Array(n),
    speedMps: new Float32Array(n),
    accMps2: new Float32Array(n),
    lane: new Int16Array(n),
    lengthM: NaN,
    widthM: NaN,
    vClass: 0,
  };
  rows.forEach((r, i) => {
    t.frames[i] = Number(r[iF!]);
    t.localXM[i] = Number(r[iX!]);
    t.localYM[i] = Number(r[iY!]);
    t.speedMps[i] = Number(r[iV!]);
    t.accMps2[i] = Number(r[iA!]);
  });
  return t;
}

export function readUs101Tracks(limit = Infinity): VehicleTrack[] {
  return readdirSync(US101_DIR)
    .filter((f) => f.endsWith('.csv'))
    .sort()
    .slice(0, limit)
    .map((f) => readUs101Track(join(US101_DIR, f)));
}
