/**
 * Policy hyper-parameters, presets and training methods (docs/method.md section 6).
 *
 * The policy network's encoder has the forward model's shape (three 4x4 stride-2 convolutions to
 * nfeature x 14 x 3, plus a state MLP added to the code); ncond and the image channels always
 * come from the forward model (the policy reads the model's predictions). `paper` is the
 * published network (256 hidden units, 20-step unrolls, K = 10 dropout copies, batch 6 as in
 * the later reference scripts); `small` and `tiny` match the forward model's presets of the same
 * name and are sized to train on a CPU.
 */
import { UserError } from '../common/errors.js';
import { WORLD_SOURCES, type WorldSource } from './km-rollout.js';

export type LrDecay = 'none' | 'cosine';
export const LR_DECAYS: readonly LrDecay[] = ['none', 'cosine'];

export type PolicyPresetName = 'tiny' | 'small' | 'paper';
export const POLICY_PRESETS: readonly PolicyPresetName[] = ['tiny', 'small', 'paper'];

/**
 * Training methods: mpur (proximity + lane + uncertainty through the model), vg / svg (the same
 * without the uncertainty term, on a deterministic / stochastic model), il (1-step imitation of
 * the expert's action), mper (match the expert's trajectory through the model); mpur-km / vg-km
 * (docs/method.md section 9: the ego moved by the kinematic model, the costs' masks moved over frames
 * of the world model or of the logged future; with / without the uncertainty term).
 */
export type PolicyMethod = 'mpur' | 'vg' | 'svg' | 'il' | 'mper' | 'mpur-km' | 'vg-km';
export const POLICY_METHODS: readonly PolicyMethod[] = ['mpur', 'vg', 'svg', 'il', 'mper', 'mpur-km', 'vg-km'];

/** Methods whose ego moves through the kinematic model (costs-km.ts, km-rollout.ts). */
export function isKmMethod(m: PolicyMethod): boolean {
  return m === 'mpur-km' || m === 'vg-km';
}

/** Weight of the km costs (the fork's mask_coeff: their masked means are about 10 times smaller than a max). */
export const KM_COST_WEIGHT = 10;

export interface PolicyNetConfig {
  /** Feature maps of the encoder's last convolution (a multiple of 4). */
  nfeature: number;
  /** Context frames (the forward model's ncond). */
  ncond: number;
  /** Image channels (the forward model's). */
  channels: number;
  /** Width of the projection and hidden layers (256 in the paper). */
  hidden: number;
  /** Outputs a mean and a log-variance per action component instead of one action. */
  stochastic: boolean;
  /**
   * Bound of the normalised action (the mean for a stochastic head): b tanh(x / b), so the
   * action stays inside the +-b the controller executes (ACTION_CLAMP) with a gradient
   * everywhere; absent or null: unbounded (the paper's network). The km methods train with
   * b = ACTION_CLAMP: their imagined ego moves by exact kinematics, and an unbounded policy learns
   * braking and steering the car cannot do (policy/README.md).
   */
  actionBound?: number | null;
}

/** Normalised actions are clamped to this many standard deviations before a controller un-normalises them (controller.ts); the km policies' action bound. */
export const ACTION_CLAMP = 3;

export const POLICY_VIEWS = ['reference', 'ego'] as const;
export type PolicyView = (typeof POLICY_VIEWS)[number];

export interface PolicyTrainConfig {
  method: PolicyMethod;
  /** Steps the forward model is unrolled (1 for il). */
  npred: number;
  batch: number;
  learningRate: number;
  /** Gradient-norm clip. */
  gradClip: number;
  /**
   * Learning-rate schedule over the run's updates: 'none' (constant) or 'cosine' (from the
   * learning rate at update 0 to 0 at the last update). Absent in runs recorded before it: 'none'.
   */
  lrDecay?: LrDecay;
  /** Weights of the lane, uncertainty and off-road terms (proximity has weight 1). */
  lambdaL: number;
  lambdaU: number;
  lambdaO: number;
  /** Dropout copies for the uncertainty term. */
  k: number;
  /** Batches (expert actions) measuring the per-step mean and std of the uncertainty. */
  uBatches: number;
  /** Hinge on the normalised uncertainty: U = sum of mean(relu(normalised - uHinge)). */
  uHinge: number;
  /** Per-step discount of the costs: weight gamma^t. */
  gamma: number;
  /** Where the km methods' frames come from: the forward model, or the logged future ('real'); 'model' for the others. */
  future: WorldSource;
  /** Weight of the km methods' keep-in-frame term (0 for the others). */
  lambdaF: number;
  /**
   * km methods: weights of the action-size term (mean over steps and windows of the normalised
   * action's squared norm) and the jerk term (the same of the change between consecutive
   * actions), the fork's lambda_a and lambda_j. Absent in runs recorded before them: 0.
   */
  lambdaA?: number;
  lambdaJ?: number;
  /**
   * km methods: the frames the policy reads, 'reference' (as the world gives them, centred on the
   * expert's pose) or 'ego' (resampled to the kinematic ego's view, as the simulator shows them:
   * policy/ego-view.ts). Absent in runs recorded before it: 'reference'.
   */
  view?: PolicyView;
  /**
   * Decay of the exponential moving average of the weights that the run's policy folder holds
   * (policy/weight-average.ts; 0 or absent: the optimiser's last weights).
   */
  ema?: number;
  /** mpur-km: every uStride-th imagined step carries the uncertainty term (1: every step). */
  uStride: number;
  /** mpur-km: the first uRows windows of the batch carry the uncertainty term (null or absent: all). */
  uRows?: number | null;
  /**
   * km methods through 'model-logged': updates each imagined window serves on average, and the
   * imagined batches held at once (policy/imagined-pool.ts; 1 and 1: a fresh unroll per update).
   * Absent in runs recorded before the pool: 1 and 1.
   */
  worldReuse?: number;
  worldPool?: number;
}

