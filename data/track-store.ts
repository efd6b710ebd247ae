/**
 * Reads and writes the TRACK STORE folder described in data/tracks.ts: tracks.json (manifest,
 * validated with ajv) plus one .npy file per column. Writing is atomic (the whole folder appears
 * at once or not at all); reading checks the manifest, the column files and each vehicle's
 * slice, and names the file and field of the first problem.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy, readNpy, type NpyArray } from '../common/npy.js';
import { writeFileSync } from 'node:fs';
import { writeDirAtomic } from '../common/atomic.js';
import { UserError } from '../common/errors.js';
import { parseJsonText, schemaValidator } from './json-schema.js';
import type { TrackStore, TrackStoreManifest, VehicleTrack } from './tracks.js';

export const MANIFEST_FILE = 'tracks.json';

/** Column files of a store: file name, the VehicleTrack field, and the typed-array class. */
const COLUMNS = [
  { file: 'frame.npy', field: 'frames', type: Int32Array },
  { file: 'local_x_m.npy', field: 'localXM', type: Float32Array },
  { file: 'local_y_m.npy', field: 'localYM', type: Float32Array },
  { file: 'speed_mps.npy', field: 'speedMps', type: Float32Array },
  { file: 'acc_mps2.npy', field: 'accMps2', type: Float32Array },
  { file: 'lane.npy', field: 'lane', type: Int16Array },
] as const;

type ColumnField = (typeof COLUMNS)[number]['field'];

// NaN is not JSON: sizes the source lacks are stored as null and read back as NaN.
const sizeSchema = { type: ['number', 'null'] };

const manifestSchema = {
  type: 'object',
  required: ['format', 'version', 'map', 'slot', 'sources', 'summary', 'writtenBy', 'vehicles'],
  additionalProperties: false,
  properties: {
    format: { const: 'ppuu-tracks' },
    version: { const: 1 },
    map: { enum: ['i80', 'us101', 'peachtree', 'unknown'] },
    slot: { type: ['string', 'null'] },
    sources: {
      type: 'array',
      items: {
        type: 'object',
        required: ['file', 'format'],
        additionalProperties: false,
        properties: { file: { type: 'string' }, format: { type: 'string' } },
      },
    },
    summary: { type: 'object' },
    writtenBy: { type: 'string' },
    vehicles: {
      type: 'array',
      items: {
        type: 'object',
        required: ['vehicleId', 'offset', 'count', 'lengthM', 'widthM', 'vClass'],
        additionalProperties: false,
        properties: {
          vehicleId: { type: 'integer' },
          offset: { type: 'integer', minimum: 0 },
          count: { type: 'integer', minimum: 1 },
          lengthM: sizeSchema,
          widthM: sizeSchema,
          vClass: { type: 'integer', minimum: 0 },
        },
      },
    },
  },
};

const validateManifest = schemaValidator<TrackStoreManifest>(manifestSchema);

function checkTrack(v: VehicleTrack, where: string): void {
  const n = v.frames.length;
  for (const c of COLUMNS) {
    if (v[c.field].length !== n) throw new Error(`${where}: column ${c.field} has ${v[c.field].length} rows, frames has ${n}`);
  }
  if (n === 0) throw new Error(`${where}: vehicle ${v.vehicleId} has no rows`);
  for (let i = 1; i < n; i++) {
    if (v.frames[i]! <= v.frames[i - 1]!) throw new Error(`${where}: vehicle ${v.vehicleId}: frames not strictly increasing at row ${i}`);
  }
}

/**
 * Writes `store` as a track-store folder at `dir` (replacing any folder there, atomically).
 * The manifest's `vehicles` index is rebuilt from `store.vehicles` (their order is kept).
 */
export async function writeTrackStore(dir: string, store: TrackStore): Promise<void> {
  let total = 0;
  for (const v of store.vehicles) {
    checkTrack(v, 'writeTrackStore');
    total += v.frames.length;
  }
  const cols: Record<ColumnField, NpyArray> = {
    frames: new Int32Array(total),
    localXM: new Float32Array(total),
    localYM: new Float32Array(total),
    speedMps: new Float32Array(total),
    accMps2: new Float32Array(total),
    lane: new Int16Array(total),
  };
  const index: TrackStoreManifest['vehicles'] = [];
  let offset = 0;
  for (const v of store.vehicles) {
    for (const c of COLUMNS) (cols[c.field] as Float32Array).set(v[c.field] as Float32Array, offset);
    index.push({ vehicleId: v.vehicleId, offset, count: v.frames.length, lengthM: v.lengthM, widthM: v.widthM, vClass: v.vClass });
    offset += v.frames.length;
  }
  const manifest: TrackStoreManifest = { ...store.manifest, vehicles: index };
  const json = JSON.stringify(manifest, (_k, val) => (typeof val === 'number' && !Number.isFinite(val) ? null : val), 1);
  await writeDirAtomic(dir, (tmp) => {
    for (const c of COLUMNS) writeFileSync(join(tmp, c.file), encodeNpy(cols[c.field], [total]));
    writeFileSync(join(tmp, MANIFEST_FILE), json + '\n');
  });
}

