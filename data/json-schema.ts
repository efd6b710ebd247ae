/**
 * JSON Schema validation (ajv) for the data area's JSON files (track-store manifests, column
 * mappings), with errors that name the file and the offending field on one line.
 */
import AjvModule from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { UserError } from '../common/errors.js';

// ajv is CommonJS: under NodeNext the default import is the module object holding `default`.
const Ajv = ((AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule) as unknown as new (
  opts: Record<string, unknown>,
) => { compile<T>(schema: object): ValidateFunction<T> };

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });

/** Names one ajv error as "field PATH: message" (PATH in dotted form, '(root)' for the whole document). */
function describe(e: ErrorObject): string {
  let path = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    path = path ? `${path}.${missing}` : missing;
    return `field ${path}: is required`;
  }
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    return `field ${path ? `${path}.${extra}` : extra}: is not allowed here`;
  }
  if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ');
    return `field ${path || '(root)'}: must be one of ${allowed}`;
  }
  return `field ${path || '(root)'}: ${e.message ?? 'is invalid'}`;
}

/** Compiles `schema`; the returned function checks a parsed document and throws UserError naming `file`. */
export function schemaValidator<T>(schema: object): (doc: unknown, file: string) => T {
  const validate = ajv.compile<T>(schema);
  return (doc, file) => {
    if (!validate(doc)) {
      const first = (validate.errors ?? [])[0];
      throw new UserError(`${file}: ${first ? describe(first) : 'does not match its schema'}`);
    }
    return doc as T;
  };
}

/** Reads a JSON text, turning a syntax error into a one-line UserError naming the file. */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserError(`${file}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
}
