/**
 * Synthetic-traffic speed: one I-80 slot of `--minutes` (default 15) recorded minutes after the
 * warm-up, simulated on one core, then written as raw NGSIM text (timed apart), against the
 * target of 15 minutes in under 60 s. Baseline measured in the same run: the same simulation with
 * lane changes, the ramp and recording left out would not be the same traffic, so the reference
 * is real time (900 s for a full slot): the report gives the speed-up over it. Where the real
 * sample is present, also the realism report's largest relative error for this run.
 *
 *   npm run bench -- synth [--slot 0400-0415] [--minutes 15] [--seed 1]
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Rng } from '../common/rng.js';
import { realismReport } from '../data/realism.js';
import { isI80Slot } from '../data/slots.js';
import { DEFAULT_WARMUP_S, slotSeed } from '../data/synth/generate.js';
import { NgsimRecorder } from '../data/synth/ngsim-recorder.js';
import { SLOT_SCENARIOS } from '../data/synth/slot-scenarios.js';
import { DT_S } from '../data/layout.js';
import { TrafficSim } from '../data/synth/traffic-sim.js';

function flag(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? dflt : process.argv[i + 1]!;
}
const slot = flag('slot', '0400-0415');
if (!isI80Slot(slot)) throw new Error(`--slot ${slot}: not an I-80 slot`);
const minutes = Number(flag('minutes', '15'));
const seed = Number(flag('seed', '1'));

const tmp = mkdtempSync(join(tmpdir(), 'ppuu-bench-synth-'));
try {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const sim = new TrafficSim(SLOT_SCENARIOS[slot], new Rng(slotSeed(seed, slot)), -DEFAULT_WARMUP_S);
  const rec = new NgsimRecorder();
  const warm = Math.round(DEFAULT_WARMUP_S / DT_S);
  const steps = Math.round((minutes * 60) / DT_S);
  for (let k = 0; k < warm + steps; k++) {
    sim.step();
    if (k >= warm) rec.record(k - warm + 1, sim.vehicles);
  }
  const simulateS = (performance.now() - t0) / 1000;
  const file = join(tmp, `trajectories-${slot}.txt`);
  const w0 = performance.now();
  const recorded = rec.write(file, SLOT_SCENARIOS[slot].startMs);
  const writeS = (performance.now() - w0) / 1000;
  const cpu = process.cpuUsage(c0);
  const totalS = simulateS + writeS;

  const real = resolve(process.cwd(), '../shared/data/ngsim/i80-carfollowing-0400-0415.csv');
  let realism: number | null = null;
  if (slot === '0400-0415' && existsSync(real)) {
    realism = (await realismReport({ real, mapping: 'data/mappings/i80-carfollowing.json', synthetic: file })).maxAbsRelErr;
  }
  const round = (x: number) => Math.round(x * 100) / 100;
  process.stdout.write(
    JSON.stringify({
      bench: 'synth',
      slot,
      minutes,
      seed,
      warmupS: DEFAULT_WARMUP_S,
      rows: recorded.rows,
      vehicles: recorded.vehicles,
      megabytes: Math.round(statSync(file).size / 1e5) / 10,
      simulateS: round(simulateS),
      writeS: round(writeS),
      totalS: round(totalS),
      cpuS: round((cpu.user + cpu.system) / 1e6),
      baseline: { what: 'real time of the recorded minutes', seconds: minutes * 60 },
      speedupVsRealTime: round((minutes * 60) / totalS),
      targetS: (60 * minutes) / 15,
      meetsTarget: totalS < (60 * minutes) / 15,
      sim: sim.stats,
      realismMaxAbsRelErr: realism,
    }) + '\n',
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
