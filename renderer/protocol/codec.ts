/**
 * Packs a JSON-like value that holds typed arrays (a FrameChunk) into one binary buffer and back,
 * the same bytes over HTTP and Electron IPC. Layout: "PPUV" magic, uint32 JSON length, the JSON
 * (typed arrays replaced by {"$ta": [type, byteOffset, length]}), then every array's bytes, each
 * 8-byte aligned so that decoding makes views without copying. Little-endian (as both ends are).
 */

const MAGIC = 0x56555050; // "PPUV"
const TYPES = [Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array, Float64Array] as const;
type AnyTyped = InstanceType<(typeof TYPES)[number]>;

function typeCode(v: unknown): number {
  for (let i = 0; i < TYPES.length; i++) if (v instanceof TYPES[i]!) return i;
  return -1;
}

const align8 = (n: number) => (n + 7) & ~7;

export function encodeMessage(value: unknown): Uint8Array {
  const arrays: AnyTyped[] = [];
  const offsets: number[] = [];
  let dataBytes = 0;
  const json = JSON.stringify(value, (_key, v: unknown) => {
    const code = typeCode(v);
    if (code < 0) return v;
    const a = v as AnyTyped;
    arrays.push(a);
    offsets.push(dataBytes);
    const ref = { $ta: [code, dataBytes, a.length] };
    dataBytes = align8(dataBytes + a.byteLength);
    return ref;
  });
  const jsonBytes = new TextEncoder().encode(json);
  const head = align8(8 + jsonBytes.length);
  const out = new Uint8Array(head + dataBytes);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, jsonBytes.length, true);
  out.set(jsonBytes, 8);
  arrays.forEach((a, i) => out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), head + offsets[i]!));
  return out;
}

export function decodeMessage<T>(bytes: Uint8Array): T {
  // Views need the data 8-byte aligned within its ArrayBuffer; copy when the input is not.
  const buf = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  if (buf.length < 8) throw new Error('viewer message: truncated header');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(0, true) !== MAGIC) throw new Error('viewer message: bad magic');
  const jsonLen = view.getUint32(4, true);
  if (8 + jsonLen > buf.length) throw new Error('viewer message: truncated JSON');
  const head = align8(8 + jsonLen);
  const json = new TextDecoder().decode(buf.subarray(8, 8 + jsonLen));
  return JSON.parse(json, (_key, v: unknown) => {
    if (v && typeof v === 'object' && '$ta' in v) {
      const [code, offset, length] = (v as { $ta: [number, number, number] }).$ta;
      const Ctor = TYPES[code];
      if (!Ctor) throw new Error(`viewer message: unknown array type ${code}`);
      const start = buf.byteOffset + head + offset;
      if (head + offset + length * Ctor.BYTES_PER_ELEMENT > buf.length) throw new Error('viewer message: truncated data');
      return new Ctor(buf.buffer as ArrayBuffer, start, length);
    }
    return v;
  }) as T;
}
