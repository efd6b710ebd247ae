/**
 * On-disk format of a trained energy-based model (what `ppuu ebm train` writes): a checkpoint
 * folder in the standard TensorFlow.js format (worldmodel/checkpoint.ts), so tfjs in Node or a
 * browser reads the weights directly:
 *
 *   model.json     tfjs weight map (no topology): weightsManifest naming every array, float32
 *   weights.bin    the values
 *   ebm.json       EbmModelFile sidecar (ajv-validated): kind, hyper-parameters, array shapes and
 *                  roles, the training summary
 *
 * Two array roles matter outside this folder:
 *   atoms   [h * w * c, K] matrix whose column j is atom/filter j in (row, col, channel) order;
 *           `ppuu ebm filters` draws them. A conv kernel [4, 4, C, F] has exactly this layout.
 *   encoder a conv kernel [4, 4, C, F] (+ optional bias [F]) that can initialise the world
 *           model's first convolution (see encoder-init.ts).
 * The whole folder is written atomically.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../common/errors.js';
import { schemaValidator } from '../../data/json-schema.js';
import { ppuuVersion } from '../../data/version.js';
import { saveWeights, loadWeights, readSidecar, checkWeightShapes } from '../checkpoint.js';

export const EBM_SIDECAR = 'ebm.json';

export const EBM_KINDS = ['kmeans', 'pca', 'sparse', 'lista', 'psd', 'conv-sparse'] as const;
export type EbmKind = (typeof EBM_KINDS)[number];

export interface ArrayRef {
  shape: number[];
}

export interface EbmModelFile {
  format: 'ppuu-ebm';
  version: 1;
  kind: EbmKind;
  hyper: Record<string, number | string | boolean>;
  arrays: Record<string, ArrayRef>;
  atoms: { array: string; patch: [number, number, number] };
  encoder: { kernel: string; bias: string | null; stride: number; padding: number } | null;
  training: Record<string, unknown>;
  writtenBy: string;
}

const arrayRefSchema = {
  type: 'object',
  required: ['shape'],
  additionalProperties: false,
  properties: { shape: { type: 'array', items: { type: 'integer', minimum: 0 } } },
};

const schema = {
  type: 'object',
  required: ['format', 'version', 'kind', 'hyper', 'arrays', 'atoms', 'encoder', 'training', 'writtenBy'],
  additionalProperties: false,
  properties: {
    format: { const: 'ppuu-ebm' },
    version: { const: 1 },
    kind: { enum: [...EBM_KINDS] },
    hyper: { type: 'object', additionalProperties: { type: ['number', 'string', 'boolean'] } },
    arrays: { type: 'object', additionalProperties: arrayRefSchema },
    atoms: {
      type: 'object',
      required: ['array', 'patch'],
      additionalProperties: false,
      properties: { array: { type: 'string' }, patch: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 3, maxItems: 3 } },
    },
    encoder: {
      anyOf: [
        { type: 'null' },
        {
          type: 'object',
          required: ['kernel', 'bias', 'stride', 'padding'],
          additionalProperties: false,
          properties: { kernel: { type: 'string' }, bias: { type: ['string', 'null'] }, stride: { type: 'integer' }, padding: { type: 'integer' } },
        },
      ],
    },
    training: { type: 'object' },
    writtenBy: { type: 'string' },
  },
};

const validate = schemaValidator<EbmModelFile>(schema);

export interface ArrayData {
  data: Float32Array | Float64Array;
  shape: number[];
}

export interface EbmModelToSave {
  kind: EbmKind;
  hyper: EbmModelFile['hyper'];
  arrays: Record<string, ArrayData>;
  atoms: EbmModelFile['atoms'];
  encoder: EbmModelFile['encoder'];
  training: Record<string, unknown>;
}

/** Writes the model folder atomically (a tfjs weight map of float32 arrays plus the ebm.json sidecar). */
export async function saveEbmModel(dir: string, m: EbmModelToSave): Promise<void> {
  const arrays: Record<string, ArrayRef> = {};
  for (const name of Object.keys(m.arrays)) arrays[name] = { shape: m.arrays[name]!.shape };
  const file: EbmModelFile = { format: 'ppuu-ebm', version: 1, kind: m.kind, hyper: m.hyper, arrays, atoms: m.atoms, encoder: m.encoder, training: m.training, writtenBy: ppuuVersion() };
  checkReferences(file, EBM_SIDECAR);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [name, a] of Object.entries(m.arrays)) tensors[name] = tf.tensor(a.data instanceof Float32Array ? a.data : Float32Array.from(a.data), a.shape, 'float32');
  try {
    await saveWeights(dir, tensors, { sidecars: { [EBM_SIDECAR]: file } });
  } finally {
    for (const t of Object.values(tensors)) t.dispose();
  }
}

function checkReferences(m: EbmModelFile, file: string): void {
  const need = (name: string, field: string) => {
    if (!m.arrays[name]) throw new UserError(`${file}: field ${field}: names array '${name}', which is not listed in arrays`);
  };
  need(m.atoms.array, 'atoms.array');
  const [h, w, c] = m.atoms.patch;
  const shape = m.arrays[m.atoms.array]!.shape;
  const rows = shape.length === 2 ? shape[0]! : shape.slice(0, -1).reduce((p, s) => p * s, 1);
  if (rows !== h * w * c) throw new UserError(`${file}: field atoms.patch: [${m.atoms.patch}] holds ${h * w * c} values, atoms array has ${rows} rows`);
  if (m.encoder) {
    need(m.encoder.kernel, 'encoder.kernel');
    if (m.encoder.bias !== null) need(m.encoder.bias, 'encoder.bias');
  }
}

/** Reads ebm.json (validated) and every array it lists, checked against the weight map. */
export async function loadEbmModel(dir: string): Promise<{ file: EbmModelFile; arrays: Record<string, { data: Float32Array; shape: number[] }> }> {
  if (!existsSync(join(dir, EBM_SIDECAR))) throw new UserError(`${dir}: not an ebm model folder (no ${EBM_SIDECAR})`);
  const path = join(dir, EBM_SIDECAR);
  const file = readSidecar(dir, EBM_SIDECAR, validate);
  checkReferences(file, path);
  const { weights } = await loadWeights(dir);
  try {
    checkWeightShapes(join(dir, 'model.json'), weights, Object.fromEntries(Object.entries(file.arrays).map(([n, r]) => [n, r.shape])));
    const arrays: Record<string, { data: Float32Array; shape: number[] }> = {};
    for (const [name, t] of Object.entries(weights)) {
      if (t.dtype !== 'float32') throw new UserError(`${join(dir, 'model.json')}: weight ${name}: expected float32, found ${t.dtype}`);
      arrays[name] = { data: Float32Array.from((await t.data()) as Float32Array), shape: t.shape };
    }
    return { file, arrays };
  } finally {
    for (const t of Object.values(weights)) t.dispose();
  }
}

/** Refuses to replace an existing non-empty folder that is not an ebm model (a typo in --out). */
export function assertReplaceableModelDir(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new UserError(`${dir}: exists and is not a folder`);
  if (readdirSync(dir).length > 0 && !existsSync(join(dir, EBM_SIDECAR))) {
    throw new UserError(`${dir}: exists and is not an ebm model folder (no ${EBM_SIDECAR}); choose another --out`);
  }
}