/** True when `dir` looks like a track store (a folder holding tracks.json). */
export function isTrackStore(dir: string): boolean {
  return existsSync(join(dir, MANIFEST_FILE)) && statSync(dir).isDirectory();
}

/** Reads and validates the manifest of the store at `dir` (without the column files). */
export function readTrackStoreManifest(dir: string): TrackStoreManifest {
  const file = join(dir, MANIFEST_FILE);
  if (!existsSync(file)) throw new UserError(`${dir}: not a track store (no ${MANIFEST_FILE})`);
  const manifest = validateManifest(parseJsonText(readFileSync(file, 'utf8'), file), file);
  for (const v of manifest.vehicles) {
    if (v.lengthM === null) v.lengthM = NaN;
    if (v.widthM === null) v.widthM = NaN;
  }
  return manifest;
}

/**
 * Reads the track store at `dir`. Vehicle columns are views into the shared column arrays
 * (no copies). Throws UserError naming the file and field of the first inconsistency.
 */
export function readTrackStore(dir: string): TrackStore {
  const manifest = readTrackStoreManifest(dir);
  const mfile = join(dir, MANIFEST_FILE);
  const cols = {} as Record<ColumnField, NpyArray>;
  let n = -1;
  for (const c of COLUMNS) {
    const path = join(dir, c.file);
    if (!existsSync(path)) throw new UserError(`${path}: missing column file of the track store`);
    const { data, shape } = readNpy(path);
    if (!(data instanceof c.type)) throw new UserError(`${path}: wrong dtype, expected ${c.type.name}`);
    if (shape.length !== 1) throw new UserError(`${path}: expected a 1-d array, got shape [${shape}]`);
    if (n >= 0 && data.length !== n) throw new UserError(`${path}: has ${data.length} rows, ${COLUMNS[0].file} has ${n}`);
    n = data.length;
    cols[c.field] = data;
  }
  const vehicles: VehicleTrack[] = manifest.vehicles.map((e, i) => {
    if (e.offset + e.count > n) {
      throw new UserError(`${mfile}: field vehicles.${i}.count: rows [${e.offset}, ${e.offset + e.count}) exceed the ${n} rows of the columns`);
    }
    const sl = <T extends NpyArray>(a: T): T => a.subarray(e.offset, e.offset + e.count) as T;
    const frames = sl(cols.frames as Int32Array);
    for (let k = 1; k < frames.length; k++) {
      if (frames[k]! <= frames[k - 1]!) {
        throw new UserError(`${join(dir, 'frame.npy')}: field vehicles.${i} (vehicle ${e.vehicleId}): frames not strictly increasing at row ${e.offset + k}`);
      }
    }
    return {
      vehicleId: e.vehicleId,
      frames,
      localXM: sl(cols.localXM as Float32Array),
      localYM: sl(cols.localYM as Float32Array),
      speedMps: sl(cols.speedMps as Float32Array),
      accMps2: sl(cols.accMps2 as Float32Array),
      lane: sl(cols.lane as Int16Array),
      lengthM: e.lengthM,
      widthM: e.widthM,
      vClass: e.vClass,
    };
  });
  return { manifest, vehicles };
}

/**
 * Refuses to replace `dir` unless it is absent, an empty folder, or a folder that `isOurs`
 * recognises (so that `--out .` or a typo never deletes unrelated files).
 */
export function assertReplaceableDir(dir: string, isOurs: (dir: string) => boolean, what: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new UserError(`${dir}: exists and is not a folder; choose another --out`);
  if (readdirSync(dir).length === 0 || isOurs(dir)) return;
  throw new UserError(`${dir}: exists and is not ${what}; choose a new folder for --out (it is replaced as a whole)`);
}
