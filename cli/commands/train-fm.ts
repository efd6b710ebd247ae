/** `ppuu train fm`: trains the forward (world) model on an episode dataset (worldmodel/fm/train.ts). */
import type { Command } from 'commander';
import { createProgress } from '../../common/progress.js';
import { InvalidFlag, parseNumber, printJson, say } from '../output.js';
import { group } from '../main.js';

interface Flags {
  data: string;
  out: string;
  preset?: string;
  model?: string;
  init?: string;
  encoderInit?: string;
  encoderTile?: string;
  steps?: number;
  batch?: number;
  npred?: number;
  lr?: number;
  seed?: number;
  resume?: boolean;
  checkpointEvery: number;
  workers: number;
  backend?: string;
  json?: boolean;
}

export function registerTrainFm(program: Command): void {
  group(program, 'train', 'train models (forward model, policy)')
    .command('fm')
    .description('train the forward model (deterministic or VAE + dropout) on random windows of an episode dataset')
    .requiredOption('--data <dir>', 'episode dataset folder (ppuu data dump)')
    .requiredOption('--out <dir>', 'output folder: checkpoint/ (model.json, weights.bin, hparams.json, optimizer state) and log.jsonl')
    .option('--preset <name>', 'tiny | small | paper (default small; a resumed run keeps its own)')
    .option('--model <kind>', 'deterministic | vae (default vae; a resumed run keeps its own)')
    .option('--init <dir>', 'warm start from this checkpoint (a deterministic model, for the VAE)')
    .option('--encoder-init <dir>', 'initialise the first convolutions from an EBM conv encoder (ppuu ebm train --kind conv-sparse, --atoms nfeature/4)')
    .option('--encoder-tile <mode>', 'how --encoder-init spreads its one-frame kernel over the context frames: mean | last | repeat (default mean)')
    .option('--steps <n>', 'total updates (default 1000; a resumed run continues up to its own --steps unless given)', parseNumber('--steps', true, 0))
    .option('--batch <n>', 'windows per update (default: the preset\'s)', parseNumber('--batch', true, 1))
    .option('--npred <n>', 'predicted steps per window (default: the preset\'s)', parseNumber('--npred', true, 1))
    .option('--lr <x>', 'Adam learning rate (default 1e-4)', parseNumber('--lr', false, 0))
    .option('--seed <n>', 'random seed (default 1)', parseNumber('--seed', true, 0))
    .option('--resume', 'continue the run in --out from its checkpoint (with its own preset, model, batch, npred, lr, seed)')
    .option('--checkpoint-every <n>', 'steps between checkpoints', parseNumber('--checkpoint-every', true, 1), 1000)
    .option('--workers <n>', 'data-parallel compute threads (1 or 2)', parseNumber('--workers', true, 1), 1)
    .option('--backend <name>', 'tfjs backend (tensorflow-gpu, tensorflow, webgpu, wasm, cpu)')
    .option('--json', 'print the training summary as one JSON object')
    .action(async (opts: Flags) => {
      if (opts.model !== undefined && opts.model !== 'deterministic' && opts.model !== 'vae') throw new InvalidFlag(`--model must be deterministic or vae, got '${opts.model}'`);
      if (opts.workers > 2) throw new InvalidFlag(`--workers must be 1 or 2, got ${opts.workers}`);
      if (opts.encoderTile !== undefined && !['mean', 'last', 'repeat'].includes(opts.encoderTile)) throw new InvalidFlag(`--encoder-tile must be mean, last or repeat, got '${opts.encoderTile}'`);
      if (opts.encoderTile !== undefined && opts.encoderInit === undefined) throw new InvalidFlag('--encoder-tile needs --encoder-init');
      const { fmConfig } = await import('../../worldmodel/fm/config.js');
      if (opts.preset !== undefined) fmConfig(opts.preset); // checks the preset name before any work
      const { initFmBackend } = await import('../../worldmodel/fm/setup.js');
      const backend = await initFmBackend(opts.backend, { training: true });
      // Data-parallel workers are CPU threads sharing gradients through host memory.
      if (opts.workers > 1 && backend.name === 'webgpu') throw new InvalidFlag('--workers 2 splits the batch over CPU threads; on webgpu the whole batch runs on the device (use --workers 1)');
      const { trainForwardModel } = await import('../../worldmodel/fm/train.js');
      const { recordedTargetSteps } = await import('../../worldmodel/fm/checkpoint.js');
      const steps = opts.steps ?? (opts.resume ? recordedTargetSteps(opts.out) : null) ?? 1000;
      const bar = createProgress('train fm', steps, { json: opts.json, unit: 'steps', fields: ['loss', 'stepsPerS'] });
      const log = (line: string) => {
        if (!opts.json) say(line);
      };
      log(`backend: ${backend.name} (${backend.reason})`);
      const summary = await trainForwardModel({
        dataset: opts.data, out: opts.out, preset: opts.preset, kind: opts.model as 'vae' | 'deterministic' | undefined, init: opts.init, steps,
        encoderInit: opts.encoderInit, encoderTile: opts.encoderTile as 'mean' | 'last' | 'repeat' | undefined,
        batch: opts.batch, seed: opts.seed, resume: opts.resume, checkpointEvery: opts.checkpointEvery, workers: opts.workers, backend: opts.backend,
        overrides: { npred: opts.npred, learningRate: opts.lr },
        say: log,
        onStart: (info) => {
          log(`${info.kind} model, preset ${info.preset}: ${info.paramCount.total.toLocaleString('en')} parameters (${info.paramCount.withoutResidual.toLocaleString('en')} without the residual block)`);
          bar.update(info.startStep, { loss: '-', stepsPerS: '-' });
        },
        onStep: (s) => bar.update(s.step, { loss: s.total.toFixed(5), stepsPerS: s.stepsPerS.toFixed(2) }),
      });
      bar.stop();
      if (opts.json) return printJson({ backend: backend.name, ...summary });
      say(`trained steps ${summary.startStep}..${summary.steps} (${summary.secondsPerStep.toFixed(3)} s/step, ${summary.skipped} skipped); loss ${fmt(summary.firstLoss)} -> ${fmt(summary.lastLoss)}`);
      say(`checkpoint: ${summary.checkpoint}`);
    });
}

function fmt(v: number | null): string {
  return v === null ? '-' : v.toFixed(5);
}
