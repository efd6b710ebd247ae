/**
 * Generates synthetic I-80 traffic for one or more slots and writes, into one output folder
 * (atomically, replacing it as a whole):
 *   trajectories-<slot>.txt   raw NGSIM format (what the real files look like)
 *   <slot>/                   the same trajectories imported as a track store (data/tracks.ts)
 *   synth.json                what was generated: seed, minutes, per-slot counts and simulation stats
 * Each slot runs a warm-up (not recorded) before its recorded minutes. A slot's traffic depends
 * only on the seed, the slot and the minutes (not on which other slots are generated with it).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { writeDirAtomic } from '../../common/atomic.js';
import { yieldToSignals } from '../../common/interrupt.js';
import { Rng } from '../../common/rng.js';
import { importTrajectories, type ImportSummary } from '../import/importer.js';
import { I80_SLOTS, type I80Slot } from '../slots.js';
import { writeTrackStore } from '../track-store.js';
import { ppuuVersion } from '../version.js';
import { NgsimRecorder, type RecordedSummary } from './ngsim-recorder.js';
import { SLOT_SCENARIOS } from './slot-scenarios.js';
import { DT_S } from '../layout.js';
import { TrafficSim, type SimStats } from './traffic-sim.js';

export const SYNTH_MANIFEST = 'synth.json';
export const DEFAULT_WARMUP_S = 180;

export interface SlotResult extends RecordedSummary {
  slot: I80Slot;
  file: string;
  store: string;
  sim: SimStats;
  simulateS: number;
}

export interface SynthSummary {
  format: 'ppuu-synth';
  version: 1;
  map: 'i80';
  seed: number;
  minutes: number;
  warmupS: number;
  slots: SlotResult[];
  writtenBy: string;
}

/** The file name of a slot's raw trajectories. */
export function trajectoryFileName(slot: string): string {
  return `trajectories-${slot}.txt`;
}

/** Seed of one slot's simulation, from the user's seed and the slot's place among the I-80 slots. */
export function slotSeed(seed: number, slot: I80Slot): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) + (I80_SLOTS.indexOf(slot) + 1) * 0x85ebca6b) >>> 0;
}

/**
 * Simulates one slot and writes its raw NGSIM file to `path`. `onProgress` gets the simulated
 * seconds done (warm-up included) and the total.
 */
export function simulateSlot(slot: I80Slot, path: string, opts: SimulateOptions): { recorded: RecordedSummary; sim: SimStats } {
  const run = slotRun(slot, path, opts);
  for (let r = run.next(); ; r = run.next()) if (r.done) return r.value;
}

/** simulateSlot that lets the event loop run every 100 steps (so that a signal is handled promptly). */
export async function simulateSlotYielding(slot: I80Slot, path: string, opts: SimulateOptions): Promise<{ recorded: RecordedSummary; sim: SimStats }> {
  const run = slotRun(slot, path, opts);
  for (let r = run.next(); ; r = run.next()) {
    if (r.done) return r.value;
    await yieldToSignals();
  }
}

export interface SimulateOptions {
  minutes: number;
  seed: number;
  warmupS?: number;
  onProgress?: (doneS: number, totalS: number) => void;
}

/** The simulation of one slot, pausing (yield) every 100 steps; returns what simulateSlot returns. */
function* slotRun(slot: I80Slot, path: string, opts: SimulateOptions): Generator<void, { recorded: RecordedSummary; sim: SimStats }> {
  const sc = SLOT_SCENARIOS[slot];
  const warmupS = opts.warmupS ?? DEFAULT_WARMUP_S;
  const sim = new TrafficSim(sc, new Rng(slotSeed(opts.seed, slot)), -warmupS);
  const rec = new NgsimRecorder();
  const warmSteps = Math.round(warmupS / DT_S);
  const steps = Math.round((opts.minutes * 60) / DT_S);
  const total = warmSteps + steps;
  for (let k = 0; k < total; k++) {
    sim.step();
    if (k >= warmSteps) rec.record(k - warmSteps + 1, sim.vehicles);
    if (k % 100 === 0) {
      opts.onProgress?.(k * DT_S, total * DT_S);
      yield;
    }
  }
  const recorded = rec.write(path, sc.startMs);
  return { recorded, sim: { ...sim.stats } };
}

export interface GenerateOptions {
  slots: I80Slot[];
  minutes: number;
  seed: number;
  warmupS?: number;
  onProgress?: (slot: I80Slot, doneS: number, totalS: number) => void;
  /** The folder the output will be read from, recorded in the track stores' sources (default: outDir; a caller that moves the folder after writing names its destination). */
  recordDir?: string;
}

/** Writes the synthetic folder `outDir` (see the top of this file). */
export async function generateSynthetic(outDir: string, opts: GenerateOptions): Promise<SynthSummary> {
  const recordDir = opts.recordDir ?? outDir;
  return writeDirAtomic(outDir, async (tmp) => {
    const results: SlotResult[] = [];
    for (const slot of opts.slots) {
      const name = trajectoryFileName(slot);
      const t0 = performance.now();
      const { recorded, sim } = await simulateSlotYielding(slot, join(tmp, name), {
        minutes: opts.minutes,
        seed: opts.seed,
        warmupS: opts.warmupS,
        onProgress: opts.onProgress ? (d, t) => opts.onProgress!(slot, d, t) : undefined,
      });
      const simulateS = (performance.now() - t0) / 1000;
      const { store } = await importTrajectories([join(tmp, name)], { format: 'ngsim-txt', slot, blackList: false, strict: true });
      const finalTxt = join(recordDir, name);
      store.manifest.sources = [{ file: finalTxt, format: 'ngsim-txt' }];
      const summary = store.manifest.summary as unknown as ImportSummary & { synthetic: unknown };
      summary.files = [finalTxt];
      summary.synthetic = { seed: opts.seed, slot, minutes: opts.minutes };
      await writeTrackStore(join(tmp, slot), store);
      results.push({ slot, file: name, store: slot, ...recorded, sim, simulateS: Math.round(simulateS * 100) / 100 });
    }
    const summary: SynthSummary = {
      format: 'ppuu-synth',
      version: 1,
      map: 'i80',
      seed: opts.seed,
      minutes: opts.minutes,
      warmupS: opts.warmupS ?? DEFAULT_WARMUP_S,
      slots: results,
      writtenBy: ppuuVersion(),
    };
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(tmp, SYNTH_MANIFEST), JSON.stringify(summary, null, 1) + '\n');
    return summary;
  });
}

/** True when `dir` holds a synthetic folder written by generateSynthetic. */
export function isSyntheticDir(dir: string): boolean {
  return existsSync(join(dir, SYNTH_MANIFEST));
}
