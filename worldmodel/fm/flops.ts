/**
 * Floating-point operations of one forward prediction step of one sample (2 per multiply-add;
 * convolutions, transposed convolutions and dense layers only, which are nearly all the work).
 * The posterior is counted in full (a training step without z-dropout). A training step costs
 * about three times this (forward, input gradients, weight gradients).
 */
import { hiddenSize, type FmConfig, type FmKind } from './config.js';
import { ACTION_DIM, STATE_DIM } from '../../data/layout.js';

export function forwardFlops(cfg: FmConfig, kind: FmKind): number {
  const nf = cfg.nfeature;
  const hidden = hiddenSize(cfg);
  const C = cfg.channels;
  // Multiply-adds: conv = output positions * kh * kw * cin * cout; deconv = input positions * kh * kw * cin * cout.
  const encoder = (cin: number) => 58 * 12 * 16 * cin * (nf / 4) + 29 * 6 * 16 * (nf / 4) * (nf / 2) + 14 * 3 * 16 * (nf / 2) * nf;
  const mlp = (nin: number, nout: number) => nin * nf + nf * nf + nf * nout;
  let macs = encoder(cfg.ncond * C) + mlp(cfg.ncond * STATE_DIM, hidden) + mlp(ACTION_DIM, hidden);
  if (kind === 'vae') macs += encoder(C) + mlp(hidden, 2 * cfg.nz) + cfg.nz * hidden;
  if (cfg.residual) macs += 7 * 1 * 16 * nf * nf + 3 * 2 * 4 * nf * nf + 2 * 6 * nf * nf + 3 * 2 * 4 * nf * nf + 6 * 1 * 12 * nf * nf;
  macs += 14 * 3 * 16 * nf * (nf / 2) + 28 * 6 * 25 * (nf / 2) * (nf / 4) + 59 * 13 * 4 * (nf / 4) * C;
  macs += 7 * 1 * 16 * nf * nf + 2 * 1 * 4 * nf * nf + mlp(2 * nf, STATE_DIM);
  return 2 * macs;
}
