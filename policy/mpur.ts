/**
 * Policy training (`ppuu train policy`): MPUR and the published baselines (docs/method.md section 6).
 *
 * Each step takes a batch of real windows (ncond context frames + npred expert steps) from the
 * training split, evaluates the method's objective (objectives.ts) with the forward model frozen,
 * and takes an Adam step (lr 1e-4) on the policy's weights with the gradient norm clipped at 50;
 * non-finite steps are skipped. Before the first step of a method with an uncertainty term, the
 * per-step statistics of the uncertainty are measured on expert actions (ustats.ts).
 *
 * Randomness is a function of (seed, step): batches, z samples, dropout masks and a stochastic
 * policy's samples, so a resumed run continues exactly. Inputs and actions are normalised with
 * the forward model's statistics (its training data), or the dataset's for il without a model.
 *
 * OUT/checkpoint/   policy and optimizer state (checkpoint.ts), every N steps and at the end;
 *                   with --ema the policy folder holds the weights' moving average
 *                   (weight-average.ts) and policy-raw/ the optimiser's own
 * OUT/log.jsonl     one JSON object per step: step, total, proximity, lane, offroad, uncertainty,
 *                   imitation, trajectory, frame, action, jerk, gradNorm, skipped, ms,
 *                   stepsPerS
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../common/errors.js';
import { checkRunFolder, withRunCleanup } from '../worldmodel/run-folder.js';
import { newLog, openBatchLoader, runTrainLoop, truncateLog, type LoopSummary } from '../worldmodel/train-loop.js';
import { openDataset } from '../data/dataset.js';
import type { NormStats } from '../data/dataset-types.js';
import { fmConfig } from '../worldmodel/fm/config.js';
import { loadFm } from '../worldmodel/fm/checkpoint.js';
import type { ForwardModel } from '../worldmodel/fm/model.js';
import { Adam } from '../worldmodel/fm/adam.js';
import { FmNoise, STREAM, mixSeed } from '../worldmodel/fm/noise.js';
import { batchTensors, readPartsAndNorm } from '../worldmodel/fm/train-step.js';
import { SyncBatches, type BatchSpec } from '../worldmodel/fm/batches.js';
import { EpisodeCache } from '../worldmodel/fm/episode-cache.js';
import type { WindowBatch } from '../worldmodel/fm/windows.js';
import { ACTION_CLAMP, checkMethod, checkPreset, isKmMethod, learningRateAt, policyNetConfig, policyTrainConfig, type PolicyMethod, type PolicyTrainConfig, type TrainOverrides } from './config.js';
import { PolicyNetwork } from './network.js';
import { egoSizesFromContext } from './car-size.js';
import { needsImaginedWorld, PART_NAMES, partsRecord, policyLoss, type ObjectiveContext, type PartName } from './objectives.js';
import { imagineLoggedWorld, imagineWorld } from './km-rollout.js';
import { ImaginedPool, pooledWorld, type ImaginedBatch } from './imagined-pool.js';
import { estimateUStats } from './ustats.js';
import type { UStats } from './uncertainty.js';
import { applyPolicyEncoderInit } from './ebm-init.js';
import type { EncoderInitRecord, TileMode } from '../worldmodel/fm/ebm-init.js';
import { WeightAverage } from './weight-average.js';
import { snapshotPolicy, checkpointDir, copyPolicyWeights, disposePolicy, loadPolicy, loadPolicyTraining, RAW_POLICY_DIR, readPolicyHparams, savePolicyCheckpoint, type PolicyHyper, type PolicyInitRecord, type PolicyTrainState } from './checkpoint.js';

/** Noise stream of a stochastic policy's samples (apart from the model's streams). */
export const POLICY_STREAM = 11;
/** Salt of the seed of the uncertainty-statistics batches (apart from the training batches). */
const USTATS_SALT = 0x75737473;

export interface PolicyTrainOptions {
  /** Forward-model checkpoint (or its training folder); optional for il. */
  model?: string;
  dataset: string;
  out: string;
  method?: PolicyMethod;
  /** Default: the forward model's preset (tiny without a model). */
  preset?: string;
  stochastic?: boolean;
  /** Total updates (a resumed run continues up to this number). */
  steps: number;
  seed?: number;
  resume?: boolean;
  checkpointEvery?: number;
  /** Keep a copy of the policy every this many updates in OUT/snapshots/step-N (0 or absent: none). */
  snapshotEvery?: number;
  overrides?: TrainOverrides;
  /** EBM model folder whose conv encoder initialises the first convolution (policy/ebm-init.ts); not with resume. */
  encoderInit?: string;
  /** How that one-frame kernel is spread over the context frames (default 'mean'). */
  encoderTile?: TileMode;
  /** A trained policy (checkpoint or run folder) whose weights start this run (same network; fresh optimiser, step 0); not with resume. */
  init?: string;
  /** Build batches in a worker thread (default true). */
  prefetch?: boolean;
  onStart?: (info: PolicyStartInfo) => void;
  onUStats?: (done: number, total: number) => void;
  onStep?: (s: PolicyStepLog) => void;
  say?: (line: string) => void;
}

