/**
 * On-disk format of a trained energy-based model (what `ppuu ebm train` writes): a folder
 *
 *   model.json     EbmModelFile (ajv-validated): kind, hyper-parameters, the arrays and how to
 *                  read them, the training summary
 *   NAME.npy       float32 arrays, numpy-readable
 *
 * Two array roles matter outside this folder:
 *   atoms   [h * w * c, K] matrix whose column j is atom/filter j in (row, col, channel) order;
 *           `ppuu ebm filters` draws them. A conv kernel [4, 4, C, F] has exactly this layout.
 *   encoder a conv kernel [4, 4, C, F] (+ optional bias [F]) that can initialise the world
 *           model's first convolution (see encoder-init.ts).
 * The whole folder is written atomically.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeDirAtomic, writeFileAtomic } from '../../common/atomic.js';
import { UserError } from '../../common/errors.js';
import { encodeNpy, readNpy } from '../../common/npy.js';
import { schemaValidator, parseJsonText } from '../../data/json-schema.js';
import { ppuuVersion } from '../../data/version.js';

export const EBM_KINDS = ['kmeans', 'pca', 'sparse', 'lista', 'psd', 'conv-sparse'] as const;
export type EbmKind = (typeof EBM_KINDS)[number];

export interface ArrayRef {
  file: string;
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
  required: ['file', 'shape'],
  additionalProperties: false,
  properties: { file: { type: 'string', pattern: '^[A-Za-z0-9_.-]+\\.npy$' }, shape: { type: 'array', items: { type: 'integer', minimum: 0 } } },
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

/** Writes the model folder atomically (arrays as float32 .npy). */
export async function saveEbmModel(dir: string, m: EbmModelToSave): Promise<void> {
  const arrays: Record<string, ArrayRef> = {};
  for (const name of Object.keys(m.arrays)) arrays[name] = { file: `${name}.npy`, shape: m.arrays[name]!.shape };
  const file: EbmModelFile = { format: 'ppuu-ebm', version: 1, kind: m.kind, hyper: m.hyper, arrays, atoms: m.atoms, encoder: m.encoder, training: m.training, writtenBy: ppuuVersion() };
  checkReferences(file, 'model.json');
  await writeDirAtomic(dir, (tmp) => {
    for (const [name, a] of Object.entries(m.arrays)) {
      const data = a.data instanceof Float32Array ? a.data : Float32Array.from(a.data);
      writeFileAtomic(join(tmp, `${name}.npy`), encodeNpy(data, a.shape));
    }
    writeFileAtomic(join(tmp, 'model.json'), JSON.stringify(file, null, 1) + '\n');
  });
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

/** Reads model.json (validated) and every array it lists. */
export function loadEbmModel(dir: string): { file: EbmModelFile; arrays: Record<string, { data: Float32Array; shape: number[] }> } {
  const path = join(dir, 'model.json');
  if (!existsSync(path)) throw new UserError(`${dir}: not an ebm model folder (no model.json)`);
  const file = validate(parseJsonText(readFileSync(path, 'utf8'), path), path);
  checkReferences(file, path);
  const arrays: Record<string, { data: Float32Array; shape: number[] }> = {};
  for (const [name, ref] of Object.entries(file.arrays)) {
    const npyPath = join(dir, ref.file);
    const { data, shape } = readNpy(npyPath);
    if (!(data instanceof Float32Array)) throw new UserError(`${npyPath}: expected float32 values`);
    if (shape.length !== ref.shape.length || shape.some((s, i) => s !== ref.shape[i])) {
      throw new UserError(`${npyPath}: shape [${shape}] does not match model.json's [${ref.shape}]`);
    }
    arrays[name] = { data, shape };
  }
  return { file, arrays };
}

/** Refuses to replace an existing non-empty folder that is not an ebm model (a typo in --out). */
export function assertReplaceableModelDir(dir: string): void {
  if (!existsSync(dir)) return;
  if (!statSync(dir).isDirectory()) throw new UserError(`${dir}: exists and is not a folder`);
  if (readdirSync(dir).length > 0 && !existsSync(join(dir, 'model.json'))) {
    throw new UserError(`${dir}: exists and is not an ebm model folder (no model.json); choose another --out`);
  }
}
