/**
 * Checkpoints on the file system in the standard TensorFlow.js format, without tfjs-node:
 *
 *   DIR/model.json     ModelJSON: modelTopology (null for a plain weight map), format,
 *                      weightsManifest [{ paths: ['weights.bin'], weights: [{name, shape, dtype}] }]
 *   DIR/weights.bin    the weights, little-endian, in manifest order
 *   DIR/NAME.json      optional sidecars (hyper-parameters, normalisation statistics, ...)
 *
 * tf.loadLayersModel('file://DIR/model.json') under tfjs-node, tf.loadLayersModel(url) in a browser
 * and this module all read the same folder. Saving is atomic: the whole folder is written next to
 * DIR and renamed into place, so a crash never leaves a half-written checkpoint (an existing DIR
 * is replaced as a whole: keep a checkpoint in a folder of its own). Loading accepts weights split
 * over several .bin files (as tfjs-node and the converter write them).
 *
 * Integrity: model.json records the sha256 of each weight file (`weightsSha256`, file name ->
 * hex digest); loading refuses a file whose digest differs and any non-finite float32 value, with
 * a UserError naming the file. Checkpoints written before the digest existed are checked for
 * finiteness only.
 */
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../common/errors.js';
import { writeDirAtomic, writeFileAtomic } from '../common/atomic.js';
import type { NormStats } from '../data/dataset-types.js';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';
/** `format` of model.json for a plain named weight map (no topology). */
export const WEIGHT_MAP_FORMAT = 'ppuu-weights';

/** Field of model.json (and of the forward model's NAME.json) holding the weight files' sha256 digests. */
export const WEIGHTS_SHA256_FIELD = 'weightsSha256';

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Checks one weight file's bytes against the digest recorded for it in `manifestFile` (no
 * record: nothing to check, as in checkpoints from before the digest).
 */
export function checkWeightsDigest(manifestFile: string, binPath: string, bytes: Uint8Array, recorded: unknown, name: string): void {
  if (recorded === undefined || recorded === null) return;
  const want = (recorded as Record<string, unknown>)[name];
  if (want === undefined) return;
  if (typeof want !== 'string') throw new UserError(`${manifestFile}: field ${WEIGHTS_SHA256_FIELD}.${name}: expected a hex string`);
  const have = sha256Hex(bytes);
  if (have !== want) throw new UserError(`${binPath}: checksum mismatch (sha256 ${have.slice(0, 12)}..., ${manifestFile} records ${want.slice(0, 12)}...): the file is corrupt or belongs to another checkpoint`);
}

/**
 * Refuses non-finite values in the float32 entries of concatenated weight data (`data` holds the
 * entries of `specs` in order); `source` names the weight file(s) in the error.
 */
export function checkFiniteWeights(source: string, specs: tf.io.WeightsManifestEntry[], data: Uint8Array): void {
  let off = 0;
  for (const s of specs) {
    const bytes = specBytes(s);
    if (s.dtype === 'float32' && !s.quantization) {
      const n = bytes / 4;
      const start = data.byteOffset + off;
      const v = start % 4 === 0 ? new Float32Array(data.buffer, start, n) : new Float32Array(data.slice(off, off + bytes).buffer);
      for (let i = 0; i < n; i++) {
        const x = v[i]!;
        if (x - x !== 0) throw new UserError(`${source}: weight ${s.name}: non-finite value (${x}) at element ${i}: the file is corrupt`);
      }
    }
    off += bytes;
  }
}

/** Extra JSON files written into the checkpoint folder in the same atomic step (name -> value). */
export type Sidecars = Record<string, unknown>;

function readJson(path: string): unknown {
  if (!existsSync(path)) throw new UserError(`${path}: file not found`);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UserError(`${path}: invalid JSON (${(e as Error).message})`);
  }
}

function sidecarFile(name: string): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === MODEL_FILE) throw new Error(`invalid sidecar name '${name}'`);
  return name.endsWith('.json') ? name : `${name}.json`;
}

/**
 * A tf.io.IOHandler reading and writing the folder `dir`. save() writes atomically (with
 * `sidecars` alongside); load() returns the artifacts with all weight files concatenated.
 */
