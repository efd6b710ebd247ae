/**
 * NumPy .npy files (format version 1.0, little-endian, C order): the array format that episode
 * files and track stores use, so that numpy (`np.load`) and other tools read them directly.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic.js';
import { UserError } from './errors.js';

export type NpyArray = Uint8Array | Int16Array | Int32Array | Float32Array | Float64Array;

const DESCR: Array<[string, new (n: number) => NpyArray]> = [
  ['|u1', Uint8Array],
  ['<i2', Int16Array],
  ['<i4', Int32Array],
  ['<f4', Float32Array],
  ['<f8', Float64Array],
];

function descrOf(a: NpyArray): string {
  for (const [d, C] of DESCR) if (a instanceof C) return d;
  throw new Error('unsupported array type for .npy');
}

/** Encodes an array with its shape as the bytes of a .npy file. */
export function encodeNpy(data: NpyArray, shape: readonly number[]): Uint8Array {
  const n = shape.reduce((p, s) => p * s, 1);
  if (n !== data.length) throw new Error(`npy: shape [${shape}] holds ${n} values, array has ${data.length}`);
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descrOf(data)}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  // magic(6) + version(2) + header length(2) + header, padded with spaces to a multiple of 64, ending in \n.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  out[8] = header.length & 0xff;
  out[9] = header.length >> 8;
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}

/** Decodes .npy bytes; `name` is used in error messages. */
export function decodeNpy(bytes: Uint8Array, name = '<npy>'): { data: NpyArray; shape: number[] } {
  if (bytes.length < 10 || bytes[0] !== 0x93 || String.fromCharCode(...bytes.subarray(1, 6)) !== 'NUMPY') {
    throw new UserError(`${name}: not a .npy file (bad magic)`);
  }
  const major = bytes[6]!;
  const headerLen = major === 1 ? bytes[8]! | (bytes[9]! << 8) : new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeM = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeM === undefined) throw new UserError(`${name}: malformed .npy header`);
  if (fortran === 'True') throw new UserError(`${name}: Fortran-ordered .npy is not supported`);
  const shape = shapeM.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const C = DESCR.find(([d]) => d === descr)?.[1];
  if (!C) throw new UserError(`${name}: unsupported .npy dtype ${descr}`);
  const n = shape.reduce((p, s) => p * s, 1);
  const off = start + headerLen;
  const data = new C(n);
  const bpe = (data as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  if (bytes.length - off < n * bpe) throw new UserError(`${name}: truncated .npy (expected ${n * bpe} data bytes, found ${bytes.length - off})`);
  new Uint8Array(data.buffer).set(bytes.subarray(off, off + n * bpe));
  return { data, shape };
}

export function writeNpy(path: string, data: NpyArray, shape: readonly number[]): void {
  writeFileAtomic(path, encodeNpy(data, shape));
}

export function readNpy(path: string): { data: NpyArray; shape: number[] } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    throw new UserError(`${path}: cannot read file`);
  }
  return decodeNpy(bytes, path);
}