interface Preset {
  nfeature: number;
  hidden: number;
  npred: number;
  batch: number;
  k: number;
  uBatches: number;
  /**
   * The km methods' unroll, batch, learning rate, lane weight (their costs are cheap: longer
   * unrolls, larger steps), uncertainty weight (tiny: 0.01, where 0.5 let U's gradient, 5-7
   * times the costs', steer the policy, and 0.05 still cost 14 points in 600 updates:
   * policy/README.md), dropout copies and stride of U (tiny: 2 copies at every 4th step, half
   * the price of 4 for the same success through the logged future; U at steps 0 and 10 only
   * cost 25-40 points).
   */
  km: { npred: number; batch: number; learningRate: number; lambdaL: number; lambdaU: number; k: number; uStride: number; uRows: number | null; worldReuse: number; worldPool: number };
}

// small keeps tiny's network and km settings: on the small pipeline's data a 32-feature,
// 128-unit network diverged at lr 1e-3 (saturated actions by update 600) and at 3e-4 drove no
// better (62.8 % against 62.4 %, vg-km through the logged future, 1500 updates; policy/README.md).
export const PRESETS: Record<PolicyPresetName, Preset> = {
  paper: { nfeature: 256, hidden: 256, npred: 20, batch: 6, k: 10, uBatches: 50, km: { npred: 30, batch: 6, learningRate: 1e-4, lambdaL: 0.2, lambdaU: 0.5, k: 10, uStride: 1, uRows: null, worldReuse: 1, worldPool: 1 } },
  small: { nfeature: 16, hidden: 64, npred: 10, batch: 6, k: 10, uBatches: 20, km: { npred: 20, batch: 8, learningRate: 1e-3, lambdaL: 1, lambdaU: 0.01, k: 2, uStride: 4, uRows: null, worldReuse: 4, worldPool: 16 } },
  tiny: { nfeature: 16, hidden: 64, npred: 4, batch: 4, k: 4, uBatches: 4, km: { npred: 20, batch: 8, learningRate: 1e-3, lambdaL: 1, lambdaU: 0.01, k: 2, uStride: 4, uRows: null, worldReuse: 4, worldPool: 16 } },
};

/** The learning rate of update `step` (0-based) of a run of `total` updates. */
export function learningRateAt(cfg: Pick<PolicyTrainConfig, 'learningRate' | 'lrDecay'>, step: number, total: number): number {
  if ((cfg.lrDecay ?? 'none') === 'none' || total <= 1) return cfg.learningRate;
  const f = Math.min(Math.max(step / (total - 1), 0), 1);
  return cfg.learningRate * 0.5 * (1 + Math.cos(Math.PI * f));
}

/** Paper defaults: lambda_u = 0.5, lambda_l = 0.2, no off-road term; Adam 1e-4, clip 50. */
export const DEFAULT_LAMBDAS = { lambdaL: 0.2, lambdaU: 0.5, lambdaO: 0 } as const;

export function checkPreset(name: string): PolicyPresetName {
  if (!(POLICY_PRESETS as readonly string[]).includes(name)) {
    throw new UserError(`field preset: unknown policy preset '${name}' (choose one of ${POLICY_PRESETS.join(', ')})`);
  }
  return name as PolicyPresetName;
}

export function checkMethod(name: string): PolicyMethod {
  if (!(POLICY_METHODS as readonly string[]).includes(name)) {
    throw new UserError(`field method: unknown policy training method '${name}' (choose one of ${POLICY_METHODS.join(', ')})`);
  }
  return name as PolicyMethod;
}

