/**
 * Forward-model training: random windows of ncond + npred frames from the training episodes
 * (built ahead of the compute in a worker thread), Adam with gradient-norm clipping on this
 * thread or data-parallel workers, and exact resumption (batches, dropout masks and z draws are
 * functions of the seed and the step). The step loop (non-finite batches skipped, a checkpoint
 * every N steps and at the end, the JSON-lines log, interrupts) is worldmodel/train-loop.ts.
 *
 * OUT/checkpoint/   the latest checkpoint (checkpoint.ts)
 * OUT/log.jsonl     one JSON object per step: step, loss, image, state, kl, gradNorm, skipped,
 *                   zDropped (steps whose z came from the prior), ms, stepsPerS
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UserError } from '../../common/errors.js';
import { checkRunFolder, withRunCleanup } from '../run-folder.js';
import { newLog, openBatchLoader, runTrainLoop, truncateLog } from '../train-loop.js';
import { openDataset } from '../../data/dataset.js';
import { fmConfig, type FmConfig, type FmKind } from './config.js';
import { ForwardModel } from './model.js';
import { Adam } from './adam.js';
import { FmNoise } from './noise.js';
import { trainStep, type StepStats } from './train-step.js';
import { DataParallelTrainer } from './data-parallel.js';
import type { WindowBatch } from './windows.js';
import type { BatchSpec } from './batches.js';
import { EpisodeCache } from './episode-cache.js';
import { checkpointDir, copySharedWeights, loadFm, loadTraining, readHparams, saveFm, type FmHparams, type TrainState } from './checkpoint.js';
import { applyEncoderInit, type EncoderInitRecord, type TileMode } from './ebm-init.js';

export interface TrainOptions {
  dataset: string;
  out: string;
  preset?: string;
  kind?: FmKind;
  /** Warm start: copy matching weights from this checkpoint (a deterministic model for the VAE). */
  init?: string;
  /** EBM model folder whose conv encoder initialises the first convolutions (ebm-init.ts). */
  encoderInit?: string;
  /** How the one-frame kernel is tiled over the ncond context frames (default 'mean'). */
  encoderTile?: TileMode;
  /** Total updates (a resumed run continues up to this number). */
  steps: number;
  batch?: number;
  seed?: number;
  resume?: boolean;
  checkpointEvery?: number;
  /** Config overrides beyond the preset (tests, experiments). */
  overrides?: Partial<FmConfig>;
  /** Build batches in a worker thread ahead of the compute (default true). */
  prefetch?: boolean;
  /** Data-parallel compute threads (1: this thread). */
  workers?: number;
  /** Backend for data-parallel workers (as --backend). */
  backend?: string;
  /** Called once the model is built (before the first step). */
  onStart?: (info: { kind: FmKind; preset: string; paramCount: ReturnType<ForwardModel['paramCount']>; startStep: number }) => void;
  /** Called after each step (progress bars). */
  onStep?: (s: StepLog) => void;
  /** Called with messages for people (warm start, resume). */
  say?: (line: string) => void;
  version?: string;
}

export interface StepLog extends StepStats {
  step: number;
  ms: number;
  stepsPerS: number;
}

export interface TrainSummary {
  out: string;
  checkpoint: string;
  kind: FmKind;
  preset: string;
  config: FmConfig;
  paramCount: ReturnType<ForwardModel['paramCount']>;
  startStep: number;
  steps: number;
  skipped: number;
  firstLoss: number | null;
  lastLoss: number | null;
  /** Mean loss over the last 10 % of this run's steps (at least one). */
  meanLossTail: number | null;
  secondsPerStep: number;
  warmStartCopied: number;
  /** The EBM init of the first convolutions (a resumed run reports its own), or null. */
  encoderInit: EncoderInitRecord | null;
  workers: number;
}

function seedOf(ckDir: string): number {
  return (JSON.parse(readFileSync(join(ckDir, 'train-state.json'), 'utf8')) as TrainState).seed;
}

/**
 * Trains the forward model into opts.out (see the top of this file and worldmodel/run-folder.ts:
 * --resume needs a checkpoint, a new run needs a new or empty folder, a run that fails before
 * its first checkpoint leaves nothing behind). On SIGINT / SIGTERM (common/interrupt.ts) the
 * current step finishes, a checkpoint is saved and `Interrupted` is thrown.
 */