export function fileSystemIO(dir: string, sidecars: Sidecars = {}): Required<Pick<tf.io.IOHandler, 'save' | 'load'>> {
  for (const name of Object.keys(sidecars)) sidecarFile(name); // reject bad names before any writing
  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const modelJson: tf.io.ModelJSON & Record<string, unknown> = {
        modelTopology: (artifacts.modelTopology ?? null) as tf.io.ModelJSON['modelTopology'],
        format: artifacts.format,
        generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
        [WEIGHTS_SHA256_FIELD]: { [WEIGHTS_FILE]: sha256Hex(new Uint8Array(weightData)) },
      };
      if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
      if (artifacts.signature) modelJson.signature = artifacts.signature;
      if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
      if (artifacts.modelInitializer) modelJson.modelInitializer = artifacts.modelInitializer;
      const text = JSON.stringify(modelJson);
      await writeDirAtomic(dir, (tmp) => {
        writeFileSync(join(tmp, WEIGHTS_FILE), new Uint8Array(weightData));
        for (const [name, value] of Object.entries(sidecars)) writeFileSync(join(tmp, sidecarFile(name)), JSON.stringify(value, null, 2) + '\n');
        writeFileSync(join(tmp, MODEL_FILE), text);
      });
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          modelTopologyBytes: artifacts.modelTopology ? JSON.stringify(artifacts.modelTopology).length : 0,
          weightSpecsBytes: JSON.stringify(artifacts.weightSpecs ?? []).length,
          weightDataBytes: weightData.byteLength,
        },
      };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const file = join(dir, MODEL_FILE);
      const json = readJson(file) as tf.io.ModelJSON & Record<string, unknown>;
      if (!json || typeof json !== 'object' || !Array.isArray(json.weightsManifest)) {
        throw new UserError(`${file}: field weightsManifest: missing (not a TensorFlow.js model.json)`);
      }
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: tf.io.WeightsManifestEntry[] = [];
        const parts: Uint8Array[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const path = join(dir, p);
            if (!existsSync(path)) throw new UserError(`${path}: weights file named in ${file} not found`);
            parts.push(readFileSync(path));
          }
        }
        const paths = manifest.flatMap((g) => g.paths);
        const total = parts.reduce((n, b) => n + b.byteLength, 0);
        const need = specs.reduce((n, s) => n + specBytes(s), 0);
        if (total !== need) throw new UserError(`${file}: its weight files hold ${total} bytes, the manifest needs ${need}`);
        parts.forEach((b, i) => checkWeightsDigest(file, join(dir, paths[i]!), b, json[WEIGHTS_SHA256_FIELD], paths[i]!));
        const binNames = paths.map((p) => join(dir, p)).join(', ');
        const data = new Uint8Array(total);
        let off = 0;
        for (const b of parts) {
          data.set(b, off);
          off += b.byteLength;
        }
        checkFiniteWeights(binNames, specs, data);
        return [specs, data.buffer];
      });
    },
  };
}

/** Bytes a manifest entry occupies in the weight files (quantised entries included). */
export function specBytes(s: tf.io.WeightsManifestEntry): number {
  const n = s.shape.reduce((a, b) => a * b, 1);
  if (s.quantization) return n * ({ uint8: 1, uint16: 2, float16: 2 } as Record<string, number>)[s.quantization.dtype]!;
  if (s.dtype === 'string') throw new UserError(`weight '${s.name}': string weights are not supported`);
  return n * (s.dtype === 'bool' ? 1 : 4);
}

/** Saves a LayersModel (topology + weights, optimizer state too if asked) into the folder `dir`. */
export async function saveModel(model: tf.LayersModel, dir: string, opts: { sidecars?: Sidecars; includeOptimizer?: boolean } = {}): Promise<void> {
  await model.save(fileSystemIO(dir, opts.sidecars), { includeOptimizer: opts.includeOptimizer ?? false });
}

/** Loads a LayersModel saved by saveModel (or by tfjs-node / the converter as Keras layers). */
export async function loadModel(dir: string, opts: { strict?: boolean } = {}): Promise<tf.LayersModel> {
  const file = join(dir, MODEL_FILE);
  const json = readJson(file) as { modelTopology?: unknown; format?: string };
  if (!json.modelTopology) throw new UserError(`${file}: holds ${json.format === WEIGHT_MAP_FORMAT ? 'a weight map' : 'no model topology'}; load it with loadWeights`);
  return tf.loadLayersModel(fileSystemIO(dir), { strict: opts.strict ?? true });
}

/**
 * Saves named tensors (e.g. a hand-built model's variables) into the folder `dir`. Reads their
 * values (call outside tf.tidy); the tensors stay the caller's.
 */