export interface PolicyStartInfo {
  method: PolicyMethod;
  preset: string;
  paramCount: number;
  startStep: number;
  train: PolicyTrainConfig;
}

export type PolicyStepLog = Record<PartName, number> & {
  step: number;
  gradNorm: number;
  skipped: boolean;
  ms: number;
  stepsPerS: number;
};

/** The loop's numbers (worldmodel/train-loop.ts: steps, skipped, first / last loss, head / tail means, seconds per step) and the run's. */
export interface PolicyTrainSummary extends LoopSummary {
  out: string;
  policy: string;
  method: PolicyMethod;
  preset: string;
  forwardModel: string | null;
  train: PolicyTrainConfig;
  paramCount: number;
  startStep: number;
  uStatsSeconds: number;
  uStats: UStats | null;
  /** Where the first convolution's starting values came from (--encoder-init), null: seeded default. */
  encoderInit: EncoderInitRecord | null;
  /** The trained policy whose weights started the run (--init), null: seeded default. */
  init: PolicyInitRecord | null;
}

/**
 * One update: loss parts and gradients, clip, Adam; returns the parts (NaN-free unless skipped).
 * `imagined`: the pool's batch for 'model-logged' (then `wb` is its window batch, whose target
 * frames are the model's).
 */
export async function policyStep(ctx: ObjectiveContext, adam: Adam, wb: WindowBatch, imagined?: ImaginedBatch): Promise<{ parts: Record<PartName, number>; gradNorm: number; skipped: boolean }> {
  const vars = ctx.policy.variables();
  const nameOf = new Map(vars.map((v, i) => [v.name, ctx.policy.specs[i]!.name]));
  const cars = egoSizesFromContext(wb.ctxImages, wb.batch, wb.ncond, wb.channels);
  let partsT: tf.Tensor1D | null = null;
  // The km methods' model world is imagined first, outside the gradient tape, then held fixed
  // (for 'model-logged' it comes with the windows, from the imagined pool).
  const batch = batchTensors(wb);
  const world = imagined
    ? pooledWorld(imagined, batch, ctx.policy.cfg.ncond, ctx.policy.cfg.channels)
    : !needsImaginedWorld(ctx.cfg)
      ? undefined
      : ctx.cfg.future === 'model-logged'
        ? imagineLoggedWorld(ctx.model!, batch, ctx.cfg.npred, ctx.noise.model)
        : imagineWorld(ctx.model!, ctx.policy, batch.input, ctx.stats, ctx.cfg.npred, ctx.noise.model);
  const { value, grads } = tf.variableGrads(() => {
    const r = policyLoss(ctx, { batch, cars, world });
    partsT = tf.keep(r.parts);
    return r.total;
  }, vars);
  value.dispose();
  tf.dispose(batch as unknown as tf.TensorContainer);
  if (world) tf.dispose(world as unknown as tf.TensorContainer);
  try {
    const named: Record<string, tf.Tensor> = {};
    for (const [k, g] of Object.entries(grads)) named[nameOf.get(k)!] = g;
    const read = await readPartsAndNorm(partsT!, named);
    const parts = partsRecord(read.parts);
    const norm = read.gradNorm;
    const skipped = !(Number.isFinite(parts.total) && Number.isFinite(norm));
    if (!skipped) adam.apply(named, norm > ctx.cfg.gradClip ? ctx.cfg.gradClip / (norm + 1e-6) : 1);
    return { parts, gradNorm: norm, skipped };
  } finally {
    partsT!.dispose();
    for (const g of Object.values(grads)) g.dispose();
  }
}

/** Noise sources of training step `step`. */
export function stepNoise(seed: number, step: number): ObjectiveContext['noise'] {
  return {
    model: FmNoise.forStep(seed, step, false, STREAM.model),
    uncertainty: FmNoise.forStep(seed, step, true, STREAM.uncertainty),
    policy: FmNoise.forStep(seed, step, false, POLICY_STREAM),
  };
}

