/**
 * `ppuu data synth --map i80 --out DIR`: generates synthetic I-80-like traffic. DIR receives,
 * per slot, the raw NGSIM file trajectories-<slot>.txt and the same data imported as a track
 * store in DIR/<slot>/ (ready for the simulator), plus synth.json describing the run.
 */
import type { Command } from 'commander';
import { createProgress } from '../../common/progress.js';
import { InvalidFlag, parseNumber, printJson, say } from '../output.js';
import { group } from '../main.js';

interface SynthFlags {
  map: string;
  slot: string;
  minutes: number;
  seed: number;
  warmup?: number;
  out: string;
  json?: boolean;
}

export function registerDataSynth(program: Command): void {
  group(program, 'data', 'trajectory data: import, synthetic traffic, realism, datasets')
    .command('synth')
    .description('generate synthetic I-80 traffic: raw NGSIM trajectories-<slot>.txt and a track store <slot>/ per slot in --out')
    .requiredOption('--out <dir>', 'output folder (replaced as a whole, atomically)')
    .option('--map <name>', 'road to simulate (only i80)', 'i80')
    .option('--slot <slot>', '0400-0415 | 0500-0515 | 0515-0530 | all', '0400-0415')
    .option('--minutes <m>', 'recorded minutes per slot (15 is a full slot; 2 is a quick run)', parseNumber('--minutes', false, 0.1), 15)
    .option('--seed <n>', 'random seed (same seed, same bytes)', parseNumber('--seed', true, 0), 1)
    .option('--warmup <s>', 'simulated seconds before recording starts', parseNumber('--warmup', false, 0))
    .option('--json', 'print a summary as one JSON object')
    .action(async (opts: SynthFlags) => {
      if (opts.map !== 'i80') throw new InvalidFlag(`--map: only 'i80' is available, got '${opts.map}'`);
      const { I80_SLOTS, isI80Slot } = await import('../../data/slots.js');
      if (opts.slot !== 'all' && !isI80Slot(opts.slot)) throw new InvalidFlag(`--slot must be one of ${I80_SLOTS.join(', ')} or all, got '${opts.slot}'`);
      const slots = opts.slot === 'all' ? [...I80_SLOTS] : [opts.slot as (typeof I80_SLOTS)[number]];
      const { generateSynthetic, isSyntheticDir } = await import('../../data/synth/generate.js');
      const { assertReplaceableDir } = await import('../../data/track-store.js');
      assertReplaceableDir(opts.out, isSyntheticDir, 'a synthetic-traffic folder');
      const bar = createProgress('synth', slots.length * 100, { json: opts.json, unit: '%', fields: ['slot'] });
      const summary = await generateSynthetic(opts.out, {
        slots,
        minutes: opts.minutes,
        seed: opts.seed,
        warmupS: opts.warmup,
        onProgress: (slot, done, total) => bar.update(slots.indexOf(slot) * 100 + Math.round((100 * done) / total), { slot }),
      });
      bar.stop();
      if (opts.json) return printJson({ out: opts.out, ...summary });
      for (const s of summary.slots) {
        say(`${opts.out}/${s.file}: ${s.rows} rows, ${s.vehicles} vehicles, ${s.frames} frames (${s.simulateS} s to simulate); track store ${opts.out}/${s.store}/`);
      }
    });
}
