/**
 * Looks at the start of a file before reading it: refuses empty and binary files with one
 * clear line, and guesses the format (raw NGSIM txt, NGSIM portal CSV, or another CSV that
 * needs a mapping) from the first line.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { UserError } from '../../common/errors.js';

export type ImportFormat = 'ngsim-txt' | 'ngsim-csv' | 'mapped';
export const IMPORT_FORMATS: readonly ImportFormat[] = ['ngsim-txt', 'ngsim-csv', 'mapped'];

export interface Sniffed {
  firstLine: string;
  sizeBytes: number;
}

/** Reads the first 64 KiB; throws UserError for a missing, empty or binary file. */
export function sniff(file: string): Sniffed {
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new UserError(`${file}: is a folder, not a trajectory file`);
    size = st.size;
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`${file}: cannot read file (does it exist?)`);
  }
  const buf = Buffer.alloc(Math.min(size, 65536));
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, 0);
  } finally {
    closeSync(fd);
  }
  let odd = 0;
  for (const c of buf) {
    if (c === 0) throw new UserError(`${file}: binary file (NUL bytes), expected a text trajectory file`);
    if (c < 9 || (c > 13 && c < 32) || c === 127) odd++;
  }
  if (odd > buf.length * 0.01) throw new UserError(`${file}: binary file (control bytes), expected a text trajectory file`);
  const text = buf.toString('utf8').replace(/^\uFEFF/, '');
  if (text.trim() === '') throw new UserError(`${file}: empty file, no trajectory rows`);
  const firstLine = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  return { firstLine, sizeBytes: size };
}

/** Guesses the format from the first line (null when nothing fits). */
export function detectFormat(firstLine: string): ImportFormat | null {
  const tokens = firstLine.trim().split(/\s+/);
  if (tokens.length >= 2 && !firstLine.includes(',') && tokens.every((t) => /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t))) return 'ngsim-txt';
  const header = firstLine.toLowerCase();
  const names = new Set(header.split(',').map((h) => h.trim().replace(/^"|"$/g, '')));
  // The portal export's own columns (other CSVs may share a few names but not their units).
  if (['vehicle_id', 'frame_id', 'total_frames', 'global_time', 'local_x', 'local_y', 'v_vel', 'lane_id'].every((c) => names.has(c))) {
    return 'ngsim-csv';
  }
  return null;
}
