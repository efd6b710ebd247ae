/**
 * Forward-model hyper-parameters and the named presets (docs/method.md section 5).
 *
 * The `paper` preset is the published network: 20 context frames of 3 x 117 x 24 pixels, a
 * 256-feature 14 x 3 code, a 32-d latent, dropout 0.1, batch 64, 20 predicted steps. `small` and
 * `tiny` keep the same shape (layers, strides, the 14 x 3 code) with fewer features and frames so
 * that they train on a CPU. Image size is fixed by the dataset format (117 x 24, data/layout.ts).
 */
import { UserError } from '../../common/errors.js';

export type FmKind = 'deterministic' | 'vae';
export type ImageSkip = 'sum' | 'logit';
export const IMAGE_SKIPS: readonly ImageSkip[] = ['sum', 'logit'];
/** Clip of the last frame before its logit (pixels are 0 or 1 mostly: logit(0.01) = -4.6). */
export const LOGIT_CLIP = 0.01;
export type FmPresetName = 'tiny' | 'small' | 'paper';
export const FM_PRESETS: readonly FmPresetName[] = ['tiny', 'small', 'paper'];

export interface FmConfig {
  /** Feature maps of the last encoder layer (the code has nfeature x 14 x 3 values); a multiple of 4. */
  nfeature: number;
  /** Context frames fed to the encoder. */
  ncond: number;
  /** Steps predicted (and back-propagated through) per training window. */
  npred: number;
  /** Latent size of the VAE. */
  nz: number;
  /** Dropout probability of every Dropout / Dropout2d layer. */
  dropout: number;
  /** Probability, per predicted step, of drawing z from the prior instead of the posterior (training only). */
  zDropout: number;
  /** Weight of the KL term in the loss. */
  beta: number;
  /** Whether the residual block (u-network) is added to the code. */
  residual: boolean;
  /** Image channels (3 in the paper version, 4 with the separate ego channel). */
  channels: number;
  /**
   * How the last context frame enters the output sigmoid: 'sum' is the paper's
   * sigmoid(decoded + last frame), where an empty (0) pixel starts at sigmoid(0) = 0.5 and the
   * decoder must learn to push every pixel back; 'logit' is
   * sigmoid(decoded + logit(clip(last frame, LOGIT_CLIP, 1 - LOGIT_CLIP))), where a zero decoder
   * output reproduces the last frame (to within the clip), so a young model starts at copy-last.
   * Checkpoints written before this field existed are 'sum'.
   */
  imageSkip: ImageSkip;
  /** Default batch size and learning rate for training. */
  batch: number;
  learningRate: number;
  /** Gradient-norm clip. */
  gradClip: number;
}

/** Code size after three stride-2 convolutions of 117 x 24. */
export const CODE_H = 14;
export const CODE_W = 3;

const BASE = { dropout: 0.1, zDropout: 0.5, beta: 1e-6, residual: true, channels: 3, learningRate: 1e-4, gradClip: 5 };

// The paper preset keeps the published output layer ('sum'); the CPU presets start at copy-last
// ('logit', measured in worldmodel/fm/README.md). small is sized for the 100-minute small
// pipeline on 2 cores (0.13 s a deterministic update on one core, against 1.16 s for the earlier
// 64-feature, 10 + 10-frame, batch-16 network): twice tiny's features and batch, tiny's frames.
export const PRESETS: Record<FmPresetName, FmConfig> = {
  paper: { ...BASE, nfeature: 256, ncond: 20, npred: 20, nz: 32, batch: 64, imageSkip: 'sum' },
  small: { ...BASE, nfeature: 32, ncond: 4, npred: 4, nz: 16, batch: 8, imageSkip: 'logit' },
  tiny: { ...BASE, nfeature: 16, ncond: 4, npred: 4, nz: 8, batch: 4, imageSkip: 'logit' },
};

/** The preset's configuration, with overrides applied and checked. */
export function fmConfig(preset: string, overrides: Partial<FmConfig> = {}): FmConfig {
  if (!(FM_PRESETS as readonly string[]).includes(preset)) {
    throw new UserError(`field preset: unknown forward-model preset '${preset}' (choose one of ${FM_PRESETS.join(', ')})`);
  }
  const cfg = { ...PRESETS[preset as FmPresetName], ...dropUndefined(overrides) };
  checkFmConfig(cfg);
  return cfg;
}

function dropUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Throws a UserError naming the first bad field. */
export function checkFmConfig(cfg: FmConfig, file = 'config'): void {
  const intMin = (name: keyof FmConfig, min: number) => {
    const v = cfg[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new UserError(`${file}: field ${name}: must be an integer >= ${min}, got ${String(v)}`);
  };
  const prob = (name: keyof FmConfig) => {
    const v = cfg[name];
    if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new UserError(`${file}: field ${name}: must be in [0, 1), got ${String(v)}`);
  };
  intMin('nfeature', 4);
  if (cfg.nfeature % 4 !== 0) throw new UserError(`${file}: field nfeature: must be a multiple of 4, got ${cfg.nfeature}`);
  intMin('ncond', 1);
  intMin('npred', 1);
  intMin('nz', 1);
  intMin('channels', 1);
  intMin('batch', 1);
  prob('dropout');
  if (!(cfg.zDropout >= 0 && cfg.zDropout <= 1)) throw new UserError(`${file}: field zDropout: must be in [0, 1], got ${cfg.zDropout}`);
  for (const k of ['beta', 'learningRate', 'gradClip'] as const) {
    if (!(Number.isFinite(cfg[k]) && cfg[k] > 0)) throw new UserError(`${file}: field ${k}: must be a positive number, got ${cfg[k]}`);
  }
  if (typeof cfg.residual !== 'boolean') throw new UserError(`${file}: field residual: must be true or false`);
  if (!(IMAGE_SKIPS as readonly string[]).includes(cfg.imageSkip)) throw new UserError(`${file}: field imageSkip: must be one of ${IMAGE_SKIPS.join(', ')}, got ${String(cfg.imageSkip)}`);
}

/** Values in the code (nfeature x 14 x 3), the size the state, action and z MLPs expand to. */
export function hiddenSize(cfg: FmConfig): number {
  return cfg.nfeature * CODE_H * CODE_W;
}
