/** `ppuu eval fm`: forward-model prediction errors at several horizons against baselines, and a picture. */
import type { Command } from 'commander';
import { createProgress } from '../../common/progress.js';
import { InvalidFlag, parseNumber, printJson, say } from '../output.js';
import { group } from '../main.js';

interface Flags {
  model: string;
  data: string;
  split: string;
  horizons: string;
  windows: number;
  batch: number;
  seed: number;
  samples: number;
  frames?: string;
  frameWindows: number;
  backend?: string;
  json?: boolean;
}

function parseHorizons(s: string): number[] {
  const hs = s.split(',').map((x) => Number(x.trim()));
  if (hs.length === 0 || hs.some((h) => !Number.isInteger(h) || h < 1)) throw new InvalidFlag(`--horizons must be positive integers separated by commas, got '${s}'`);
  return hs;
}

export function registerEvalFm(program: Command): void {
  group(program, 'eval', 'evaluate models')
    .command('fm')
    .description('score a forward model\'s autoregressive predictions (image and state MSE at several horizons) against copy-last and constant-velocity baselines')
    .requiredOption('--model <dir>', 'checkpoint folder (or a ppuu train fm --out folder)')
    .requiredOption('--data <dir>', 'episode dataset folder')
    .option('--split <name>', 'train | val | test', 'val')
    .option('--horizons <list>', 'prediction horizons in steps of 0.1 s', '1,5,10,20')
    .option('--windows <n>', 'windows scored (drawn with --seed)', parseNumber('--windows', true, 1), 64)
    .option('--batch <n>', 'windows per forward pass', parseNumber('--batch', true, 1), 16)
    .option('--seed <n>', 'seed of the window draw and the z samples', parseNumber('--seed', true, 0), 1)
    .option('--samples <n>', 'z samples per window for the diversity measure', parseNumber('--samples', true, 2), 2)
    .option('--frames <png>', 'write a grid of real (top) vs predicted (bottom) frames')
    .option('--frame-windows <n>', 'windows shown in --frames', parseNumber('--frame-windows', true, 1), 4)
    .option('--backend <name>', 'tfjs backend (tensorflow-gpu, tensorflow, webgpu, wasm, cpu)')
    .option('--json', 'print the report as one JSON object')
    .action(async (opts: Flags) => {
      if (!['train', 'val', 'test'].includes(opts.split)) throw new InvalidFlag(`--split must be train, val or test, got '${opts.split}'`);
      const horizons = parseHorizons(opts.horizons);
      const { initFmBackend } = await import('../../worldmodel/fm/setup.js');
      const backend = await initFmBackend(opts.backend);
      const { loadFm } = await import('../../worldmodel/fm/checkpoint.js');
      const { openDataset } = await import('../../data/dataset.js');
      const { EpisodeCache } = await import('../../worldmodel/fm/episode-cache.js');
      const { evaluateForwardModel } = await import('../../worldmodel/fm/evaluate.js');
      const { writeFramesPng } = await import('../../worldmodel/fm/frames-png.js');
      const ds = openDataset(opts.data);
      const { model, hparams, dir } = loadFm(opts.model);
      if (ds.channels !== model.cfg.channels) throw new InvalidFlag(`--data has ${ds.channels}-channel images, the model was trained on ${model.cfg.channels}`);
      const bar = createProgress('eval fm', opts.windows, { json: opts.json, unit: 'windows' });
      // The model's own normalisation (from its training data) applies to any dataset it is scored on.
      const report = await evaluateForwardModel(model, new EpisodeCache(ds), hparams.stats, {
        split: opts.split as 'val', horizons, windows: opts.windows, batch: opts.batch, seed: opts.seed, samples: opts.samples,
        frames: opts.frames ? opts.frameWindows : 0, onProgress: (d) => bar.update(d),
      });
      bar.stop();
      if (opts.frames && report.frames) writeFramesPng(opts.frames, report.frames);
      model.dispose();
      const out = { backend: backend.name, model: dir, kind: hparams.kind, preset: hparams.preset, trainedSteps: hparams.steps, ...report, frames: opts.frames ?? null };
      if (opts.json) return printJson(out);
      say(`${hparams.kind} model (${hparams.preset}, ${hparams.steps} steps) on ${report.windows} ${report.split} windows from ${report.episodes} episodes`);
      say('horizon  image MSE (model / copy-last)   state MSE (model / copy-last / const-velocity)   diversity');
      for (const h of report.horizons) {
        say(`${String(h.horizon).padStart(7)}  ${h.image.model.toExponential(3)} / ${h.image.copyLast.toExponential(3)}        ${h.state.model.toExponential(3)} / ${h.state.copyLast.toExponential(3)} / ${h.state.constVelocity.toExponential(3)}          ${h.diversity.toExponential(2)}`);
      }
      if (opts.frames) say(`frames: ${opts.frames} (real on top, predicted below, one column per 0.1 s)`);
    });
}
