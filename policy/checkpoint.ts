/**
 * Policy checkpoints, in the standard TensorFlow.js format (worldmodel/checkpoint.ts):
 *
 *   OUT/checkpoint/policy/      model.json + weights.bin (the policy's weight map) and
 *                               hparams.json (format 'ppuu-hparams': hyperParameters = PolicyHyper,
 *                               normalisation = the statistics inputs and actions use); with
 *                               --ema the average of the weights (weight-average.ts)
 *   OUT/checkpoint/policy-raw/  with --ema only: the optimiser's own last weights, a policy
 *                               folder of its own (what a resumed run continues from)
 *   OUT/checkpoint/optimizer/   model.json + weights.bin (Adam moments m.NAME, v.NAME) and
 *                               train-state.json (PolicyTrainState)
 *   OUT/log.jsonl               one JSON object per step
 *   OUT/snapshots/step-N/       with --snapshot-every: the policy folder as it was after update N
 *                               (kept, unlike the checkpoint, which each save replaces)
 *
 * OUT/checkpoint is written atomically as a whole. A policy folder is the `policy/` folder; the
 * loaders also accept OUT and OUT/checkpoint.
 */
import { cpSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../common/errors.js';
import { writeDirAtomic } from '../common/atomic.js';
import type { NormStats } from '../data/dataset-types.js';
import { checkWeightShapes, loadWeights, makeHparams, readHparams, readSidecar, saveWeights } from '../worldmodel/checkpoint.js';
import type { Adam } from '../worldmodel/fm/adam.js';
import type { WeightMap } from '../worldmodel/fm/params.js';
import type { EncoderInitRecord } from '../worldmodel/fm/ebm-init.js';
import { checkNetConfig, checkTrainConfig, type PolicyNetConfig, type PolicyTrainConfig } from './config.js';
import { PolicyNetwork, policyParamSpecs, policyVariablesFrom } from './network.js';
import type { UStats } from './uncertainty.js';

export const POLICY_KIND = 'ppuu-policy';

/** hyperParameters of a policy's hparams.json. */
export interface PolicyHyper {
  kind: typeof POLICY_KIND;
  version: 1;
  preset: string;
  net: PolicyNetConfig;
  train: PolicyTrainConfig;
  /** The forward model the policy was trained through (as given on the command line), null for il without one. */
  forwardModel: { path: string; kind: string; preset: string } | null;
  /** Per-step uncertainty statistics (null when the method has no uncertainty term). */
  uStats: UStats | null;
  dataset: string;
  seed: number;
  /** Updates applied to these weights. */
  steps: number;
  paramCount: number;
  /** Where the first convolution's starting values came from (`--encoder-init`); absent or null: seeded default. */
  encoderInit?: EncoderInitRecord | null;
  /** The trained policy whose weights started the run (`--init`); absent or null: seeded default. */
  init?: PolicyInitRecord | null;
}

/** Where a run's starting weights came from (`--init`). */
export interface PolicyInitRecord {
  path: string;
  method: string;
  steps: number;
}

export interface PolicyTrainState {
  step: number;
  seed: number;
  skipped: number;
  /** Adam's step count. */
  adamT: number;
  /** The run's --steps (absent in older checkpoints): what a resume without --steps continues to. */
  targetSteps?: number;
}

/** The --steps recorded by the run in OUT (null: no checkpoint, or one from before the record). */
export function recordedTargetSteps(out: string): number | null {
  const file = join(checkpointDir(out), 'optimizer', 'train-state.json');
  if (!existsSync(file)) return null;
  try {
    const t = (JSON.parse(readFileSync(file, 'utf8')) as Partial<PolicyTrainState>).targetSteps;
    return Number.isInteger(t) ? (t as number) : null;
  } catch {
    throw new UserError(`${file}: invalid JSON`);
  }
}

export interface LoadedPolicy {
  policy: PolicyNetwork;
  hyper: PolicyHyper;
  /** Normalisation of the inputs (states) and outputs (actions). */
  stats: NormStats;
  dir: string;
}

export function checkpointDir(out: string): string {
  return join(out, 'checkpoint');
}

function isPolicyFolder(dir: string): boolean {
  const file = join(dir, 'hparams.json');
  if (!existsSync(file) || !existsSync(join(dir, 'model.json'))) return false;
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as { hyperParameters?: { kind?: unknown } };
    return h?.hyperParameters?.kind === POLICY_KIND;
  } catch {
    return false;
  }
}

/** The policy folder in or at `dir` (dir, dir/policy, dir/checkpoint/policy), or null. */
export function findPolicyDir(dir: string): string | null {
  for (const d of [dir, join(dir, 'policy'), join(checkpointDir(dir), 'policy')]) if (isPolicyFolder(d)) return d;
  return null;
}

/** The optimiser's own weights of a run that averages its weights (--ema). */
export const RAW_POLICY_DIR = 'policy-raw';

export const SNAPSHOTS_DIR = 'snapshots';

/** Copies OUT/checkpoint/policy to OUT/snapshots/step-N (atomically). */
export async function snapshotPolicy(out: string, step: number): Promise<string> {
  const dir = join(out, SNAPSHOTS_DIR, `step-${step}`);
  await writeDirAtomic(dir, (tmp) => cpSync(join(checkpointDir(out), 'policy'), tmp, { recursive: true }));
  return dir;
}

/** The snapshots of a run, by update: [{ step, dir }], oldest first (none: []). */
export function listSnapshots(out: string): Array<{ step: number; dir: string }> {
  const root = join(out, SNAPSHOTS_DIR);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .map((name) => /^step-(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ step: Number(m[1]), dir: join(root, m[0]) }))
    .sort((a, b) => a.step - b.step);
}

