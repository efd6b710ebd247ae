/**
 * The forward model's weights: one spec per tensor (name, shape, fan-in, module) and their
 * seeded initialisation as a plain Record<string, tf.Variable>.
 *
 * Layouts follow tfjs: conv filters [kh, kw, in, out], transposed-conv filters [kh, kw, out, in],
 * dense [in, out]. Initialisation matches PyTorch's default (uniform in +-1/sqrt(fan-in) for
 * weights and biases, fan-in of a transposed conv counted over its output channels) so that the
 * parameter count and starting scale equal those of the reference model.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../common/rng.js';
import { hiddenSize, type FmConfig, type FmKind } from './config.js';
import { ACTION_DIM, STATE_DIM } from '../../data/layout.js';

/** Which part of the network a tensor belongs to (for counts and warm starts). */
export type FmModule = 'encoder' | 'action' | 'posterior' | 'latent' | 'residual' | 'decoder';

export interface ParamSpec {
  name: string;
  shape: number[];
  fanIn: number;
  module: FmModule;
}

export type WeightMap = Record<string, tf.Variable>;

/** Residual-block code after its two convolutions: 3 x 2 (hard-wired like the reference). */
export const RES_H = 3;
export const RES_W = 2;

function conv(out: ParamSpec[], module: FmModule, name: string, kh: number, kw: number, cin: number, cout: number): void {
  out.push({ name: `${name}.w`, shape: [kh, kw, cin, cout], fanIn: kh * kw * cin, module });
  out.push({ name: `${name}.b`, shape: [cout], fanIn: kh * kw * cin, module });
}

function deconv(out: ParamSpec[], module: FmModule, name: string, kh: number, kw: number, cin: number, cout: number): void {
  out.push({ name: `${name}.w`, shape: [kh, kw, cout, cin], fanIn: kh * kw * cout, module });
  out.push({ name: `${name}.b`, shape: [cout], fanIn: kh * kw * cout, module });
}

function dense(out: ParamSpec[], module: FmModule, name: string, nin: number, nout: number): void {
  out.push({ name: `${name}.w`, shape: [nin, nout], fanIn: nin, module });
  out.push({ name: `${name}.b`, shape: [nout], fanIn: nin, module });
}

/** The three-layer frame encoder: inC -> nf/4 -> nf/2 -> nf, 4x4 kernels, stride 2, padding 1. */
function frameEncoder(out: ParamSpec[], module: FmModule, prefix: string, inC: number, nf: number): void {
  conv(out, module, `${prefix}.conv1`, 4, 4, inC, nf / 4);
  conv(out, module, `${prefix}.conv2`, 4, 4, nf / 4, nf / 2);
  conv(out, module, `${prefix}.conv3`, 4, 4, nf / 2, nf);
}

/** Three-layer MLP nin -> nf -> nf -> nout. */
function mlp(out: ParamSpec[], module: FmModule, prefix: string, nin: number, nf: number, nout: number): void {
  dense(out, module, `${prefix}.fc1`, nin, nf);
  dense(out, module, `${prefix}.fc2`, nf, nf);
  dense(out, module, `${prefix}.fc3`, nf, nout);
}

/** Every weight tensor of the model, in a fixed order. */
export function paramSpecs(cfg: FmConfig, kind: FmKind): ParamSpec[] {
  const nf = cfg.nfeature;
  const hidden = hiddenSize(cfg);
  const out: ParamSpec[] = [];
  frameEncoder(out, 'encoder', 'enc', cfg.ncond * cfg.channels, nf);
  mlp(out, 'encoder', 'enc.state', cfg.ncond * STATE_DIM, nf, hidden);
  mlp(out, 'action', 'act', ACTION_DIM, nf, hidden);
  if (kind === 'vae') {
    frameEncoder(out, 'posterior', 'post', cfg.channels, nf);
    mlp(out, 'posterior', 'post.z', hidden, nf, 2 * cfg.nz);
    dense(out, 'latent', 'zexp', cfg.nz, hidden);
  }
  if (cfg.residual) {
    conv(out, 'residual', 'res.conv1', 4, 4, nf, nf);
    conv(out, 'residual', 'res.conv2', 4, 1, nf, nf);
    dense(out, 'residual', 'res.fc1', nf * RES_H * RES_W, nf);
    dense(out, 'residual', 'res.fc2', nf, nf * RES_H * RES_W);
    deconv(out, 'residual', 'res.deconv1', 4, 1, nf, nf);
    deconv(out, 'residual', 'res.deconv2', 4, 3, nf, nf);
  }
  deconv(out, 'decoder', 'dec.deconv1', 4, 4, nf, nf / 2);
  deconv(out, 'decoder', 'dec.deconv2', 5, 5, nf / 2, nf / 4);
  deconv(out, 'decoder', 'dec.deconv3', 2, 2, nf / 4, cfg.channels);
  conv(out, 'decoder', 'dec.reduce1', 4, 4, nf, nf);
  conv(out, 'decoder', 'dec.reduce2', 4, 1, nf, nf);
  mlp(out, 'decoder', 'dec.state', 2 * nf, nf, STATE_DIM);
  return out;
}

export function specSize(s: ParamSpec): number {
  return s.shape.reduce((a, b) => a * b, 1);
}

export interface ParamCount {
  total: number;
  withoutResidual: number;
  byModule: Partial<Record<FmModule, number>>;
}

/** Parameter count, in total, without the residual block, and per module. */
export function countParams(specs: ParamSpec[]): ParamCount {
  const byModule: Partial<Record<FmModule, number>> = {};
  let total = 0;
  for (const s of specs) {
    const n = specSize(s);
    total += n;
    byModule[s.module] = (byModule[s.module] ?? 0) + n;
  }
  return { total, withoutResidual: total - (byModule.residual ?? 0), byModule };
}

let instance = 0;

/** A variable per spec, initialised from `seed` (same seed, same weights on every backend). */
export function initWeights(specs: ParamSpec[], seed: number): WeightMap {
  const rng = new Rng(seed);
  const prefix = `fm${instance++}`;
  const w: WeightMap = {};
  for (const s of specs) {
    const bound = 1 / Math.sqrt(s.fanIn);
    const data = new Float32Array(specSize(s));
    for (let i = 0; i < data.length; i++) data[i] = (2 * rng.next() - 1) * bound;
    const t = tf.tensor(data, s.shape, 'float32');
    w[s.name] = tf.variable(t, true, `${prefix}/${s.name}`);
    t.dispose(); // the variable holds its own reference to the data
  }
  return w;
}

/** Variables holding the given values (names unique in this process); the caller keeps and may dispose `values`. */
export function variablesFrom(values: Record<string, tf.Tensor>): WeightMap {
  const prefix = `fm${instance++}`;
  const w: WeightMap = {};
  for (const [name, t] of Object.entries(values)) w[name] = tf.variable(t, true, `${prefix}/${name}`);
  return w;
}

export function disposeWeights(w: WeightMap): void {
  for (const v of Object.values(w)) v.dispose();
}