/** The network of a preset for a forward model with `ncond` frames of `channels` channels. */
export function policyNetConfig(preset: string, ncond: number, channels: number, stochastic = false, actionBound: number | null = null): PolicyNetConfig {
  const p = PRESETS[checkPreset(preset)];
  const cfg: PolicyNetConfig = { nfeature: p.nfeature, ncond, channels, hidden: p.hidden, stochastic, ...(actionBound === null ? {} : { actionBound }) };
  checkNetConfig(cfg);
  return cfg;
}

export type TrainOverrides = Partial<Omit<PolicyTrainConfig, 'method'>>;

/** Training settings of a preset and method with overrides; vg / svg have no uncertainty term, il one step. */
export function policyTrainConfig(preset: string, method: PolicyMethod, o: TrainOverrides = {}): PolicyTrainConfig {
  const p = PRESETS[checkPreset(preset)];
  const def = (v: number | undefined, d: number) => (v === undefined ? d : v);
  const km = isKmMethod(method);
  // Which weights a method has: the cost terms belong to the model-based methods, U to mpur and mpur-km.
  const costs = method === 'mpur' || method === 'vg' || method === 'svg' || km;
  if (!km && o.future !== undefined && o.future !== 'model') throw new UserError(`field future: only the km methods (mpur-km, vg-km) can drive through the real future; ${method} needs the model`);
  const lambda = (name: string, v: number | undefined, d: number, has: boolean) => {
    if (!has && v !== undefined && v !== 0) throw new UserError(`field ${name}: method ${method} has no such term (it must be 0 or left out)`);
    return has ? def(v, d) : 0;
  };
  const pooled = km && (o.future ?? 'model-logged') === 'model-logged';
  for (const [name, v] of [['world-reuse', o.worldReuse], ['world-pool', o.worldPool]] as const) {
    if (!pooled && v !== undefined && v !== 1) throw new UserError(`field ${name}: only the km methods through the model-logged world imagine windows ahead (method ${method}, future ${o.future ?? (km ? 'model-logged' : 'model')})`);
  }
  if (o.view !== undefined && !(POLICY_VIEWS as readonly string[]).includes(o.view)) throw new UserError(`field view: must be one of ${POLICY_VIEWS.join(', ')}, got '${String(o.view)}'`);
  if (!km && o.view !== undefined && o.view !== 'reference') throw new UserError(`field view: only the km methods (mpur-km, vg-km) separate the ego from the frames; ${method} reads the model's own`);
  if (o.lrDecay !== undefined && !(LR_DECAYS as readonly string[]).includes(o.lrDecay)) throw new UserError(`field lr-decay: must be one of ${LR_DECAYS.join(', ')}, got '${String(o.lrDecay)}'`);
  if (o.ema !== undefined && !(Number.isFinite(o.ema) && o.ema >= 0 && o.ema < 1)) throw new UserError(`field ema: the decay of the weight average must be in [0, 1) (0: off), got ${o.ema}`);
  if (o.gradClip !== undefined && !(Number.isFinite(o.gradClip) && o.gradClip > 0)) throw new UserError(`field grad-clip: must be a positive number, got ${o.gradClip}`);
  if (method === 'il' && o.npred !== undefined && o.npred !== 1) throw new UserError(`field npred: il imitates one step (npred 1), got ${o.npred}`);
  const cfg: PolicyTrainConfig = {
    method,
    npred: method === 'il' ? 1 : def(o.npred, km ? p.km.npred : p.npred),
    batch: def(o.batch, km ? p.km.batch : p.batch),
    learningRate: def(o.learningRate, km ? p.km.learningRate : 1e-4),
    gradClip: def(o.gradClip, 50),
    lrDecay: o.lrDecay ?? 'none',
    lambdaL: lambda('lambda-l', o.lambdaL, km ? p.km.lambdaL : DEFAULT_LAMBDAS.lambdaL, costs),
    lambdaU: lambda('lambda-u', o.lambdaU, km ? p.km.lambdaU : DEFAULT_LAMBDAS.lambdaU, method === 'mpur' || method === 'mpur-km'),
    lambdaO: lambda('lambda-o', o.lambdaO, DEFAULT_LAMBDAS.lambdaO, costs),
    k: def(o.k, km ? p.km.k : p.k),
    uBatches: def(o.uBatches, p.uBatches),
    uHinge: def(o.uHinge, 0.5),
    gamma: def(o.gamma, 0.99),
    // The km methods default to the world model unrolled with the logged actions (measured in policy/README.md).
    future: o.future ?? (km ? 'model-logged' : 'model'),
    lambdaF: lambda('lambda-f', o.lambdaF, 1, km),
    lambdaA: lambda('lambda-a', o.lambdaA, 0, km),
    lambdaJ: lambda('lambda-j', o.lambdaJ, 0, km),
    view: o.view ?? 'reference',
    ema: def(o.ema, 0),
    uStride: def(o.uStride, km ? p.km.uStride : 1),
    uRows: o.uRows !== undefined ? o.uRows : km ? p.km.uRows : null,
    worldReuse: def(o.worldReuse, km ? p.km.worldReuse : 1),
    worldPool: def(o.worldPool, km ? p.km.worldPool : 1),
  };
  checkTrainConfig(cfg);
  return cfg;
}

