/**
 * Reads and checks scenario and suite files against the JSON Schema in schema.ts (ajv), and
 * fills in defaults. A problem becomes a one-line UserError that names the file, the line and the
 * JSON path of the offending field: "demo.json:9: field $.controller.kind: must be one of ...".
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Ajv } from 'ajv';
import type { ErrorObject } from 'ajv';
import { UserError } from '../common/errors.js';
import { lineOfPointer, pointerToJsonPath } from './json-locate.js';
import { scenarioSchema, suiteSchema, SUITE_FORMAT } from './schema.js';
import type { DisplayOptions, Scenario, Suite } from './schema.js';

const ajv = new Ajv({ allErrors: true, discriminator: true, strict: true, verbose: true });
ajv.addSchema(scenarioSchema);
const checkScenario = ajv.getSchema<Scenario>('ppuu-scenario')!;
const checkSuite = ajv.compile<Suite>(suiteSchema);

/** A scenario with every default filled in and `baseDir` set for its relative paths. */
export interface ResolvedScenario extends Required<Omit<Scenario, 'format' | 'description' | 'worldModel' | 'startFrame' | 'windowFrames' | 'display' | 'imageVariant'>> {
  description: string;
  /** null: the episode dataset's variant, else 'paper' (see traffic.ts). */
  imageVariant: 'paper' | 'offroad' | null;
  startFrame: number | null;
  windowFrames: number | null;
  worldModel: { path: string; horizon: number; samples: number } | null;
  display: Required<DisplayOptions>;
  /** Folder that relative paths in the scenario are resolved against. */
  baseDir: string;
  /** File the scenario came from ('(inline)' when built in code) and its index inside a suite. */
  source: { file: string; index: number | null };
}

export interface ScenarioFile {
  kind: 'scenario' | 'suite';
  /** Suite name, or the scenario's own name. */
  name: string;
  file: string;
  scenarios: ResolvedScenario[];
}

export const DEFAULT_DISPLAY: Required<DisplayOptions> = {
  camera: 'follow',
  showGhost: true,
  showObservation: true,
  showImagined: true,
  playbackSpeed: 1,
  startPaused: false,
  frame: 0,
};

