/**
 * The forward (world) model of docs/method.md section 5: from the last ncond state images (stacked on
 * the channel axis, values in [0, 1]) and ego states (standardised), and one action
 * (standardised), it predicts the next image and state; predictions are fed back to unroll.
 *
 *   h = Enc(images) + MLP_s(states)                      code, nfeature x 14 x 3
 *   h += Expand(z)                                       VAE only: z ~ posterior or N(0, I)
 *   h += MLP_a(action)
 *   h += Residual(h)                                     when cfg.residual
 *   image = sigmoid(Dec(h)[:117] + skip(last image)), state = MLP(Reduce(h)) + last state
 *   skip(x) = x (paper, cfg.imageSkip 'sum') or logit(clip(x, 0.01, 0.99)) ('logit': a zero
 *   decoder output copies the last frame)
 *
 * Posterior (training): MLP(h_x + Enc_post(target image)) -> mean, log-variance of z.
 * z-dropout: with probability cfg.zDropout per step z comes from the prior (no KL).
 * The deterministic model is the same network without the latent parts.
 * Everything is differentiable tfjs ops (no data reads), so callers may take gradients with
 * respect to inputs or actions.
 */
import * as tf from '@tensorflow/tfjs';
import { CODE_H, CODE_W, LOGIT_CLIP, hiddenSize, type FmConfig, type FmKind } from './config.js';
import { IMAGE_H, STATE_DIM } from '../../data/layout.js';
import { conv, deconv, dropout2d, frameEncoder, leaky, mlp, dense, dropout } from './layers.js';
import { RES_H, RES_W, countParams, disposeWeights, initWeights, paramSpecs, type ParamCount, type ParamSpec, type WeightMap } from './params.js';
import type { FmNoise } from './noise.js';
import { klDivergence } from './losses.js';

/** Context window: images [B, H, W, ncond * C] in [0, 1] (oldest frame first), states [B, ncond * 4] standardised. */
export interface FmInput {
  images: tf.Tensor4D;
  states: tf.Tensor2D;
}

export interface StepOutput {
  /** [B, 117, 24, C], in (0, 1). */
  image: tf.Tensor4D;
  /** [B, 4], standardised. */
  state: tf.Tensor2D;
}

export interface UnrollOptions {
  /** Standardised actions per step: a list of [B, 2], or a function of the step and the current context (a policy). */
  actions: tf.Tensor2D[] | ((t: number, input: FmInput) => tf.Tensor2D);
  /** Number of steps (default: the length of `actions`). */
  steps?: number;
  noise: FmNoise;
  /** Target images per step [B, H, W, C]: z from the posterior (training). */
  targets?: tf.Tensor4D[];
  /** Given z per step [B, nz] (overrides targets and the prior). */
  zs?: tf.Tensor2D[];
  /** Probability of drawing z from the prior instead of the posterior; default cfg.zDropout when targets are given. */
  zDropout?: number;
}

export interface UnrollResult {
  images: tf.Tensor4D[];
  states: tf.Tensor2D[];
  /** Sum over steps of the per-sample KL (0 for the deterministic model and prior steps). */
  kl: tf.Scalar;
  /** z used per step (empty for the deterministic model). */
  zs: tf.Tensor2D[];
  /** Per step: whether z came from the prior while targets were given (z-dropout). */
  zDropped: boolean[];
}

export class ForwardModel {
  readonly specs: ParamSpec[];
  private readonly hidden: number;

  constructor(
    readonly cfg: FmConfig,
    readonly kind: FmKind,
    readonly weights: WeightMap,
  ) {
    this.specs = paramSpecs(cfg, kind);
    this.hidden = hiddenSize(cfg);
    for (const s of this.specs) {
      const v = weights[s.name];
      if (!v) throw new Error(`forward model: weight ${s.name} missing`);
      if (v.shape.join(',') !== s.shape.join(',')) throw new Error(`forward model: weight ${s.name} has shape [${v.shape}], expected [${s.shape}]`);
    }
  }

  /** A fresh model with seeded PyTorch-style initialisation. */
  static create(cfg: FmConfig, kind: FmKind, seed: number): ForwardModel {
    return new ForwardModel(cfg, kind, initWeights(paramSpecs(cfg, kind), seed));
  }

  paramCount(): ParamCount {
    return countParams(this.specs);
  }

  /** The trainable variables in spec order. */
  variables(): tf.Variable[] {
    return this.specs.map((s) => this.weights[s.name]!);
  }