/**
 * Trains a policy into opts.out (worldmodel/run-folder.ts: --resume needs a checkpoint, a new
 * run needs a new or empty folder, a run that fails before its first checkpoint leaves nothing
 * behind). On SIGINT / SIGTERM the current step finishes, a checkpoint is saved and
 * `Interrupted` is thrown.
 */
export async function trainPolicy(opts: PolicyTrainOptions): Promise<PolicyTrainSummary> {
  const checkpointFile = join(checkpointDir(opts.out), 'policy', 'hparams.json');
  checkRunFolder(opts.out, { resume: opts.resume, checkpointFile, what: 'policy' });
  return withRunCleanup(opts.out, checkpointFile, () => trainPolicyRun(opts));
}

async function trainPolicyRun(opts: PolicyTrainOptions): Promise<PolicyTrainSummary> {
  const say = opts.say ?? (() => {});
  const ds = openDataset(opts.dataset);
  const logFile = join(opts.out, 'log.jsonl');
  const ckDir = checkpointDir(opts.out);
  const hasCheckpoint = existsSync(join(ckDir, 'policy', 'hparams.json'));
  if (hasCheckpoint && !opts.resume) throw new UserError(`${opts.out}: already holds a policy checkpoint; pass --resume to continue it or choose another --out`);
  if (opts.resume && opts.init) throw new UserError('field init: --init and --resume cannot be combined (a resumed run already has its weights)');
  if (opts.init && opts.encoderInit) throw new UserError('field init: --init and --encoder-init cannot be combined (--init sets every weight)');
  if (opts.resume && opts.encoderInit) throw new UserError('field encoder-init: --encoder-init and --resume cannot be combined (a resumed run already has its weights)');

  // What the run is: from the checkpoint when resuming, else from the flags.
  let prior: { hyper: PolicyHyper; stats: NormStats } | null = null;
  if (opts.resume && hasCheckpoint) {
    prior = readPolicyHparams(ckDir);
    const h = prior.hyper;
    const asked: Array<[string, unknown, unknown]> = [
      ['method', opts.method, h.train.method],
      ['preset', opts.preset, h.preset],
      ['seed', opts.seed, h.seed],
      ['npred', opts.overrides?.npred, h.train.npred],
      ['batch', opts.overrides?.batch, h.train.batch],
      ['lambda-u', opts.overrides?.lambdaU, h.train.lambdaU],
      ['lambda-l', opts.overrides?.lambdaL, h.train.lambdaL],
      ['lambda-o', opts.overrides?.lambdaO, h.train.lambdaO],
      ['k', opts.overrides?.k, h.train.k],
      ['u-stride', opts.overrides?.uStride, h.train.uStride],
      ['u-rows', opts.overrides?.uRows, h.train.uRows ?? null],
      ['lr', opts.overrides?.learningRate, h.train.learningRate],
      ['grad-clip', opts.overrides?.gradClip, h.train.gradClip],
      ['lr-decay', opts.overrides?.lrDecay, h.train.lrDecay ?? 'none'],
      ['future', opts.overrides?.future, h.train.future],
      ['lambda-f', opts.overrides?.lambdaF, h.train.lambdaF],
      ['lambda-a', opts.overrides?.lambdaA, h.train.lambdaA ?? 0],
      ['lambda-j', opts.overrides?.lambdaJ, h.train.lambdaJ ?? 0],
      ['ema', opts.overrides?.ema, h.train.ema ?? 0],
      ['view', opts.overrides?.view, h.train.view ?? 'reference'],
      ['world-reuse', opts.overrides?.worldReuse, h.train.worldReuse ?? 1],
      ['world-pool', opts.overrides?.worldPool, h.train.worldPool ?? 1],
    ];
    for (const [flag, want, have] of asked) {
      if (want !== undefined && want !== have) throw new UserError(`field ${flag}: the run in ${opts.out} uses ${flag} ${String(have)}; drop --${flag} (or give ${String(have)}) to resume it`);
    }
    if (opts.stochastic !== undefined && opts.stochastic !== h.net.stochastic) throw new UserError(`field stochastic: the run in ${opts.out} has a ${h.net.stochastic ? 'stochastic' : 'deterministic'} policy`);
  }
  const method = prior?.hyper.train.method ?? checkMethod(opts.method ?? 'mpur');
  const modelPath = opts.model ?? prior?.hyper.forwardModel?.path;
  const future = prior?.hyper.train.future ?? opts.overrides?.future ?? 'model-logged';
  // The real future needs no world model; mpur-km's uncertainty term still does.
  const modelFree = method === 'il' || (isKmMethod(method) && future === 'real' && (method === 'vg-km' || opts.overrides?.lambdaU === 0));
  if (!modelPath && !modelFree) {
    const why = isKmMethod(method) && future === 'real' ? ' for its uncertainty term (or --lambda-u 0, or --method vg-km)' : '';
    throw new UserError(`field model: method ${method} needs a forward model (--model DIR)${why}`);
  }
  if (isKmMethod(method) && opts.stochastic) throw new UserError(`field stochastic: the km methods train a deterministic policy`);

  let model: ForwardModel | null = null;
  let fmStats: NormStats | null = null;
  let fmPreset = 'tiny';
  if (modelPath) {
    const fm = loadFm(modelPath);
    model = fm.model;
    model.setTrainable(false);
    fmStats = fm.hparams.stats;
    fmPreset = fm.hparams.preset;
    if (model.cfg.channels !== ds.channels) {
      model.dispose();
      throw new UserError(`field data: ${opts.dataset} has ${ds.channels}-channel images, the forward model ${modelPath} ${model.cfg.channels}`);
    }
    if (method === 'vg' && model.kind !== 'deterministic') {
      model.dispose();
      throw new UserError(`field method: vg trains through a deterministic model; ${modelPath} is a ${model.kind} model (use svg, or mpur)`);
    }
    if (method === 'svg' && model.kind !== 'vae') {
      model.dispose();
      throw new UserError(`field method: svg trains through a stochastic (vae) model; ${modelPath} is ${model.kind} (use vg, or mpur)`);
    }
  }
  try {
    const preset = prior?.hyper.preset ?? checkPreset(opts.preset ?? fmPreset);
    const train = prior?.hyper.train ?? policyTrainConfig(preset, method, opts.overrides);
    const stats = prior?.stats ?? fmStats ?? ds.manifest.stats;
    const ncond = model?.cfg.ncond ?? fmConfig(preset).ncond;
    if (train.lambdaO > 0 && ds.channels < 4) throw new UserError(`field lambda-o: the off-road cost needs 4-channel images (ppuu data dump --variant offroad); ${opts.dataset} has ${ds.channels}`);
    if (ds.episodes('train').every((e) => e.length < ncond + train.npred)) {
      throw new UserError(`${opts.dataset}: no training episode has the ${ncond + train.npred} frames a window needs (ncond ${ncond} + npred ${train.npred})`);
    }
    const seed = prior?.hyper.seed ?? opts.seed ?? 1;

    let policy: PolicyNetwork;
    let adam: Adam;
    let average: WeightAverage | null = null;
    let startStep = 0;
    let skippedBefore = 0;
    let uStats: UStats | null = prior?.hyper.uStats ?? null;
    let encoderInit: EncoderInitRecord | null = prior?.hyper.encoderInit ?? null;
    let initFrom: PolicyInitRecord | null = prior?.hyper.init ?? null;
    const ema = train.ema ?? 0;
    const snapshotEvery = opts.snapshotEvery ?? 0;
    if (!(Number.isInteger(snapshotEvery) && snapshotEvery >= 0)) throw new UserError(`field snapshot-every: must be a whole number of updates >= 0, got ${snapshotEvery}`);
    if (prior) {
      if (ema > 0) {
        // The optimiser continues from its own weights; the policy folder holds their average.
        const rawDir = join(ckDir, RAW_POLICY_DIR);
        if (!existsSync(join(rawDir, 'hparams.json'))) throw new UserError(`${join(rawDir, 'hparams.json')}: missing (a run with --ema keeps its optimiser's weights there)`);
        policy = (await loadPolicy(rawDir)).policy;
        const avg = await loadPolicy(ckDir);
        average = new WeightAverage(avg.policy.weights, ema);
        disposePolicy(avg);
      } else {
        policy = (await loadPolicy(ckDir)).policy;
      }
      adam = new Adam(policy.weights, { learningRate: train.learningRate });
      const st = await loadPolicyTraining(opts.out, adam);
      startStep = st.step;
      skippedBefore = st.skipped;
      truncateLog(logFile, startStep);
      say(`resuming ${method} policy from step ${startStep}`);
    } else {
      policy = PolicyNetwork.create(policyNetConfig(preset, ncond, ds.channels, opts.stochastic ?? false, isKmMethod(method) ? ACTION_CLAMP : null), seed);
      if (opts.init) {
        try {
          initFrom = await copyPolicyWeights(policy, opts.init);
        } catch (e) {
          policy.dispose();
          throw e;
        }
        say(`init: every weight from ${initFrom.path} (${initFrom.method}, ${initFrom.steps} updates)`);
      }
      if (opts.encoderInit) {
        try {
          encoderInit = await applyPolicyEncoderInit(policy, opts.encoderInit, opts.encoderTile ?? 'mean');
        } catch (e) {
          policy.dispose();
          throw e;
        }
        say(`encoder init: ${encoderInit.tensors.join(', ')} from ${encoderInit.source} (${encoderInit.kind}, ${encoderInit.filters} filters over ${encoderInit.channels} channels, tiled '${encoderInit.tile}')`);
      }
      adam = new Adam(policy.weights, { learningRate: train.learningRate });
      if (ema > 0) average = new WeightAverage(policy.weights, ema);
      newLog(logFile);
    }
    const paramCount = policy.paramCount();
    const shape = { batch: train.batch, ncond, npred: train.npred, channels: ds.channels };
    const cache = new EpisodeCache(ds);
    let uStatsSeconds = 0;
    if (train.lambdaU > 0 && !uStats) {
      const t0 = performance.now();
      const spec: BatchSpec = { split: 'train', shape, seed: mixSeed(seed, USTATS_SALT), stats };
      const src = new SyncBatches(cache, spec);
      say(`measuring the uncertainty statistics on ${train.uBatches} batches of expert actions (K = ${train.k})`);
      uStats = await estimateUStats(model!, (i) => src.next(i), { batches: train.uBatches, k: train.k, stats, seed: mixSeed(seed, USTATS_SALT), onProgress: opts.onUStats, stepwise: isKmMethod(method) ? { stride: train.uStride } : undefined });
      uStatsSeconds = (performance.now() - t0) / 1000;
    }
    const hyper = (steps: number): PolicyHyper => ({
      kind: 'ppuu-policy', version: 1, preset, net: policy.cfg, train,
      forwardModel: model && modelPath ? { path: modelPath, kind: model.kind, preset: fmPreset } : null,
      uStats, dataset: opts.dataset, seed, steps, paramCount, encoderInit, init: initFrom,
    });
    const save = async (step: number, skipped: number) => {
      const state: PolicyTrainState = { step, seed, skipped, adamT: adam.t, targetSteps: opts.steps };
      await savePolicyCheckpoint(opts.out, policy, hyper(step), stats, { adam, state, average: average?.weights });
      if (snapshotEvery > 0 && step > 0 && step % snapshotEvery === 0) await snapshotPolicy(opts.out, step);
    };

    const spec: BatchSpec = { split: 'train', shape, seed, stats };
    const loader = openBatchLoader(opts.dataset, cache, spec, opts.prefetch);
    // 'model-logged' does not depend on the policy: its imagined windows come from a pool that serves each several updates.
    const pool = isKmMethod(method) && train.future === 'model-logged' ? new ImaginedPool(model!, loader, { batch: train.batch, reuse: train.worldReuse ?? 1, capacity: train.worldPool ?? 1, seed }) : null;
    opts.onStart?.({ method, preset, paramCount, startStep, train });
    const run = await runTrainLoop({
      startStep, skipped: skippedBefore, steps: opts.steps, checkpointEvery: snapshotEvery > 0 ? gcd(opts.checkpointEvery ?? 1000, snapshotEvery) : opts.checkpointEvery,
      logFile, checkpointFile: join(ckDir, 'policy', 'hparams.json'), checkpointDir: ckDir,
      next: async (k) => {
        const imagined = pool ? await pool.next(k) : undefined;
        return { imagined, wb: imagined?.batch ?? (await loader.next(k)) };
      },
      step: async ({ imagined, wb }, k) => {
        const ctx: ObjectiveContext = { model, policy, cfg: train, stats, uStats, noise: stepNoise(seed, k) };
        adam.lr = learningRateAt(train, k, opts.steps);
        const s = await policyStep(ctx, adam, wb, imagined);
        if (average && !s.skipped) average.update(policy.weights, adam.t);
        return { loss: s.parts.total, skipped: s.skipped, fields: { ...s.parts, gradNorm: s.gradNorm, skipped: s.skipped } };
      },
      save,
      close: () => (pool ?? loader).close(),
      onStep: opts.onStep,
    });
    const summary: PolicyTrainSummary = {
      out: opts.out, policy: join(ckDir, 'policy'), method, preset, forwardModel: modelPath ?? null, train, paramCount,
      // The loop's fields keep their place: steps, skipped, firstLoss, lastLoss, meanLossHead, meanLossTail, secondsPerStep.
      startStep, ...run, uStatsSeconds, uStats, encoderInit, init: initFrom,
    };
    adam.dispose();
    average?.dispose();
    policy.dispose();
    return summary;
  } finally {
    model?.dispose();
  }
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export { PART_NAMES };