/**
 * Writes OUT/checkpoint (policy and optimizer state) atomically; values are read from tensors
 * (call outside tidy). With `average` (--ema), policy/ holds the average and policy-raw/ the
 * policy's own weights.
 */
export async function savePolicyCheckpoint(out: string, policy: PolicyNetwork, hyper: PolicyHyper, stats: NormStats, training: { adam: Adam; state: PolicyTrainState; average?: WeightMap }): Promise<void> {
  await writeDirAtomic(checkpointDir(out), async (tmp) => {
    const hparams = { sidecars: { hparams: makeHparams(hyper, stats) } };
    await saveWeights(join(tmp, 'policy'), training.average ?? policy.weights, hparams);
    if (training.average) await saveWeights(join(tmp, RAW_POLICY_DIR), policy.weights, hparams);
    await saveWeights(join(tmp, 'optimizer'), training.adam.stateTensors(), { sidecars: { 'train-state': training.state } });
  });
}

/** Writes a policy folder on its own (no optimizer state). */
export async function savePolicy(dir: string, policy: PolicyNetwork, hyper: PolicyHyper, stats: NormStats): Promise<void> {
  await saveWeights(dir, policy.weights, { sidecars: { hparams: makeHparams(hyper, stats) } });
}

function checkHyper(h: PolicyHyper, file: string): void {
  if (h.kind !== POLICY_KIND) throw new UserError(`${file}: field hyperParameters.kind: expected '${POLICY_KIND}'`);
  if (!h.net || typeof h.net !== 'object') throw new UserError(`${file}: field hyperParameters.net: missing`);
  if (!h.train || typeof h.train !== 'object') throw new UserError(`${file}: field hyperParameters.train: missing`);
  checkNetConfig(h.net, file);
  // Policies from before the km methods: frames from the model, no keep-in-frame term.
  if (!('future' in h.train)) (h.train as PolicyTrainConfig).future = 'model';
  if (!('lambdaF' in h.train)) (h.train as PolicyTrainConfig).lambdaF = 0;
  if (!('uStride' in h.train)) (h.train as PolicyTrainConfig).uStride = 1;
  checkTrainConfig(h.train, file);
}

/** Reads a policy folder's hyper-parameters and statistics without loading the weights. */
export function readPolicyHparams(dir: string): { hyper: PolicyHyper; stats: NormStats; dir: string } {
  const d = findPolicyDir(dir);
  if (!d) throw new UserError(`${dir}: not a policy folder (no model.json with a policy hparams.json in it, in policy/ or in checkpoint/policy/)`);
  const h = readHparams<PolicyHyper>(d);
  const file = join(d, 'hparams.json');
  checkHyper(h.hyperParameters, file);
  if (!h.normalisation) throw new UserError(`${file}: field normalisation: missing`);
  return { hyper: h.hyperParameters, stats: h.normalisation, dir: d };
}

/** Loads a policy (from its folder, OUT or OUT/checkpoint). */
export async function loadPolicy(dir: string): Promise<LoadedPolicy> {
  const { hyper, stats, dir: d } = readPolicyHparams(dir);
  const { weights } = await loadWeights(d);
  try {
    const expected = Object.fromEntries(policyParamSpecs(hyper.net).map((s) => [s.name, s.shape]));
    checkWeightShapes(join(d, 'model.json'), weights, expected);
    return { policy: new PolicyNetwork(hyper.net, policyVariablesFrom(weights)), hyper, stats, dir: d };
  } finally {
    for (const t of Object.values(weights)) t.dispose();
  }
}

/**
 * Copies every weight of the trained policy at `dir` (a checkpoint or a run folder) into
 * `policy`, whose network must be the same (preset, context, channels, head).
 */
export async function copyPolicyWeights(policy: PolicyNetwork, dir: string): Promise<PolicyInitRecord> {
  const src = await loadPolicy(dir);
  try {
    const a = policy.cfg;
    const b = src.hyper.net;
    // The action bound is not a weight: a policy trained without it can start one with it.
    for (const k of ['nfeature', 'ncond', 'channels', 'hidden', 'stochastic'] as const) {
      if (a[k] !== b[k]) throw new UserError(`${join(src.dir, 'hparams.json')}: field net.${k}: the policy to start from has ${String(b[k])}, this run's network ${String(a[k])}`);
    }
    for (const [name, v] of Object.entries(policy.weights)) v.assign(src.policy.weights[name]!);
    return { path: dir, method: src.hyper.train.method, steps: src.hyper.steps };
  } finally {
    disposePolicy(src);
  }
}

/** Restores Adam's moments from OUT/checkpoint/optimizer and returns the training state. */
export async function loadPolicyTraining(out: string, adam: Adam): Promise<PolicyTrainState> {
  const dir = join(checkpointDir(out), 'optimizer');
  const { weights } = await loadWeights(dir);
  const state = readSidecar<PolicyTrainState>(dir, 'train-state', (v, file) => {
    const s = v as PolicyTrainState;
    if (!s || !Number.isInteger(s.step) || !Number.isInteger(s.adamT)) throw new UserError(`${file}: field step: expected integers step and adamT`);
    return s;
  });
  try {
    adam.loadState(weights, state.adamT);
  } catch (e) {
    throw new UserError(`${join(dir, 'model.json')}: ${(e as Error).message}`);
  } finally {
    for (const t of Object.values(weights)) t.dispose();
  }
  return state;
}

/** Disposes a loaded policy's weights. */
export function disposePolicy(p: LoadedPolicy): void {
  p.policy.dispose();
}