export async function saveWeights(dir: string, weights: Record<string, tf.Tensor>, opts: { sidecars?: Sidecars; metadata?: Record<string, unknown> } = {}): Promise<void> {
  const { data, specs } = await tf.io.encodeWeights(weights);
  await fileSystemIO(dir, opts.sidecars).save({
    format: WEIGHT_MAP_FORMAT,
    generatedBy: `ppuu (tfjs ${tf.version.tfjs})`,
    weightSpecs: specs,
    weightData: data,
    userDefinedMetadata: opts.metadata as tf.io.ModelArtifacts['userDefinedMetadata'],
  });
}

/** Loads a weight map saved by saveWeights (or the weights of any model.json); the caller owns the tensors. */
export async function loadWeights(dir: string): Promise<{ weights: Record<string, tf.Tensor>; metadata: Record<string, unknown> }> {
  const artifacts = await fileSystemIO(dir).load();
  const weights = tf.io.decodeWeights(artifacts.weightData ?? new ArrayBuffer(0), artifacts.weightSpecs ?? []);
  return { weights, metadata: (artifacts.userDefinedMetadata ?? {}) as Record<string, unknown> };
}

/**
 * Checks that `weights` has exactly the names and shapes of `expected` (e.g. a model's variables
 * before assigning a loaded map to them); throws a UserError naming the first difference.
 */
export function checkWeightShapes(source: string, weights: Record<string, tf.Tensor>, expected: Record<string, number[]>): void {
  for (const [name, shape] of Object.entries(expected)) {
    const w = weights[name];
    if (!w) throw new UserError(`${source}: weight ${name}: missing`);
    if (w.shape.length !== shape.length || w.shape.some((d, i) => d !== shape[i])) {
      throw new UserError(`${source}: weight ${name}: shape [${w.shape}] where [${shape}] is expected`);
    }
  }
  for (const name of Object.keys(weights)) {
    if (!(name in expected)) throw new UserError(`${source}: weight ${name}: not part of this model`);
  }
}

/** The usual sidecar: hyper-parameters and the normalisation statistics of the training data. */
export interface Hparams<H = Record<string, unknown>> {
  format: 'ppuu-hparams';
  version: 1;
  hyperParameters: H;
  normalisation: NormStats | null;
  writtenBy: string;
}

export const HPARAMS_FILE = 'hparams.json';

/** Builds the hparams sidecar value (pass it in `sidecars` of a save, or to writeSidecar). */
export function makeHparams<H>(hyperParameters: H, normalisation: NormStats | null = null): Hparams<H> {
  return { format: 'ppuu-hparams', version: 1, hyperParameters, normalisation, writtenBy: `ppuu (tfjs ${tf.version.tfjs})` };
}

/** Writes (or replaces) one sidecar JSON file in an existing checkpoint folder, atomically. */
export function writeSidecar(dir: string, name: string, value: unknown): void {
  if (!existsSync(dir)) throw new UserError(`${dir}: checkpoint folder not found`);
  writeFileAtomic(join(dir, sidecarFile(name)), JSON.stringify(value, null, 2) + '\n');
}

/** Reads a sidecar JSON file; `check` may validate it (throw a UserError naming the field). */
export function readSidecar<T = unknown>(dir: string, name: string, check?: (value: unknown, file: string) => T): T {
  const file = join(dir, sidecarFile(name));
  const value = readJson(file);
  return check ? check(value, file) : (value as T);
}

/** Reads and checks hparams.json. */
export function readHparams<H = Record<string, unknown>>(dir: string): Hparams<H> {
  return readSidecar(dir, HPARAMS_FILE, (v, file) => {
    const h = v as Partial<Hparams<H>>;
    if (!h || typeof h !== 'object' || h.format !== 'ppuu-hparams') throw new UserError(`${file}: field format: expected 'ppuu-hparams'`);
    if (h.version !== 1) throw new UserError(`${file}: field version: unsupported version ${String(h.version)}`);
    if (!h.hyperParameters || typeof h.hyperParameters !== 'object') throw new UserError(`${file}: field hyperParameters: missing`);
    if (h.normalisation !== null && h.normalisation !== undefined) {
      for (const k of ['stateMean', 'stateStd', 'actionMean', 'actionStd'] as const) {
        const a = (h.normalisation as unknown as Record<string, unknown>)[k];
        if (!Array.isArray(a) || !a.every((x) => typeof x === 'number' && Number.isFinite(x))) {
          throw new UserError(`${file}: field normalisation.${k}: expected an array of finite numbers`);
        }
      }
    }
    return { ...h, normalisation: h.normalisation ?? null } as Hparams<H>;
  });
}