/** Turns one ajv error into "field $.path: what is wrong" plus the JSON pointer it refers to. */
function describe(e: ErrorObject): { pointer: string; text: string } {
  let pointer = e.instancePath;
  let msg: string;
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      pointer = `${pointer}/${String(p.missingProperty)}`;
      msg = 'is required';
      break;
    case 'additionalProperties':
      pointer = `${pointer}/${String(p.additionalProperty)}`;
      msg = 'is not allowed here (unknown field)';
      break;
    case 'enum':
      msg = `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
      break;
    case 'const':
      msg = `must be ${JSON.stringify(p.allowedValue)}`;
      break;
    case 'discriminator':
      if (p.error === 'mapping') {
        const tags = discriminatorTags(e);
        pointer = `${pointer}/${String(p.tag)}`;
        msg = `must be one of ${tags.map((t) => JSON.stringify(t)).join(', ')}, got ${JSON.stringify(p.tagValue)}`;
      } else {
        pointer = `${pointer}/${String(p.tag)}`;
        msg = 'must be a string';
      }
      break;
    case 'anyOf':
      msg = `does not match any allowed form (${schemaHint(e)})`;
      break;
    case 'pattern':
      msg = `must match ${String(p.pattern)}`;
      break;
    case 'uniqueItems':
      msg = `must not repeat items (items ${String(p.j)} and ${String(p.i)} are equal)`;
      break;
    default:
      msg = e.message ?? 'is invalid';
  }
  return { pointer, text: `field ${pointerToJsonPath(pointer)}: ${msg}` };
}

function discriminatorTags(e: ErrorObject): string[] {
  const branches = (e.parentSchema as { oneOf?: Array<{ properties?: { kind?: { const?: string } } }> } | undefined)?.oneOf ?? [];
  return branches.map((b) => b.properties?.kind?.const).filter((t): t is string => typeof t === 'string');
}

function schemaHint(e: ErrorObject): string {
  const alts = (e.schema as Array<{ type?: string; pattern?: string }> | undefined) ?? [];
  return alts.map((a) => (a.pattern ? `${a.type} matching ${a.pattern}` : String(a.type))).join(' or ');
}

/**
 * Orders errors so that the most telling one comes first: an anyOf is reported as a whole (its
 * branches' own errors are dropped), oneOf summaries go, and deeper paths come before shallower ones.
 */
function rank(errors: ErrorObject[]): ErrorObject[] {
  const kept = errors.filter((e) => e.keyword !== 'oneOf' && !e.schemaPath.includes('/anyOf/'));
  return (kept.length > 0 ? kept : errors).slice().sort((a, b) => b.instancePath.split('/').length - a.instancePath.split('/').length);
}

/** Throws a one-line UserError for a failed check; `text` (the file's JSON) gives the line number. */
function fail(errors: ErrorObject[], file: string, text: string | undefined): never {
  const ordered = rank(errors);
  const first = describe(ordered[0]!);
  const line = text === undefined ? undefined : lineOfPointer(text, first.pointer);
  const more = ordered.length > 1 ? ` (and ${ordered.length - 1} more problem${ordered.length > 2 ? 's' : ''})` : '';
  throw new UserError(`${file}${line !== undefined ? `:${line}` : ''}: ${first.text}${more}`);
}

/** Fills in the defaults of a schema-valid scenario. */
export function resolveScenario(s: Scenario, baseDir: string, source: ResolvedScenario['source']): ResolvedScenario {
  return {
    name: s.name,
    description: s.description ?? '',
    map: s.map,
    slot: s.slot ?? null,
    dataset: s.dataset,
    ego: s.ego,
    startFrame: s.startFrame ?? null,
    windowFrames: s.windowFrames ?? null,
    contextFrames: s.contextFrames ?? 20,
    imageVariant: s.imageVariant ?? null,
    durationFrames: s.durationFrames ?? 2000,
    controller: s.controller,
    seeds: s.seeds ?? [0],
    worldModel: s.worldModel ? { path: s.worldModel.path, horizon: s.worldModel.horizon ?? 10, samples: s.worldModel.samples ?? 10 } : null,
    display: { ...DEFAULT_DISPLAY, ...(s.display ?? {}) },
    baseDir,
    source,
  };
}

/**
 * Checks a parsed scenario or suite document. `file` names it in errors, `text` (its JSON text,
 * when known) gives line numbers, `baseDir` anchors relative paths (default: the file's folder).
 */
export function parseScenarioDocument(doc: unknown, file: string, text?: string, baseDir?: string): ScenarioFile {
  const dir = baseDir ?? dirname(resolve(file));
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new UserError(`${file}${text !== undefined ? ':1' : ''}: field $: must be a JSON object (a scenario, or a suite with "format": "${SUITE_FORMAT}")`);
  }
  const isSuite = (doc as { format?: unknown }).format === SUITE_FORMAT || 'scenarios' in doc;
  if (isSuite) {
    if (!checkSuite(doc)) fail(checkSuite.errors ?? [], file, text);
    const suite = doc as Suite;
    return {
      kind: 'suite',
      name: suite.name,
      file,
      scenarios: suite.scenarios.map((s, index) => resolveScenario(s, dir, { file, index })),
    };
  }
  if (!checkScenario(doc)) fail(checkScenario.errors ?? [], file, text);
  const s = doc as Scenario;
  return { kind: 'scenario', name: s.name, file, scenarios: [resolveScenario(s, dir, { file, index: null })] };
}

/** Parses a JSON text, turning a syntax error into "FILE:LINE: not valid JSON (...)". */
export function parseScenarioText(text: string, file: string, baseDir?: string): ScenarioFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    const full = (e as Error).message.replace(/\s+/g, ' ');
    const msg = full.length > 160 ? `${full.slice(0, 157)}...` : full;
    const pos = /position (\d+)/.exec(msg);
    const line = pos ? text.slice(0, Number(pos[1])).split('\n').length : undefined;
    throw new UserError(`${file}${line !== undefined ? `:${line}` : ''}: not valid JSON (${msg})`);
  }
  return parseScenarioDocument(doc, file, text, baseDir);
}

/** Reads and checks a scenario or suite file; `shownAs` names it in errors (default: `file`). */
export function loadScenarioFile(file: string, shownAs: string = file): ScenarioFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(`${shownAs}: cannot read the scenario file (${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder' : code ?? (e as Error).message})`);
  }
  return parseScenarioText(text, shownAs, dirname(resolve(file)));
}
