/**
 * Column-mapping files: how a trajectory CSV (any column names and units) maps onto the
 * store's rows. A mapping is JSON, validated by a JSON Schema (ajv); the NGSIM portal export
 * (data.transportation.gov, 25 columns, feet) is itself described by a built-in mapping.
 *
 * Example (see data/mappings/ for complete files):
 *   { "format": "ppuu-mapping", "version": 1, "location": "i80", "slot": "0400-0415",
 *     "columns": { "vehicleId": { "column": "vehicle_id" }, "frame": { "column": "frame_id" },
 *                  "localX": { "column": "local_x", "unit": "m" }, ... } }
 * A column is named by its header text (matched without regard to case) or by its 0-based
 * index (needed when "header" is false). Either "frame" or "time" must be given; time is
 * turned into frames at "frameRateHz" (default 10).
 */
import { readFileSync } from 'node:fs';
import { UserError } from '../../common/errors.js';
import { parseJsonText, schemaValidator } from '../json-schema.js';
import {
  ACCELERATION_TO_MPS2, LENGTH_TO_M, SPEED_TO_MPS, TIME_TO_S,
  type AccelerationUnit, type LengthUnit, type SpeedUnit, type TimeUnit,
} from '../units.js';

export interface ColumnRef<U extends string = never> {
  column: string | number;
  unit?: U;
}

export interface MappingColumns {
  vehicleId: ColumnRef;
  frame?: ColumnRef;
  time?: ColumnRef<TimeUnit>;
  localX: ColumnRef<LengthUnit>;
  localY: ColumnRef<LengthUnit>;
  speed?: ColumnRef<SpeedUnit>;
  acceleration?: ColumnRef<AccelerationUnit>;
  lane?: ColumnRef;
  length?: ColumnRef<LengthUnit>;
  width?: ColumnRef<LengthUnit>;
  vClass?: ColumnRef;
  preceding?: ColumnRef;
  spaceHeadway?: ColumnRef<LengthUnit>;
  timeHeadway?: ColumnRef<TimeUnit>;
  /** Global_Time-like clock (ms or s since the epoch); 10-digit ms values are taken as truncated. */
  globalTime?: ColumnRef<TimeUnit>;
  /** A text column naming the site (NGSIM "Location"), for --location. */
  location?: ColumnRef;
}

export interface Mapping {
  format: 'ppuu-mapping';
  version: 1;
  description?: string;
  /** Site of the data: i80, us101, peachtree or any other name (map 'unknown'). */
  location?: string;
  slot?: string | null;
  delimiter?: string;
  header?: boolean;
  frameRateHz?: number;
  columns: MappingColumns;
}

const col = (units?: readonly string[]) => ({
  type: 'object',
  required: ['column'],
  additionalProperties: false,
  properties: {
    column: { type: ['string', 'integer'], minimum: 0, minLength: 1 },
    ...(units ? { unit: { enum: units } } : {}),
  },
});
const LEN = Object.keys(LENGTH_TO_M);
const SPD = Object.keys(SPEED_TO_MPS);
const ACC = Object.keys(ACCELERATION_TO_MPS2);
const TIM = Object.keys(TIME_TO_S);

export const mappingSchema = {
  type: 'object',
  required: ['format', 'version', 'columns'],
  additionalProperties: false,
  properties: {
    format: { const: 'ppuu-mapping' },
    version: { const: 1 },
    description: { type: 'string' },
    location: { type: 'string', minLength: 1 },
    slot: { type: ['string', 'null'] },
    delimiter: { type: 'string', minLength: 1, maxLength: 4 },
    header: { type: 'boolean' },
    frameRateHz: { type: 'number', exclusiveMinimum: 0 },
    columns: {
      type: 'object',
      required: ['vehicleId', 'localX', 'localY'],
      additionalProperties: false,
      properties: {
        vehicleId: col(),
        frame: col(),
        time: col(TIM),
        localX: col(LEN),
        localY: col(LEN),
        speed: col(SPD),
        acceleration: col(ACC),
        lane: col(),
        length: col(LEN),
        width: col(LEN),
        vClass: col(),
        preceding: col(),
        spaceHeadway: col(LEN),
        timeHeadway: col(TIM),
        globalTime: col(TIM),
        location: col(),
      },
    },
  },
};

const validateMapping = schemaValidator<Mapping>(mappingSchema);

/** Checks a parsed mapping document; `file` names it in errors. */
export function checkMapping(doc: unknown, file: string): Mapping {
  const m = validateMapping(doc, file);
  if ((m.columns.frame === undefined) === (m.columns.time === undefined)) {
    throw new UserError(`${file}: field columns: give exactly one of "frame" and "time"`);
  }
  if (m.header === false) {
    for (const [name, ref] of Object.entries(m.columns) as Array<[string, ColumnRef<string>]>) {
      if (typeof ref.column !== 'number') throw new UserError(`${file}: field columns.${name}.column: must be a 0-based index when "header" is false`);
    }
  }
  return m;
}

/** Reads and validates a mapping file. */
export function loadMapping(file: string): Mapping {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new UserError(`${file}: cannot read mapping file`);
  }
  return checkMapping(parseJsonText(text, file), file);
}

/** The data.transportation.gov export of NGSIM (25 columns, feet, ft/s, ft/s^2, ms clock). */
export const NGSIM_CSV_MAPPING: Mapping = {
  format: 'ppuu-mapping',
  version: 1,
  description: 'NGSIM trajectories as exported by data.transportation.gov (25 columns, US customary units)',
  header: true,
  columns: {
    vehicleId: { column: 'Vehicle_ID' },
    frame: { column: 'Frame_ID' },
    globalTime: { column: 'Global_Time', unit: 'ms' },
    localX: { column: 'Local_X', unit: 'ft' },
    localY: { column: 'Local_Y', unit: 'ft' },
    length: { column: 'v_length', unit: 'ft' },
    width: { column: 'v_Width', unit: 'ft' },
    vClass: { column: 'v_Class' },
    speed: { column: 'v_Vel', unit: 'ft/s' },
    acceleration: { column: 'v_Acc', unit: 'ft/s2' },
    lane: { column: 'Lane_ID' },
    preceding: { column: 'Preceding' },
    spaceHeadway: { column: 'Space_Headway', unit: 'ft' },
    timeHeadway: { column: 'Time_Headway', unit: 's' },
    location: { column: 'Location' },
  },
};
