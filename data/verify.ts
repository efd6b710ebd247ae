/**
 * `ppuu data verify DATASET`: reads every file of an episode dataset and checks it against the
 * manifest: each episode's six .npy files exist, have the expected dtype and shape (length T
 * from the manifest, the image shape, the cost count), hold exactly the bytes their header
 * announces (not truncated, nothing after), have finite float values and, where the manifest
 * records them (datasets dumped since the digests exist), the same sha256.
 *
 * The result is recorded in DATASET/verify.json with the manifest's digest, so that `data stats`
 * can say whether the dataset as it is now has been verified.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic.js';
import { decodeNpy } from '../common/npy.js';
import { EPISODE_FILES, episodeDir, openDataset } from './dataset.js';
import { episodeShapes, IMAGE_H, IMAGE_W, shapeSize } from './layout.js';

export const VERIFY_FILE = 'verify.json';

export interface VerifyReport {
  dataset: string;
  episodes: number;
  files: number;
  bytes: number;
  /** Files whose sha256 was compared with the manifest's (the rest predate the digests). */
  checksummed: number;
  /** One line per problem: "FILE: what is wrong". */
  problems: string[];
  ok: boolean;
  seconds: number;
}

export interface VerifyRecord {
  format: 'ppuu-verify';
  version: 1;
  /** sha256 of manifest.json when verified: a later dump that changes it makes the record stale. */
  manifestSha256: string;
  ok: boolean;
  problems: number;
  verifiedAt: string;
}

const DTYPE: Record<(typeof EPISODE_FILES)[number], string> = {
  images: '|u1', states: '<f4', masks: '|u1', actions: '<f4', costs: '<f4', frames: '<i4',
};
const BYTES: Record<string, number> = { '|u1': 1, '<f4': 4, '<i4': 4 };

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The .npy header's dtype, shape and data offset (null: not a .npy header). */
function npyHeader(bytes: Uint8Array): { descr: string; shape: number[]; offset: number } | null {
  if (bytes.length < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') return null;
  const major = bytes[6]!;
  if (major !== 1 && bytes.length < 12) return null;
  const len = major === 1 ? bytes[8]! | (bytes[9]! << 8) : new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + len));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shape === undefined) return null;
  return { descr, shape: shape.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number), offset: start + len };
}

export function verifyDataset(dir: string, opts: { onProgress?: (done: number, total: number) => void; maxProblems?: number } = {}): VerifyReport {
  const t0 = performance.now();
  const ds = openDataset(dir);
  const m = ds.manifest;
  const [H, W, C] = m.imageShape;
  const K = m.costNames.length;
  const problems: string[] = [];
  const max = opts.maxProblems ?? 1000;
  const problem = (line: string) => {
    if (problems.length < max) problems.push(line);
  };
  if (H !== IMAGE_H || W !== IMAGE_W) problem(`${join(dir, 'manifest.json')}: field imageShape: [${m.imageShape}], expected [${IMAGE_H}, ${IMAGE_W}, C]`);
  let files = 0;
  let bytesRead = 0;
  let checksummed = 0;
  m.episodes.forEach((e, i) => {
    const T = e.length;
    // The files against the manifest's image shape (a wrong one is reported above).
    const want = { ...episodeShapes(T, C, K), images: [T, H, W, C] };
    for (const name of EPISODE_FILES) {
      const file = join(episodeDir(dir, e.id), `${name}.npy`);
      if (!existsSync(file)) {
        problem(`${file}: missing`);
        continue;
      }
      const bytes = readFileSync(file);
      files++;
      bytesRead += bytes.length;
      const digest = e.sha256?.[name];
      if (digest !== undefined) {
        checksummed++;
        if (sha256(bytes) !== digest) problem(`${file}: sha256 differs from the manifest's (the file changed after the dump)`);
      }
      const h = npyHeader(bytes);
      if (!h) {
        problem(`${file}: not a .npy file`);
        continue;
      }
      if (h.descr !== DTYPE[name]) {
        problem(`${file}: dtype ${h.descr}, expected ${DTYPE[name]}`);
        continue;
      }
      const shape = want[name];
      if (h.shape.length !== shape.length || h.shape.some((s, k) => s !== shape[k])) {
        problem(`${file}: shape [${h.shape}], the manifest needs [${shape}] (episode length ${T})`);
        continue;
      }
      const need = shapeSize(shape) * BYTES[h.descr]!;
      const have = bytes.length - h.offset;
      if (have !== need) {
        problem(`${file}: ${have < need ? 'truncated' : 'has extra bytes'}: ${have} data bytes, the shape needs ${need}`);
        continue;
      }
      if (h.descr === '<f4') {
        const { data } = decodeNpy(bytes, file);
        for (let k = 0; k < data.length; k++) {
          const v = data[k]!;
          if (v - v !== 0) {
            problem(`${file}: non-finite value (${v}) at element ${k}`);
            break;
          }
        }
      }
    }
    opts.onProgress?.(i + 1, m.episodes.length);
  });
  return {
    dataset: dir, episodes: m.episodes.length, files, bytes: bytesRead, checksummed, problems, ok: problems.length === 0,
    seconds: (performance.now() - t0) / 1000,
  };
}

/** Records a verification in DATASET/verify.json; returns false when the folder is not writable. */
export function recordVerification(dir: string, report: VerifyReport): boolean {
  const record: VerifyRecord = {
    format: 'ppuu-verify', version: 1, manifestSha256: sha256(readFileSync(join(dir, 'manifest.json'))),
    ok: report.ok, problems: report.problems.length, verifiedAt: new Date().toISOString(),
  };
  try {
    writeFileAtomic(join(dir, VERIFY_FILE), JSON.stringify(record, null, 1) + '\n');
    return true;
  } catch {
    return false;
  }
}

/** The verification of the dataset as it is now, or null (never verified, or the manifest changed since). */
export function currentVerification(dir: string): VerifyRecord | null {
  const file = join(dir, VERIFY_FILE);
  if (!existsSync(file)) return null;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as VerifyRecord;
    if (r.format !== 'ppuu-verify') return null;
    return r.manifestSha256 === sha256(readFileSync(join(dir, 'manifest.json'))) ? r : null;
  } catch {
    return null;
  }
}
