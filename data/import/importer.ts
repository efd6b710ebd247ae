/**
 * Imports trajectory files (raw NGSIM txt, the NGSIM portal CSV, or any CSV with a column
 * mapping) into one TrackStore: sniffs each file (empty, binary, format), streams its rows
 * through the matching reader, validates them, groups them by vehicle and frame, applies the
 * per-slot black list (I-80), and summarises what was read, kept and skipped and why.
 * Nothing is written here: the caller writes the store (atomically) only once all is well.
 */
import { UserError } from '../../common/errors.js';
import { blackList, inSlot, slotsOf, mapFromLocation, mapFromSlot, slotFromFileName, utcOffsetHours } from '../slots.js';
import type { MapName, TrackStore, VehicleTrack } from '../tracks.js';
import { ppuuVersion } from '../version.js';
import { readMappedCsv } from './csv-reader.js';
import { RowIssues } from './issues.js';
import { loadMapping, NGSIM_CSV_MAPPING, type Mapping } from './mapping.js';
import { readNgsimTxt } from './ngsim-txt.js';
import type { ReadContext } from './read-context.js';
import type { BadRowReason, TrajectoryRow } from './row.js';
import { detectFormat, sniff, type ImportFormat } from './sniff.js';
import { TrackBuilder } from './track-builder.js';
import { DT_S, NGSIM_FPS } from '../layout.js';

export interface ImportOptions {
  /** Format of every file; detected per file when absent. */
  format?: ImportFormat;
  /** Column-mapping file (implies format 'mapped'). */
  mapping?: string;
  /** Keep only rows of this site (files with a location column) and name the store's map. */
  location?: string;
  /** Recording slot ('0400-0415'); found from file names or the mapping when absent. */
  slot?: string;
  /** Stop at the first bad row instead of skipping and counting it. */
  strict?: boolean;
  /** Drop the black-listed vehicles of the slot (default true). */
  blackList?: boolean;
  /** Called as bytes are read, with the total over all files. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

export interface ImportSummary {
  files: string[];
  formats: ImportFormat[];
  map: MapName;
  slot: string | null;
  rowsRead: number;
  rowsKept: number;
  badRows: Record<BadRowReason, number>;
  duplicatesDropped: number;
  rowsFiltered: { location: number; slot: number; blackList: number };
  blackListedVehicles: number[];
  outOfOrderRows: number;
  gaps: { vehicles: number; missingFrames: number };
  vehicles: number;
  frames: number;
  firstFrame: number | null;
  lastFrame: number | null;
  lanes: number[];
  timeSpanS: number;
  /** Things the user should know that did not stop the import. */
  warnings: string[];
  /** The first few skipped-row messages ("FILE:LINE: field NAME: what is wrong"). */
  examples: string[];
}

/** Which known recording slot of `map` a clock time falls in, or null. */
function clockSlot(map: MapName, globalTimeMs: number): string | null {
  for (const s of slotsOf(map)) if (inSlot(globalTimeMs, s, utcOffsetHours(map))) return s;
  return null;
}

/** Names a list of files in a message without flooding the line. */
function nameFiles(files: string[]): string {
  return files.length <= 2 ? files.join(', ') : `${files[0]} and ${files.length - 1} more files`;
}

