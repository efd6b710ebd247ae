/**
 * The policy network (docs/method.md section 6): the forward model's encoder on the last ncond frames
 * and ego states, a linear projection to `hidden` units, two more hidden layers, and the action
 * head:
 *
 *   h = Enc(images) + MLP_s(states)              nfeature x 14 x 3 (same shapes as the forward model)
 *   h = relu(W_p h); h = relu(W_1 h); h = relu(W_2 h)
 *   deterministic: a = W_o h                      [B, 2]
 *   stochastic:    (mean, logvar) = W_o h         [B, 2] each; a = mean + exp(logvar / 2) * eps
 *   with an action bound b (the km methods): a = b tanh(W_o h / b) (the mean, when stochastic)
 *
 * Inputs are normalised like the forward model's (images / 255 in [0, 1], pixel-major then frame
 * then channel; states standardised with the model's statistics); actions are normalised too
 * (standardised acceleration and steering); un-normalising them is the controller's job.
 * Weights are a plain map of tf.Variables initialised like PyTorch's defaults from a seed.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../common/rng.js';
import { ACTION_DIM, STATE_DIM } from '../data/layout.js';
import { CODE_H, CODE_W } from '../worldmodel/fm/config.js';
import { dense, frameEncoder, leaky } from '../worldmodel/fm/layers.js';
import { FmNoise } from '../worldmodel/fm/noise.js';
import type { FmInput } from '../worldmodel/fm/model.js';
import type { WeightMap } from '../worldmodel/fm/params.js';
import type { PolicyNetConfig } from './config.js';

export interface PolicyParamSpec {
  name: string;
  shape: number[];
  fanIn: number;
}

/** Log-variance range of the stochastic head when sampling (keeps exp() finite). */
export const LOGVAR_MIN = -10;
export const LOGVAR_MAX = 2;

/** Network output: the action (the mean for a stochastic policy) and, if stochastic, its log-variance. */
export interface PolicyOutput {
  mean: tf.Tensor2D;
  logvar: tf.Tensor2D | null;
}

function conv(out: PolicyParamSpec[], name: string, cin: number, cout: number): void {
  out.push({ name: `${name}.w`, shape: [4, 4, cin, cout], fanIn: 16 * cin });
  out.push({ name: `${name}.b`, shape: [cout], fanIn: 16 * cin });
}

function lin(out: PolicyParamSpec[], name: string, nin: number, nout: number): void {
  out.push({ name: `${name}.w`, shape: [nin, nout], fanIn: nin });
  out.push({ name: `${name}.b`, shape: [nout], fanIn: nin });
}

/** Code size of the encoder: nfeature x 14 x 3. */
export function codeSize(cfg: PolicyNetConfig): number {
  return cfg.nfeature * CODE_H * CODE_W;
}

/** Every weight tensor, in a fixed order (names as in the forward model for the encoder). */
export function policyParamSpecs(cfg: PolicyNetConfig): PolicyParamSpec[] {
  const nf = cfg.nfeature;
  const out: PolicyParamSpec[] = [];
  conv(out, 'enc.conv1', cfg.ncond * cfg.channels, nf / 4);
  conv(out, 'enc.conv2', nf / 4, nf / 2);
  conv(out, 'enc.conv3', nf / 2, nf);
  lin(out, 'enc.state.fc1', cfg.ncond * STATE_DIM, nf);
  lin(out, 'enc.state.fc2', nf, nf);
  lin(out, 'enc.state.fc3', nf, codeSize(cfg));
  lin(out, 'proj', codeSize(cfg), cfg.hidden);
  lin(out, 'fc1', cfg.hidden, cfg.hidden);
  lin(out, 'fc2', cfg.hidden, cfg.hidden);
  lin(out, 'out', cfg.hidden, cfg.stochastic ? 2 * ACTION_DIM : ACTION_DIM);
  return out;
}

let instance = 0;

