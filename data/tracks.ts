/**
 * The trajectory store: what `ppuu data import` and `ppuu data synth` write and what sim/
 * reads. One store holds the vehicles of one recording (or one synthetic slot), in metric units,
 * each vehicle's rows ordered by frame (10 Hz, one frame = 0.1 s).
 *
 * On disk (a folder, numpy-readable):
 *   tracks.json          TrackStoreManifest (JSON), including the per-vehicle index
 *   frame.npy            int32   [N]  frame ids
 *   local_x_m.npy        float32 [N]  lateral position of the FRONT CENTRE, m from the left road edge
 *   local_y_m.npy        float32 [N]  longitudinal position of the FRONT CENTRE, m from the entry edge
 *   speed_mps.npy        float32 [N]  speed, m/s (NaN where the source has none)
 *   acc_mps2.npy         float32 [N]  acceleration, m/s^2 (NaN where the source has none)
 *   lane.npy             int16   [N]  NGSIM lane id (I-80: 1 leftmost/HOV .. 6, 7 on-ramp, 9 shoulder; 0 unknown)
 * Rows of vehicle i are the slice [offset, offset + count) of every column.
 */

export type MapName = 'i80' | 'us101' | 'peachtree' | 'unknown';

/** One vehicle's trajectory, all columns of equal length, frames strictly increasing. */
export interface VehicleTrack {
  vehicleId: number;
  frames: Int32Array;
  localXM: Float32Array;
  localYM: Float32Array;
  speedMps: Float32Array;
  accMps2: Float32Array;
  lane: Int16Array;
  /** Vehicle length and width in metres (NaN where the source has none). */
  lengthM: number;
  widthM: number;
  /** NGSIM v_Class: 1 motorcycle, 2 auto, 3 truck (0 unknown). */
  vClass: number;
}

export interface TrackIndexEntry {
  vehicleId: number;
  offset: number;
  count: number;
  lengthM: number;
  widthM: number;
  vClass: number;
}

export interface TrackStoreManifest {
  format: 'ppuu-tracks';
  version: 1;
  map: MapName;
  /** I-80 time slot such as '0400-0415' where known (selects the black list), else null. */
  slot: string | null;
  /**
   * Source files (as given), their format, and the import summary (ImportSummary in
   * data/import/importer.ts: rowsRead, rowsKept, badRows, vehicles, frames, lanes, timeSpanS, ...;
   * stores written by `ppuu data synth` add `synthetic: { seed, slot, minutes }`).
   */
  sources: Array<{ file: string; format: string }>;
  summary: Record<string, unknown>;
  /** ppuu version that wrote the store. */
  writtenBy: string;
  vehicles: TrackIndexEntry[];
}

export interface TrackStore {
  manifest: TrackStoreManifest;
  vehicles: VehicleTrack[];
}