export async function importTrajectories(files: string[], opts: ImportOptions = {}): Promise<{ store: TrackStore; summary: ImportSummary }> {
  if (files.length === 0) throw new UserError('no input files');
  if (opts.format === 'mapped' && !opts.mapping) throw new UserError('--format mapped needs --mapping FILE');
  const mapping: Mapping | null = opts.mapping ? loadMapping(opts.mapping) : null;
  const sniffed = files.map((f) => ({ file: f, ...sniff(f) }));
  const formats: ImportFormat[] = sniffed.map((s) => {
    const f = opts.format ?? (mapping ? 'mapped' : detectFormat(s.firstLine));
    if (!f) {
      throw new UserError(`${s.file}:1: cannot tell the format from '${s.firstLine.slice(0, 60)}'; give --format ngsim-txt|ngsim-csv, or --mapping FILE`);
    }
    return f;
  });

  // Slot: the flag, else the mapping, else the file names (all files must agree).
  let slot: string | null = opts.slot ?? mapping?.slot ?? null;
  if (!slot) {
    const fromNames = new Set(sniffed.map((s, i) => (formats[i] === 'ngsim-txt' ? slotFromFileName(s.file) : null)).filter((x) => x !== null));
    if (fromNames.size > 1) throw new UserError(`files of different slots (${[...fromNames].join(', ')}): import each slot into its own store`);
    slot = fromNames.size === 1 ? [...fromNames][0]! : null;
  }
  const location = opts.location ?? null;

  const issues = new RowIssues(opts.strict ?? false);
  const builder = new TrackBuilder();
  const counts = { rowsRead: 0, filteredLocation: 0, locationsSeen: new Set<string>() };
  let filteredSlot = 0;
  const clockSlots = new Set<string>();
  // The site whose clock and slots apply to Global_Time (known up front only from a flag or mapping).
  const clockMap: MapName = location ? mapFromLocation(location) : mapping?.location ? mapFromLocation(mapping.location) : 'unknown';
  const offset = utcOffsetHours(clockMap);
  const bytesTotal = sniffed.reduce((s, f) => s + f.sizeBytes, 0);
  let bytesBefore = 0;

  for (let k = 0; k < sniffed.length; k++) {
    const file = sniffed[k]!.file;
    const fileIdx = builder.addFile(file);
    const format = formats[k]!;
    const bySlotClock = format !== 'ngsim-txt';
    const ctx: ReadContext = {
      file,
      issues,
      location,
      counts,
      onBytes: (b) => opts.onProgress?.(bytesBefore + b, bytesTotal),
      onRow: (r: TrajectoryRow, line: number) => {
        if (bySlotClock && !Number.isNaN(r.globalTimeMs)) {
          if (opts.slot) {
            if (!inSlot(r.globalTimeMs, opts.slot, offset)) {
              filteredSlot++;
              return;
            }
          } else {
            const s = clockSlot(clockMap, r.globalTimeMs);
            if (s) clockSlots.add(s);
          }
        }
        builder.add(r, fileIdx, line);
      },
    };
    if (format === 'ngsim-txt') await readNgsimTxt(ctx);
    else if (format === 'ngsim-csv') await readMappedCsv(ctx, NGSIM_CSV_MAPPING, 'the NGSIM CSV export layout');
    else await readMappedCsv(ctx, mapping!, opts.mapping!);
    bytesBefore += sniffed[k]!.sizeBytes;
  }

  if (!location && counts.locationsSeen.size > 1) {
    throw new UserError(`${nameFiles(files)}: rows from several locations (${[...counts.locationsSeen].join(', ')}); choose one with --location NAME`);
  }
  const warnings: string[] = [];
  if (!opts.slot && clockSlots.size > 1) {
    warnings.push(`rows from several recording slots (${[...clockSlots].sort().join(', ')}); vehicle ids restart in each slot, so use --slot to import one`);
  }
  if (!slot && clockSlots.size === 1) slot = [...clockSlots][0]!;

  const map: MapName = location
    ? mapFromLocation(location)
    : mapping?.location
      ? mapFromLocation(mapping.location)
      : counts.locationsSeen.size === 1
        ? mapFromLocation([...counts.locationsSeen][0]!)
        : (mapFromSlot(slot) ?? 'unknown');

  const { vehicles: all, stats } = builder.finish(issues);
  if (stats.gaps.vehicles > 0) warnings.push(`${stats.gaps.vehicles} vehicles have gaps in their frames (${stats.gaps.missingFrames} frames missing); their rows are kept as they are`);
  const banned = opts.blackList === false ? new Set<number>() : blackList(map, slot);
  const blackListedVehicles: number[] = [];
  let filteredBlack = 0;
  const vehicles = all.filter((v) => {
    if (!banned.has(v.vehicleId)) return true;
    blackListedVehicles.push(v.vehicleId);
    filteredBlack += v.frames.length;
    return false;
  });

  if (vehicles.length === 0) {
    const why = [
      issues.total() > 0 ? `${issues.total()} bad rows` : '',
      counts.filteredLocation > 0 ? `${counts.filteredLocation} rows of other locations` : '',
      filteredSlot > 0 ? `${filteredSlot} rows outside slot ${opts.slot}` : '',
      filteredBlack > 0 ? `${filteredBlack} rows of black-listed vehicles` : '',
    ].filter((x) => x !== '');
    throw new UserError(`${nameFiles(files)}: no trajectory rows kept of ${counts.rowsRead} read${why.length ? ` (${why.join(', ')})` : ''}; nothing to import`);
  }
  const implausible = unitProblems(vehicles);
  if (implausible) {
    if (opts.strict) throw new UserError(`${nameFiles(files)}: ${implausible} (--strict)`);
    warnings.push(implausible);
  }

  let rowsKept = 0;
  let firstFrame = Infinity;
  let lastFrame = -Infinity;
  const frameSet = new Set<number>();
  const laneSet = new Set<number>();
  for (const v of vehicles) {
    rowsKept += v.frames.length;
    firstFrame = Math.min(firstFrame, v.frames[0]!);
    lastFrame = Math.max(lastFrame, v.frames[v.frames.length - 1]!);
    for (const f of v.frames) frameSet.add(f);
    for (const l of v.lane) laneSet.add(l);
  }
  const fps = mapping?.frameRateHz ?? NGSIM_FPS;
  if (fps !== NGSIM_FPS) warnings.push(`frames are at ${fps} Hz; track stores are read as ${NGSIM_FPS} Hz (one frame = ${DT_S} s)`);
  const summary: ImportSummary = {
    files,
    formats,
    map,
    slot,
    rowsRead: counts.rowsRead,
    rowsKept,
    badRows: { ...issues.counts },
    duplicatesDropped: stats.duplicatesDropped,
    rowsFiltered: { location: counts.filteredLocation, slot: filteredSlot, blackList: filteredBlack },
    blackListedVehicles: blackListedVehicles.sort((a, b) => a - b),
    outOfOrderRows: stats.outOfOrderRows,
    gaps: stats.gaps,
    vehicles: vehicles.length,
    frames: frameSet.size,
    firstFrame: vehicles.length ? firstFrame : null,
    lastFrame: vehicles.length ? lastFrame : null,
    lanes: [...laneSet].sort((a, b) => a - b),
    timeSpanS: vehicles.length ? (lastFrame - firstFrame) / fps : 0,
    warnings,
    examples: issues.examples,
  };
  const store: TrackStore = {
    manifest: {
      format: 'ppuu-tracks',
      version: 1,
      map,
      slot,
      sources: files.map((f, i) => ({ file: f, format: formats[i]! })),
      summary: summary as unknown as Record<string, unknown>,
      writtenBy: ppuuVersion(),
      vehicles: [],
    },
    vehicles,
  };
  return { store, summary };
}