/** Variables for `specs` with PyTorch's default initialisation (uniform +-1/sqrt(fan-in)) from `seed`. */
export function initPolicyWeights(specs: PolicyParamSpec[], seed: number): WeightMap {
  const rng = new Rng(seed);
  const prefix = `policy${instance++}`;
  const w: WeightMap = {};
  for (const s of specs) {
    const bound = 1 / Math.sqrt(s.fanIn);
    const data = new Float32Array(s.shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = (2 * rng.next() - 1) * bound;
    const t = tf.tensor(data, s.shape, 'float32');
    w[s.name] = tf.variable(t, true, `${prefix}/${s.name}`);
    t.dispose();
  }
  return w;
}

/** Variables holding copies of `values` (the caller keeps and may dispose `values`). */
export function policyVariablesFrom(values: Record<string, tf.Tensor>): WeightMap {
  const prefix = `policy${instance++}`;
  const w: WeightMap = {};
  for (const [name, t] of Object.entries(values)) w[name] = tf.variable(t, true, `${prefix}/${name}`);
  return w;
}

/** The encoder and MLPs run without dropout: the policy acts deterministically for given inputs. */
const NO_DROPOUT = new FmNoise(0, false);

export class PolicyNetwork {
  readonly specs: PolicyParamSpec[];

  constructor(
    readonly cfg: PolicyNetConfig,
    readonly weights: WeightMap,
  ) {
    this.specs = policyParamSpecs(cfg);
    for (const s of this.specs) {
      const v = weights[s.name];
      if (!v) throw new Error(`policy: weight ${s.name} missing`);
      if (v.shape.join(',') !== s.shape.join(',')) throw new Error(`policy: weight ${s.name} has shape [${v.shape}], expected [${s.shape}]`);
    }
    for (const name of Object.keys(weights)) if (!this.specs.some((s) => s.name === name)) throw new Error(`policy: weight ${name} is not part of this network`);
  }

  static create(cfg: PolicyNetConfig, seed: number): PolicyNetwork {
    return new PolicyNetwork(cfg, initPolicyWeights(policyParamSpecs(cfg), seed));
  }

  paramCount(): number {
    return this.specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  }

  variables(): tf.Variable[] {
    return this.specs.map((s) => this.weights[s.name]!);
  }

  dispose(): void {
    for (const v of Object.values(this.weights)) v.dispose();
  }

  /** The network's output for a context: images [B, 117, 24, ncond * C] in [0, 1], states [B, ncond * 4] standardised. */
  forward(input: FmInput): PolicyOutput {
    return this.head(this.encodeImages(input.images), input.states);
  }

  /**
   * The image half of the encoder, [B, 14, 3, nfeature]: it depends on the frames only, so a
   * caller whose frames do not depend on the policy's actions (the logged future, a rollout
   * computed beforehand) encodes every step's context in one batched call.
   */
  encodeImages(images: tf.Tensor4D): tf.Tensor4D {
    return frameEncoder(this.weights, 'enc', images, 0, NO_DROPOUT);
  }

  /** The output for image codes from encodeImages and standardised states [B, ncond * 4]. */
  head(imageCode: tf.Tensor4D, states: tf.Tensor2D): PolicyOutput {
    return this.headProjected(this.projectCodes(imageCode), states);
  }

  /**
   * The image codes' share of the projection, W_p code [N, hidden] (no bias). The projection is
   * linear and the state MLP's last layer too, so W_p (code + MLP_s(s)) = W_p code + (W_3 W_p) h_s:
   * a rollout whose frames do not depend on the actions projects every step's code in one call
   * and runs only the narrow state path step by step (policy/km-rollout.ts).
   */
  projectCodes(imageCode: tf.Tensor4D): tf.Tensor2D {
    return tf.matMul(tf.reshape(imageCode, [imageCode.shape[0], codeSize(this.cfg)]), this.weights['proj.w']!) as tf.Tensor2D;
  }

  /**
   * The state MLP's last layer folded into the projection: W_3 W_p and b_3 W_p + b_p. A rollout
   * computes it once and passes it to every step's headProjected.
   */
  foldedStateProjection(): { w: tf.Tensor2D; b: tf.Tensor2D } {
    const w = this.weights;
    return {
      w: tf.matMul(w['enc.state.fc3.w']!, w['proj.w']!) as tf.Tensor2D,
      b: tf.add(tf.matMul(tf.reshape(w['enc.state.fc3.b']!, [1, -1]), w['proj.w']!), w['proj.b']!) as tf.Tensor2D,
    };
  }

  /** The output for projected codes (projectCodes) and standardised states [B, ncond * 4]. */
  headProjected(projected: tf.Tensor2D, states: tf.Tensor2D, folded = this.foldedStateProjection()): PolicyOutput {
    const w = this.weights;
    const h1 = leaky(dense(w, 'enc.state.fc1', states));
    const h2 = leaky(dense(w, 'enc.state.fc2', h1));
    // W_p (W_3 h2 + b_3) + b_p, as one product with the folded weight and bias.
    let h = tf.relu(tf.add(projected, tf.fused.matMul({ a: h2, b: folded.w, bias: folded.b }))) as tf.Tensor2D;
    h = tf.fused.matMul({ a: h, b: w['fc1.w']! as tf.Tensor2D, bias: w['fc1.b']!, activation: 'relu' }) as tf.Tensor2D;
    h = tf.fused.matMul({ a: h, b: w['fc2.w']! as tf.Tensor2D, bias: w['fc2.b']!, activation: 'relu' }) as tf.Tensor2D;
    const out = dense(w, 'out', h);
    if (!this.cfg.stochastic) return { mean: this.bound(out), logvar: null };
    return { mean: this.bound(tf.slice(out, [0, 0], [-1, ACTION_DIM])), logvar: tf.slice(out, [0, ACTION_DIM], [-1, ACTION_DIM]) };
  }

  /** b tanh(x / b) when the network has an action bound b (PolicyNetConfig.actionBound). */
  private bound(x: tf.Tensor2D): tf.Tensor2D {
    const b = this.cfg.actionBound;
    return b ? (tf.mul(tf.tanh(tf.div(x, b)), b) as tf.Tensor2D) : x;
  }

  /**
   * A normalised action [B, 2]: the output of a deterministic policy; for a stochastic one a
   * reparameterised sample when `sampleNoise` is given (gradients reach the mean and the
   * log-variance), else the mean.
   */
  act(input: FmInput, sampleNoise?: FmNoise): tf.Tensor2D {
    const o = this.forward(input);
    if (!o.logvar || !sampleNoise) return o.mean;
    const std = tf.exp(tf.mul(tf.clipByValue(o.logvar, LOGVAR_MIN, LOGVAR_MAX), 0.5));
    return tf.add(o.mean, tf.mul(sampleNoise.normal(o.mean.shape), std));
  }
}
