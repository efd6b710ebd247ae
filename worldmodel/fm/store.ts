/**
 * Named tensor maps on disk in the standard TensorFlow.js weights format: NAME.json (a
 * weightsManifest listing each tensor's name, shape and dtype, plus free metadata) and a .bin
 * file (the little-endian values, in manifest order; model.json pairs with weights.bin). tfjs's own io.decodeWeights reads them, in Node
 * or in a browser. NAME.json records the .bin file's sha256 (`weightsSha256`); loading refuses a
 * file whose digest differs and non-finite float32 values (older files: finiteness only).
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../common/errors.js';
import { writeFileAtomic } from '../../common/atomic.js';
import { checkFiniteWeights, checkWeightsDigest, sha256Hex, specBytes, WEIGHTS_SHA256_FIELD } from '../checkpoint.js';

export interface StoredMapJson {
  format: string;
  generatedBy: string;
  weightsManifest: Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;
  metadata?: Record<string, unknown>;
  /** sha256 hex digest per weight file (absent in files from before it was recorded). */
  weightsSha256?: Record<string, string>;
}

/** Writes `tensors` as DIR/NAME.json + DIR/BIN.bin (values read from the tensors: call outside tidy). */
export async function saveTensorMap(dir: string, name: string, bin: string, tensors: Record<string, tf.Tensor>, metadata: Record<string, unknown> = {}): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(tensors);
  const json: StoredMapJson = {
    format: 'ppuu-weights',
    generatedBy: `tfjs ${tf.version.tfjs}`,
    weightsManifest: [{ paths: [`${bin}.bin`], weights: specs }],
    metadata,
    [WEIGHTS_SHA256_FIELD]: { [`${bin}.bin`]: sha256Hex(new Uint8Array(data)) },
  };
  writeFileAtomic(join(dir, `${bin}.bin`), new Uint8Array(data));
  writeFileAtomic(join(dir, `${name}.json`), JSON.stringify(json, null, 1) + '\n');
}

/** Reads DIR/NAME.json + its .bin files; the caller owns (and disposes) the tensors. */
export function loadTensorMap(dir: string, name: string): { tensors: Record<string, tf.Tensor>; metadata: Record<string, unknown> } {
  const file = join(dir, `${name}.json`);
  if (!existsSync(file)) throw new UserError(`${file}: file not found`);
  let json: StoredMapJson;
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as StoredMapJson;
  } catch (e) {
    throw new UserError(`${file}: invalid JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(json.weightsManifest)) throw new UserError(`${file}: field weightsManifest: missing`);
  const tensors: Record<string, tf.Tensor> = {};
  for (const group of json.weightsManifest) {
    const parts = group.paths.map((p) => {
      const path = join(dir, p);
      if (!existsSync(path)) throw new UserError(`${path}: weights file named in ${file} not found`);
      return readFileSync(path);
    });
    const total = parts.reduce((n, b) => n + b.byteLength, 0);
    const buf = new Uint8Array(total);
    let off = 0;
    for (const b of parts) {
      buf.set(b, off);
      off += b.byteLength;
    }
    const want = group.weights.reduce((n, w) => n + specBytes(w), 0);
    if (want !== total) throw new UserError(`${file}: weights files hold ${total} bytes, the manifest needs ${want}`);
    parts.forEach((b, i) => checkWeightsDigest(file, join(dir, group.paths[i]!), b, json[WEIGHTS_SHA256_FIELD], group.paths[i]!));
    checkFiniteWeights(group.paths.map((p) => join(dir, p)).join(', '), group.weights, buf);
    Object.assign(tensors, tf.io.decodeWeights(buf.buffer, group.weights));
  }
  return { tensors, metadata: json.metadata ?? {} };
}