  /** Freezes (or unfreezes) the weights so that gradient calls skip them. */
  setTrainable(trainable: boolean): void {
    for (const v of this.variables()) v.trainable = trainable;
  }

  dispose(): void {
    disposeWeights(this.weights);
  }

  private toCode(x: tf.Tensor2D): tf.Tensor4D {
    return tf.reshape(x, [x.shape[0], CODE_H, CODE_W, this.cfg.nfeature]);
  }

  /** h_x: the code of the context, [B, 14, 3, nfeature]. */
  encode(input: FmInput, noise: FmNoise): tf.Tensor4D {
    const p = this.cfg.dropout;
    const hImg = frameEncoder(this.weights, 'enc', input.images, p, noise);
    const hState = this.toCode(mlp(this.weights, 'enc.state', input.states, p, noise));
    return tf.add(hImg, hState);
  }

  /** Posterior mean and log-variance of z given the context code and the target image. */
  posterior(hx: tf.Tensor4D, target: tf.Tensor4D, noise: FmNoise): { mu: tf.Tensor2D; logvar: tf.Tensor2D } {
    this.needVae('posterior');
    const p = this.cfg.dropout;
    const hy = frameEncoder(this.weights, 'post', target, p, noise);
    const flat = tf.reshape(tf.add(hx, hy), [hx.shape[0], this.hidden]) as tf.Tensor2D;
    const muLogvar = mlp(this.weights, 'post.z', flat, p, noise);
    const nz = this.cfg.nz;
    return { mu: tf.slice(muLogvar, [0, 0], [-1, nz]), logvar: tf.slice(muLogvar, [0, nz], [-1, nz]) };
  }

  /** Residual block: two convs to 3 x 2, MLP, two transposed convs back to 14 x 3. */
  private residual(h: tf.Tensor4D, noise: FmNoise): tf.Tensor4D {
    const w = this.weights;
    const p = this.cfg.dropout;
    const nf = this.cfg.nfeature;
    const b = h.shape[0];
    let r = leaky(dropout2d(conv(w, 'res.conv1', h, [2, 2], [1, 1]), p, noise));
    r = conv(w, 'res.conv2', r, [2, 2], [1, 1]);
    let f = tf.reshape(r, [b, RES_H * RES_W * nf]) as tf.Tensor2D;
    f = leaky(dropout(dense(w, 'res.fc1', f), p, noise));
    f = dense(w, 'res.fc2', f);
    r = tf.reshape(f, [b, RES_H, RES_W, nf]);
    r = leaky(dropout2d(deconv(w, 'res.deconv1', r, [2, 2], [1, 1]), p, noise));
    return deconv(w, 'res.deconv2', r, [2, 2], [0, 0]);
  }

  /** Decoder: image residual [B, 117, 24, C] (before the sigmoid) and state change [B, 4]. */
  private decode(h: tf.Tensor4D, noise: FmNoise): { image: tf.Tensor4D; state: tf.Tensor2D } {
    const w = this.weights;
    const p = this.cfg.dropout;
    const b = h.shape[0];
    let red = leaky(dropout2d(conv(w, 'dec.reduce1', h, [2, 2], [1, 1]), p, noise));
    red = leaky(dropout2d(conv(w, 'dec.reduce2', red, [2, 1], [0, 0]), p, noise));
    const state = mlp(w, 'dec.state', tf.reshape(red, [b, -1]) as tf.Tensor2D, p, noise);
    let img = leaky(dropout2d(deconv(w, 'dec.deconv1', h, [2, 2], [1, 1]), p, noise));
    img = leaky(dropout2d(deconv(w, 'dec.deconv2', img, [2, 2], [0, 1]), p, noise));
    img = deconv(w, 'dec.deconv3', img, [2, 2], [0, 1]);
    return { image: tf.slice(img, [0, 0, 0, 0], [-1, IMAGE_H, -1, -1]), state };
  }

  /** The last context frame [B, H, W, C] and state [B, 4]. */
  lastFrame(input: FmInput): { image: tf.Tensor4D; state: tf.Tensor2D } {
    const c = this.cfg.channels;
    const n = this.cfg.ncond;
    return {
      image: tf.slice(input.images, [0, 0, 0, (n - 1) * c], [-1, -1, -1, c]),
      state: tf.slice(input.states, [0, (n - 1) * STATE_DIM], [-1, STATE_DIM]),
    };
  }