export async function trainForwardModel(opts: TrainOptions): Promise<TrainSummary> {
  const checkpointFile = join(checkpointDir(opts.out), 'hparams.json');
  checkRunFolder(opts.out, { resume: opts.resume, checkpointFile, what: 'forward-model' });
  return withRunCleanup(opts.out, checkpointFile, () => trainRun(opts));
}

async function trainRun(opts: TrainOptions): Promise<TrainSummary> {
  const say = opts.say ?? (() => {});
  const ds = openDataset(opts.dataset);
  const ckDir = checkpointDir(opts.out);
  const logFile = join(opts.out, 'log.jsonl');
  const hasCheckpoint = existsSync(join(ckDir, 'hparams.json'));
  if (hasCheckpoint && !opts.resume) throw new UserError(`${opts.out}: already holds a checkpoint; pass --resume to continue it or choose another --out`);
  if (opts.resume && opts.init) throw new UserError('field init: --init and --resume cannot be combined (a resumed run already has its weights)');
  if (opts.resume && opts.encoderInit) throw new UserError('field encoder-init: --encoder-init and --resume cannot be combined (a resumed run already has its weights)');

  let model: ForwardModel;
  let adam: Adam;
  let preset: string;
  let startStep = 0;
  let skippedBefore = 0;
  let seed = opts.seed ?? 1;
  let warmStartCopied = 0;
  let encoderInit: EncoderInitRecord | null = null;
  let state: TrainState;
  if (opts.resume && hasCheckpoint) {
    const hp = readHparams(ckDir);
    if (opts.kind && opts.kind !== hp.kind) throw new UserError(`field model: the checkpoint in ${ckDir} is a ${hp.kind} model, not ${opts.kind}`);
    ({ model } = loadFm(ckDir));
    // A resumed run keeps its settings; a flag that asks for others is a mistake, not a silent no-op.
    const asked: Array<[string, number | undefined, number]> = [
      ['batch', opts.batch ?? opts.overrides?.batch, model.cfg.batch],
      ['npred', opts.overrides?.npred, model.cfg.npred],
      ['lr', opts.overrides?.learningRate, model.cfg.learningRate],
      ['seed', opts.seed, seedOf(ckDir)],
    ];
    for (const [flag, want, have] of asked) {
      if (want !== undefined && want !== have) {
        model.dispose();
        throw new UserError(`field ${flag}: the run in ${opts.out} uses ${flag} ${have}; drop --${flag} (or give ${have}) to resume it`);
      }
    }
    if (opts.preset && opts.preset !== hp.preset) {
      model.dispose();
      throw new UserError(`field preset: the run in ${opts.out} uses preset ${hp.preset}; drop --preset to resume it`);
    }
    preset = hp.preset;
    encoderInit = hp.encoderInit ?? null;
    adam = new Adam(model.weights, { learningRate: model.cfg.learningRate });
    state = loadTraining(ckDir, adam);
    startStep = state.step;
    skippedBefore = state.skipped;
    seed = state.seed;
    if (resolve(state.dataset) !== resolve(opts.dataset)) say(`note: resuming on ${opts.dataset}, the run started on ${state.dataset}`);
    say(`resuming ${hp.kind} model from step ${startStep}`);
    truncateLog(logFile, startStep);
  } else {
    preset = opts.preset ?? 'small';
    const kind = opts.kind ?? 'vae';
    const cfg = fmConfig(preset, { ...opts.overrides, batch: opts.batch ?? opts.overrides?.batch, channels: ds.channels });
    model = ForwardModel.create(cfg, kind, seed);
    if (opts.encoderInit) {
      try {
        encoderInit = await applyEncoderInit(model, opts.encoderInit, opts.encoderTile ?? 'mean');
      } catch (e) {
        model.dispose();
        throw e;
      }
    }
    if (opts.init) {
      const src = loadFm(opts.init);
      if (src.model.cfg.nfeature !== cfg.nfeature || src.model.cfg.ncond !== cfg.ncond || src.model.cfg.channels !== cfg.channels) {
        src.model.dispose();
        throw new UserError(`field init: ${opts.init} has nfeature ${src.model.cfg.nfeature}, ncond ${src.model.cfg.ncond}, channels ${src.model.cfg.channels}; the ${preset} model needs ${cfg.nfeature}, ${cfg.ncond}, ${cfg.channels}`);
      }
      const copied = copySharedWeights(src.model, model);
      warmStartCopied = copied.length;
      say(`warm start: ${warmStartCopied} of ${model.specs.length} weight tensors copied from ${opts.init} (${src.hparams.kind})`);
      src.model.dispose();
      // The warm start wins where both give a tensor (the VAE keeps the EBM init in its posterior).
      if (encoderInit) encoderInit = { ...encoderInit, tensors: encoderInit.tensors.filter((n) => !copied.includes(n)) };
    }
    if (encoderInit) {
      if (encoderInit.tensors.length === 0) {
        model.dispose();
        throw new UserError(`field encoder-init: every first convolution comes from --init ${opts.init}; --encoder-init ${opts.encoderInit} would change nothing`);
      }
      say(`encoder init: ${encoderInit.tensors.join(', ')} from ${encoderInit.source} (${encoderInit.kind}, ${encoderInit.filters} filters over ${encoderInit.channels} channels, tiled '${encoderInit.tile}')`);
    }
    adam = new Adam(model.weights, { learningRate: model.cfg.learningRate });
    newLog(logFile);
    state = { step: 0, seed, batch: cfg.batch, split: 'train', skipped: 0, dataset: opts.dataset, init: opts.init ?? null, encoderInit: encoderInit?.source ?? null, workers: 1 };
  }
  const cfg = model.cfg;
  const workers = opts.workers ?? 1;
  state = { ...state, workers };
  const paramCount = model.paramCount();
  const kind = model.kind;
  const hparams = (steps: number): FmHparams => ({
    format: 'ppuu-fm', version: 1, kind, preset, config: cfg, stats: ds.manifest.stats, dataset: opts.dataset,
    steps, paramCount, writtenBy: `ppuu ${opts.version ?? ''}`.trim(), encoderInit,
  });
  if (ds.episodes('train').every((e) => e.length < cfg.ncond + cfg.npred)) {
    throw new UserError(`${opts.dataset}: no training episode has the ${cfg.ncond + cfg.npred} frames a window needs (ncond ${cfg.ncond} + npred ${cfg.npred})`);
  }
  // The update engine: this thread, or data-parallel worker threads holding copies of the model.
  let dp: DataParallelTrainer | null = null;
  if (workers > 1) {
    dp = await DataParallelTrainer.start(model, adam, { workers, seed, backend: opts.backend });
    adam.dispose();
    model.dispose();
  }
  const save = async (step: number, skipped: number) => {
    state = { ...state, step, skipped, targetSteps: opts.steps };
    if (dp) await dp.save(ckDir, hparams(step), state);
    else await saveFm(ckDir, model, hparams(step), { adam, state });
  };
  const update = async (batch: WindowBatch, k: number): Promise<StepStats> =>
    dp ? dp.step(batch, k) : trainStep(model, adam, batch, FmNoise.forStep(seed, k, true));

  const spec: BatchSpec = { split: 'train', shape: { batch: cfg.batch, ncond: cfg.ncond, npred: cfg.npred, channels: cfg.channels }, seed, stats: ds.manifest.stats };
  const loader = openBatchLoader(opts.dataset, new EpisodeCache(ds), spec, opts.prefetch);
  opts.onStart?.({ kind, preset, paramCount, startStep });
  const run = await runTrainLoop({
    startStep, skipped: skippedBefore, steps: opts.steps, checkpointEvery: opts.checkpointEvery,
    logFile, checkpointFile: join(ckDir, 'hparams.json'), checkpointDir: ckDir,
    next: (k) => loader.next(k),
    step: async (batch, k) => {
      const s = await update(batch, k);
      return { loss: s.total, skipped: s.skipped, fields: s };
    },
    save,
    close: async () => {
      await loader.close();
      await dp?.close();
    },
    onStep: opts.onStep,
  });
  const summary: TrainSummary = {
    out: opts.out, checkpoint: ckDir, kind, preset, config: cfg, paramCount, workers,
    startStep, steps: run.steps, skipped: run.skipped,
    firstLoss: run.firstLoss, lastLoss: run.lastLoss, meanLossTail: run.meanLossTail,
    secondsPerStep: run.secondsPerStep, warmStartCopied, encoderInit,
  };
  if (!dp) {
    adam.dispose();
    model.dispose();
  }
  return summary;
}
