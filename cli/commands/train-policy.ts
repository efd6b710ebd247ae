/** `ppuu train policy`: trains a driving policy through a frozen forward model (MPUR) or a baseline (policy/mpur.ts). */
import type { Command } from 'commander';
import { createProgress } from '../../common/progress.js';
import { InvalidFlag, parseNumber, printJson, say } from '../output.js';
import { group } from '../main.js';
import type { LrDecay, PolicyView } from '../../policy/config.js';

interface Flags {
  model?: string;
  data: string;
  out: string;
  method?: string;
  preset?: string;
  stochastic?: boolean;
  npred?: number;
  lambdaU?: number;
  lambdaL?: number;
  lambdaO?: number;
  lambdaF?: number;
  lambdaA?: number;
  view?: string;
  lambdaJ?: number;
  ema?: number;
  gradClip?: number;
  lrDecay?: string;
  future?: string;
  k?: number;
  uBatches?: number;
  steps?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  resume?: boolean;
  encoderInit?: string;
  encoderTile?: string;
  init?: string;
  worldReuse?: number;
  worldPool?: number;
  uStride?: number;
  uRows?: number;
  checkpointEvery: number;
  snapshotEvery?: number;
  backend?: string;
  json?: boolean;
}

export function registerTrainPolicy(program: Command): void {
  group(program, 'train', 'train models (forward model, policy)')
    .command('policy')
    .description('train a driving policy by back-propagating costs through imagined rollouts of a frozen forward model (MPUR), or a baseline (vg, svg, il, mper)')
    .option('--model <dir>', 'forward-model checkpoint or training folder (ppuu train fm); optional for --method il')
    .requiredOption('--data <dir>', 'episode dataset folder (ppuu data dump): real context windows')
    .requiredOption('--out <dir>', 'output folder: checkpoint/policy (the policy), checkpoint/optimizer, log.jsonl')
    .option('--method <name>', 'mpur | vg (deterministic model, no uncertainty) | svg (stochastic model, no uncertainty) | il (1-step imitation) | mper (match the expert trajectory) | mpur-km / vg-km (kinematic ego, costs moved over the frames; with / without uncertainty) (default mpur)')
    .option('--future <src>', "km methods: the frames the ego drives through: model-logged (the forward model unrolled with the logged actions: it predicts the world around the expert; default) | model (unrolled with the policy's actions and the kinematic states) | real (the logged future: the upper bound; no --model needed for vg-km)")
    .option('--preset <name>', 'tiny | small | paper (default: the forward model\'s preset)')
    .option('--stochastic', 'policy outputs a mean and a log-variance (sampled in training, its mean drives)')
    .option('--npred <n>', 'steps the model is unrolled (default: the preset\'s: 4 / 10 / 20)', parseNumber('--npred', true, 1))
    .option('--lambda-u <x>', 'weight of the uncertainty term (default 0.5; 0 for vg and svg; mpur-km: 0.01 on the tiny and small presets)', parseNumber('--lambda-u', false, 0))
    .option('--lambda-l <x>', 'weight of the lane cost (default 0.2)', parseNumber('--lambda-l', false, 0))
    .option('--lambda-o <x>', 'weight of the off-road cost (default 0; needs 4-channel images)', parseNumber('--lambda-o', false, 0))
    .option('--lambda-f <x>', 'km methods: weight of the keep-in-frame term (default 1)', parseNumber('--lambda-f', false, 0))
    .option('--lambda-a <x>', 'km methods: weight of the action-size term, mean squared norm of the normalised action (default 0)', parseNumber('--lambda-a', false, 0))
    .option('--lambda-j <x>', 'km methods: weight of the jerk term, mean squared norm of the change of the normalised action between imagined steps (default 0)', parseNumber('--lambda-j', false, 0))
    .option('--view <frames>', "km methods: the frames the policy reads: reference (as the world gives them, centred on the expert's pose) | ego (resampled to the kinematic ego's view, as the simulator shows them) (default reference)")
    .option('--ema <decay>', "keep an exponential moving average of the weights with this decay (e.g. 0.998) as the run's policy; the optimiser's own weights go to checkpoint/policy-raw (default 0: off)", parseNumber('--ema', false, 0))
    .option('--k <n>', 'dropout copies for the uncertainty (default: the preset\'s: 4 / 10 / 10; km methods 2 / 10 / 10)', parseNumber('--k', true, 2))
    .option('--u-batches <n>', 'batches measuring the uncertainty statistics (default: 4 / 20 / 50)', parseNumber('--u-batches', true, 1))
    .option('--steps <n>', 'total updates (default 1000; a resumed run continues up to its own --steps unless given)', parseNumber('--steps', true, 0))
    .option('--batch <n>', 'windows per update (default: the preset\'s: 4 / 6 / 6)', parseNumber('--batch', true, 1))
    .option('--lr <x>', 'Adam learning rate (default 1e-4)', parseNumber('--lr', false, 0))
    .option('--lr-decay <kind>', 'learning-rate schedule over the --steps updates: none | cosine (to 0 at the last update) (default none)')
    .option('--grad-clip <x>', 'clip of the gradient norm of each update (default 50)', parseNumber('--grad-clip', false, 0))
    .option('--seed <n>', 'random seed (default 1)', parseNumber('--seed', true, 0))
    .option('--resume', 'continue the run in --out from its checkpoint (with its own settings)')
    .option('--encoder-init <dir>', 'initialise the first convolution from an EBM conv encoder (ppuu ebm train --kind conv-sparse, --atoms nfeature/4)')
    .option('--encoder-tile <mode>', 'how --encoder-init spreads its one-frame kernel over the context frames: mean | last | repeat (default mean)')
    .option('--u-stride <n>', "mpur-km: every n-th imagined step carries the uncertainty term (default: the preset's, 4 / 2 / 1 for tiny / small / paper)", parseNumber('--u-stride', true, 1))
    .option('--u-rows <n>', "mpur-km: the first n windows of each batch carry the uncertainty term (default: every window)", parseNumber('--u-rows', true, 1))
    .option('--world-reuse <n>', "km methods through model-logged: updates each imagined window serves on average (default: the preset's, 4 for tiny and small; 1: a fresh unroll per update)", parseNumber('--world-reuse', true, 1))
    .option('--world-pool <n>', "km methods through model-logged: imagined batches held at once (default: the preset's, 16 for tiny and small)", parseNumber('--world-pool', true, 1))
    .option('--init <dir>', 'start from the weights of a trained policy with the same network (a checkpoint or run folder, e.g. an il run); fresh optimiser, step 0')
    .option('--checkpoint-every <n>', 'steps between checkpoints', parseNumber('--checkpoint-every', true, 1), 1000)
    .option('--snapshot-every <n>', 'keep a copy of the policy every n updates in OUT/snapshots/step-N (default: none)', parseNumber('--snapshot-every', true, 1))
    .option('--backend <name>', 'tfjs backend (tensorflow-gpu, tensorflow, webgpu, wasm, cpu)')
    .option('--json', 'print the training summary as one JSON object')
    .action(async (opts: Flags) => {
      const { checkMethod, checkPreset } = await import('../../policy/config.js');
      const { UserError } = await import('../../common/errors.js');
      const check = (f: () => unknown) => {
        try {
          f();
        } catch (e) {
          if (e instanceof UserError) throw new InvalidFlag(e.message.replace(/^field (\w+)/, '--$1'));
          throw e;
        }
      };
      if (opts.method !== undefined) check(() => checkMethod(opts.method!));
      if (opts.preset !== undefined) check(() => checkPreset(opts.preset!));
      if (opts.lr === 0) throw new InvalidFlag('--lr must be > 0');
      if (opts.future !== undefined && !['model', 'model-logged', 'real'].includes(opts.future)) throw new InvalidFlag(`--future must be model, model-logged or real, got '${opts.future}'`);
      if (opts.encoderTile !== undefined && !['mean', 'last', 'repeat'].includes(opts.encoderTile)) throw new InvalidFlag(`--encoder-tile must be mean, last or repeat, got '${opts.encoderTile}'`);
      if (opts.encoderTile !== undefined && opts.encoderInit === undefined) throw new InvalidFlag('--encoder-tile needs --encoder-init');
      const { initFmBackend } = await import('../../worldmodel/fm/setup.js');
      const backend = await initFmBackend(opts.backend, { training: true });
      const { trainPolicy } = await import('../../policy/mpur.js');
      const { recordedTargetSteps } = await import('../../policy/checkpoint.js');
      const steps = opts.steps ?? (opts.resume ? recordedTargetSteps(opts.out) : null) ?? 1000;
      const log = (line: string) => {
        if (!opts.json) say(line);
      };
      log(`backend: ${backend.name} (${backend.reason})`);
      const uBar = { bar: null as ReturnType<typeof createProgress> | null };
      const bar = { bar: null as ReturnType<typeof createProgress> | null };
      const summary = await trainPolicy({
        model: opts.model, dataset: opts.data, out: opts.out, method: opts.method as 'mpur' | undefined, preset: opts.preset,
        stochastic: opts.stochastic, steps, seed: opts.seed, resume: opts.resume, checkpointEvery: opts.checkpointEvery, snapshotEvery: opts.snapshotEvery,
        encoderInit: opts.encoderInit, encoderTile: opts.encoderTile as 'mean' | 'last' | 'repeat' | undefined, init: opts.init,
        overrides: { npred: opts.npred, batch: opts.batch, learningRate: opts.lr, lambdaU: opts.lambdaU, lambdaL: opts.lambdaL, lambdaO: opts.lambdaO, lambdaF: opts.lambdaF, lambdaA: opts.lambdaA, lambdaJ: opts.lambdaJ, view: opts.view as PolicyView | undefined, ema: opts.ema, gradClip: opts.gradClip, lrDecay: opts.lrDecay as LrDecay | undefined, future: opts.future as 'model' | 'model-logged' | 'real' | undefined, k: opts.k, uBatches: opts.uBatches, worldReuse: opts.worldReuse, worldPool: opts.worldPool, uStride: opts.uStride, uRows: opts.uRows },
        say: log,
        onUStats: (done, total) => {
          uBar.bar ??= createProgress('uncertainty stats', total, { json: opts.json, unit: 'batches' });
          uBar.bar.update(done);
          if (done === total) uBar.bar.stop();
        },
        onStart: (info) => {
          log(`${info.method} policy, preset ${info.preset}: ${info.paramCount.toLocaleString('en')} parameters; npred ${info.train.npred}, batch ${info.train.batch}, lambda_u ${info.train.lambdaU}, lambda_l ${info.train.lambdaL}, lambda_o ${info.train.lambdaO}${info.train.lambdaA ? `, lambda_a ${info.train.lambdaA}` : ''}${info.train.lambdaJ ? `, lambda_j ${info.train.lambdaJ}` : ''}${info.train.ema ? `, weight average ${info.train.ema}` : ''}${info.train.view === 'ego' ? ', ego view' : ''}${info.train.future === 'real' ? ', real future' : ''}, lr ${info.train.learningRate}`);
          bar.bar = createProgress('train policy', steps, { json: opts.json, unit: 'steps', fields: ['loss', 'stepsPerS'] });
          bar.bar.update(info.startStep, { loss: '-', stepsPerS: '-' });
        },
        onStep: (s) => bar.bar?.update(s.step, { loss: s.total.toFixed(4), stepsPerS: s.stepsPerS.toFixed(2) }),
      });
      bar.bar?.stop();
      if (opts.json) return printJson({ backend: backend.name, ...summary });
      const fmt = (v: number | null) => (v === null ? '-' : v.toFixed(4));
      say(`trained steps ${summary.startStep}..${summary.steps} (${summary.secondsPerStep.toFixed(3)} s/step, ${summary.skipped} skipped); loss ${fmt(summary.meanLossHead)} (first 10 %) -> ${fmt(summary.meanLossTail)} (last 10 %)`);
      say(`policy: ${summary.policy} (evaluate with: ppuu eval --data ${opts.data} --policy ${opts.out})`);
    });
}