function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** Plausible ranges of a highway's figures in metres and seconds, after the unit conversion. */
const PLAUSIBLE = { speedMps: [0.5, 45], lengthM: [2, 12], laneWidthM: [2.4, 5.5] } as const;

/**
 * Checks the converted values against plausible highway figures (median vehicle speed, length,
 * and lane width from the lanes' median lateral positions); returns a sentence naming what is
 * off and the likely cause (a unit declared wrongly), or null when all is plausible.
 */
export function unitProblems(vehicles: VehicleTrack[]): string | null {
  const speed = median(vehicles.map((v) => median(Array.from(v.speedMps))));
  const length = median(vehicles.map((v) => v.lengthM));
  const byLane = new Map<number, number[]>();
  for (const v of vehicles) {
    for (let i = 0; i < v.lane.length; i += 10) {
      const l = v.lane[i]!;
      if (l <= 0) continue;
      let a = byLane.get(l);
      if (!a) byLane.set(l, (a = []));
      a.push(v.localXM[i]!);
    }
  }
  const lanes = [...byLane.keys()].sort((a, b) => a - b);
  const steps: number[] = [];
  for (let k = 1; k < lanes.length; k++) {
    if (lanes[k]! - lanes[k - 1]! !== 1) continue;
    steps.push(Math.abs(median(byLane.get(lanes[k]!)!) - median(byLane.get(lanes[k - 1]!)!)));
  }
  const laneWidth = median(steps);
  const off: string[] = [];
  let high = 0;
  let low = 0;
  const check = (name: string, v: number, [lo, hi]: readonly [number, number], unit: string) => {
    if (!Number.isFinite(v) || (v >= lo && v <= hi)) return;
    off.push(`median ${name} ${v.toFixed(1)} ${unit} (plausible ${lo}-${hi})`);
    if (v > hi) high++;
    else low++;
  };
  check('speed', speed, PLAUSIBLE.speedMps, 'm/s');
  check('vehicle length', length, PLAUSIBLE.lengthM, 'm');
  check('lane width', laneWidth, PLAUSIBLE.laneWidthM, 'm');
  if (off.length === 0) return null;
  const cause = high > 0 && low === 0 ? 'values in feet read as metres (a mapping unit or factor?)' : low > 0 && high === 0 ? 'values in metres read as feet, or km/h and m/s mixed up (a mapping unit or factor?)' : 'a unit declared wrongly in the mapping';
  return `implausible values after unit conversion: ${off.join(', ')}; likely cause: ${cause}`;
}
