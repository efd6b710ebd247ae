/**
 * The world model's view of an episode for the viewer: from the ncond observations and ego
 * states up to a frame, and the actions the bot then actually took, a forward-model checkpoint
 * (worldmodel/fm) imagines the next `horizon` frames with `samples` dropout copies sharing one
 * z sequence (MC dropout, as MPUR's uncertainty). The viewer shows the copies' mean image per
 * step and their spread (variance across copies, mean over pixels), next to what did happen.
 *
 * Inputs follow the model's conventions: images / 255 stacked on channels oldest first, states
 * and actions standardised with the statistics saved in the checkpoint.
 */
import { UserError } from '../../common/errors.js';
import { IMAGE_H, IMAGE_W, STATE_DIM } from '../../data/layout.js';
import type { ImaginedFrames } from '../protocol/types.js';

export interface ImaginationContext {
  /** ncond observations, oldest first, each uint8 [117, 24, C]. */
  images: Uint8Array[];
  /** ncond ego states (x, y, vx, vy), px and px/s. */
  states: Float32Array[];
  /** The actions (a px/s^2, b 1/px) taken from the last context frame on, one per imagined step. */
  actions: Array<[number, number]>;
}

export interface Imagination {
  /** Context frames the model needs. */
  readonly ncond: number;
  readonly channels: number;
  readonly horizon: number;
  readonly samples: number;
  imagine(ctx: ImaginationContext, seed: number): Promise<ImaginedFrames>;
  dispose(): void;
}

/** Loads a forward-model checkpoint for imagination; `where` names the scenario field in errors. */
export async function loadImagination(path: string, horizon: number, samples: number, where: string): Promise<Imagination> {
  const tf = await import('@tensorflow/tfjs');
  const { initFmBackend } = await import('../../worldmodel/fm/setup.js');
  const { loadFm } = await import('../../worldmodel/fm/checkpoint.js');
  const { mcDropoutNoise, mcDropoutUncertainty } = await import('../../worldmodel/fm/uncertainty.js');
  await initFmBackend(process.env.TFJS_BACKEND);
  let loaded;
  try {
    loaded = loadFm(path);
  } catch (e) {
    throw new UserError(`${where}: ${(e as Error).message}`);
  }
  const { model, hparams } = loaded;
  const { ncond, channels } = hparams.config;
  const st = hparams.stats;
  const k = Math.max(2, samples);
  return {
    ncond,
    channels,
    horizon,
    samples: k,
    async imagine(ctx, seed) {
      const steps = Math.min(horizon, ctx.actions.length);
      if (ctx.images.length !== ncond || ctx.states.length !== ncond) throw new Error(`imagination needs ${ncond} context frames, got ${ctx.images.length}`);
      if (steps === 0) throw new Error('imagination needs at least one action');
      const H = IMAGE_H;
      const W = IMAGE_W;
      const C = channels;
      const img = new Float32Array(H * W * ncond * C);
      ctx.images.forEach((im, t) => {
        for (let p = 0; p < H * W; p++) for (let c = 0; c < C; c++) img[p * ncond * C + t * C + c] = im[p * C + c]! / 255;
      });
      const states = new Float32Array(ncond * STATE_DIM);
      ctx.states.forEach((s, t) => {
        for (let d = 0; d < STATE_DIM; d++) states[t * STATE_DIM + d] = (s[d]! - st.stateMean[d]!) / st.stateStd[d]!;
      });
      const result = tf.tidy(() => {
        const input = { images: tf.tensor4d(img, [1, H, W, ncond * C]), states: tf.tensor2d(states, [1, ncond * STATE_DIM]) };
        const actions = ctx.actions.slice(0, steps).map(([a, b]) => tf.tensor2d([[(a - st.actionMean[0]!) / st.actionStd[0]!, (b - st.actionMean[1]!) / st.actionStd[1]!]]));
        const r = mcDropoutUncertainty(model, input, { k, actions, noise: mcDropoutNoise(seed) });
        // Mean over the copies of each step's image, [steps, H, W, C].
        const mean = tf.stack(r.images.map((im) => tf.mean(im, 0)));
        return { mean: tf.keep(tf.clipByValue(tf.mul(mean, 255), 0, 255).round().cast('int32')), spread: tf.keep(tf.reshape(r.imageVar, [steps])) };
      });
      const [frames, spread] = await Promise.all([result.mean.data(), result.spread.data()]);
      result.mean.dispose();
      result.spread.dispose();
      return { steps, heightPx: H, widthPx: W, channels: C, frames: Uint8Array.from(frames as Int32Array), spread: Float32Array.from(spread as Float32Array) };
    },
    dispose: () => model.dispose(),
  };
}