  /** Prediction from a context code `hx`, latent `z` (null for the deterministic model) and action. */
  predictFromCode(input: FmInput, hx: tf.Tensor4D, z: tf.Tensor2D | null, action: tf.Tensor2D, noise: FmNoise): StepOutput {
    let h = hx;
    if (this.kind === 'vae') {
      if (!z) throw new Error('forward model: the VAE needs z');
      h = tf.add(h, this.toCode(dense(this.weights, 'zexp', z)));
    }
    h = tf.add(h, this.toCode(mlp(this.weights, 'act', action, this.cfg.dropout, noise)));
    if (this.cfg.residual) h = tf.add(h, this.residual(h, noise));
    const dec = this.decode(h, noise);
    const last = this.lastFrame(input);
    return { image: tf.sigmoid(tf.add(dec.image, this.imageSkip(last.image))), state: tf.add(dec.state, last.state) };
  }

  /** The last frame as it enters the output sigmoid (config.ts, imageSkip). */
  private imageSkip(last: tf.Tensor4D): tf.Tensor4D {
    if (this.cfg.imageSkip === 'sum') return last;
    const p = tf.clipByValue(last, LOGIT_CLIP, 1 - LOGIT_CLIP);
    return tf.log(tf.div(p, tf.sub(1, p)));
  }

  /** One step: next image and state for `action` (z ignored by the deterministic model). */
  step(input: FmInput, action: tf.Tensor2D, z: tf.Tensor2D | null, noise: FmNoise): StepOutput {
    return this.predictFromCode(input, this.encode(input, noise), z, action, noise);
  }

  /** The context shifted by one step with the new frame appended. */
  advance(input: FmInput, out: StepOutput): FmInput {
    const c = this.cfg.channels;
    const n = this.cfg.ncond;
    if (n === 1) return { images: out.image, states: out.state };
    return {
      images: tf.concat([tf.slice(input.images, [0, 0, 0, c], [-1, -1, -1, (n - 1) * c]), out.image], 3),
      states: tf.concat([tf.slice(input.states, [0, STATE_DIM], [-1, (n - 1) * STATE_DIM]), out.state], 1),
    };
  }

  /** z ~ N(0, I) for `batch` samples. */
  samplePrior(batch: number, noise: FmNoise): tf.Tensor2D {
    return noise.normal([batch, this.cfg.nz]) as tf.Tensor2D;
  }

  /**
   * Autoregressive prediction over `steps`. z per step: given (`zs`), else the posterior of the
   * target (training, with z-dropout), else the prior.
   */
  unroll(input0: FmInput, opts: UnrollOptions): UnrollResult {
    const steps = opts.steps ?? (Array.isArray(opts.actions) ? opts.actions.length : 0);
    if (steps < 1) throw new Error('forward model: unroll needs at least one step');
    const b = input0.images.shape[0];
    const zDropout = opts.zDropout ?? this.cfg.zDropout;
    const images: tf.Tensor4D[] = [];
    const states: tf.Tensor2D[] = [];
    const zs: tf.Tensor2D[] = [];
    const zDropped: boolean[] = [];
    let kl: tf.Scalar = tf.scalar(0);
    let input = input0;
    for (let t = 0; t < steps; t++) {
      const action = Array.isArray(opts.actions) ? opts.actions[t]! : opts.actions(t, input);
      const hx = this.encode(input, opts.noise);
      let z: tf.Tensor2D | null = null;
      if (this.kind === 'vae') {
        if (opts.zs) {
          z = opts.zs[t]!;
        } else if (opts.targets) {
          if (opts.noise.dropZ(zDropout)) {
            z = this.samplePrior(b, opts.noise);
            zDropped.push(true);
          } else {
            const { mu, logvar } = this.posterior(hx, opts.targets[t]!, opts.noise);
            const eps = opts.noise.normal(mu.shape);
            z = tf.add(mu, tf.mul(eps, tf.exp(tf.mul(logvar, 0.5))));
            kl = tf.add(kl, klDivergence(mu, logvar));
            zDropped.push(false);
          }
        } else {
          z = this.samplePrior(b, opts.noise);
        }
        zs.push(z);
      }
      const out = this.predictFromCode(input, hx, z, action, opts.noise);
      images.push(out.image);
      states.push(out.state);
      if (t + 1 < steps) input = this.advance(input, out);
    }
    return { images, states, kl, zs, zDropped };
  }

  private needVae(what: string): void {
    if (this.kind !== 'vae') throw new Error(`forward model: ${what} exists only in the VAE model`);
  }
}