function intMin(file: string, name: string, v: unknown, min: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new UserError(`${file}: field ${name}: must be an integer >= ${min}, got ${String(v)}`);
}

function nonNegative(file: string, name: string, v: unknown): void {
  if (typeof v !== 'number' || !(Number.isFinite(v) && v >= 0)) throw new UserError(`${file}: field ${name}: must be a number >= 0, got ${String(v)}`);
}

export function checkNetConfig(cfg: PolicyNetConfig, file = 'policy config'): void {
  intMin(file, 'nfeature', cfg.nfeature, 4);
  if (cfg.nfeature % 4 !== 0) throw new UserError(`${file}: field nfeature: must be a multiple of 4, got ${cfg.nfeature}`);
  intMin(file, 'ncond', cfg.ncond, 1);
  intMin(file, 'channels', cfg.channels, 1);
  intMin(file, 'hidden', cfg.hidden, 1);
  if (typeof cfg.stochastic !== 'boolean') throw new UserError(`${file}: field stochastic: must be true or false`);
  const b = cfg.actionBound;
  if (b !== undefined && b !== null && !(typeof b === 'number' && Number.isFinite(b) && b > 0)) throw new UserError(`${file}: field actionBound: must be a positive number or null, got ${String(b)}`);
}

export function checkTrainConfig(cfg: PolicyTrainConfig, file = 'policy training'): void {
  checkMethod(cfg.method);
  intMin(file, 'npred', cfg.npred, 1);
  intMin(file, 'batch', cfg.batch, 1);
  intMin(file, 'k', cfg.k, 2);
  intMin(file, 'uBatches', cfg.uBatches, 1);
  for (const k of ['learningRate', 'gradClip'] as const) {
    if (!(Number.isFinite(cfg[k]) && cfg[k] > 0)) throw new UserError(`${file}: field ${k}: must be a positive number, got ${cfg[k]}`);
  }
  for (const k of ['lambdaL', 'lambdaU', 'lambdaO', 'uHinge'] as const) nonNegative(file, k, cfg[k]);
  if (!(cfg.gamma > 0 && cfg.gamma <= 1)) throw new UserError(`${file}: field gamma: must be in (0, 1], got ${cfg.gamma}`);
  if (!(WORLD_SOURCES as readonly string[]).includes(cfg.future)) throw new UserError(`${file}: field future: must be one of ${WORLD_SOURCES.join(', ')}, got ${String(cfg.future)}`);
  nonNegative(file, 'lambdaF', cfg.lambdaF);
  if (cfg.lambdaA !== undefined) nonNegative(file, 'lambdaA', cfg.lambdaA);
  if (cfg.lambdaJ !== undefined) nonNegative(file, 'lambdaJ', cfg.lambdaJ);
  if (cfg.view !== undefined && !(POLICY_VIEWS as readonly string[]).includes(cfg.view)) throw new UserError(`${file}: field view: must be one of ${POLICY_VIEWS.join(', ')}, got ${String(cfg.view)}`);
  if (cfg.ema !== undefined && !(Number.isFinite(cfg.ema) && cfg.ema >= 0 && cfg.ema < 1)) throw new UserError(`${file}: field ema: must be a number in [0, 1), got ${String(cfg.ema)}`);
  if (cfg.lrDecay !== undefined && !(LR_DECAYS as readonly string[]).includes(cfg.lrDecay)) throw new UserError(`${file}: field lrDecay: must be one of ${LR_DECAYS.join(', ')}, got ${String(cfg.lrDecay)}`);
  intMin(file, 'uStride', cfg.uStride, 1);
  if (cfg.uRows !== undefined && cfg.uRows !== null) intMin(file, 'uRows', cfg.uRows, 1);
  if (cfg.worldReuse !== undefined) intMin(file, 'worldReuse', cfg.worldReuse, 1);
  if (cfg.worldPool !== undefined) intMin(file, 'worldPool', cfg.worldPool, 1);
}
