import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { FM_PRESETS, PRESETS, fmConfig } from '../../../worldmodel/fm/config.js';
import { ForwardModel, type FmInput } from '../../../worldmodel/fm/model.js';
import { FmNoise } from '../../../worldmodel/fm/noise.js';
import { fmLoss, meanSquaredError } from '../../../worldmodel/fm/losses.js';
import { batchTensors, clipAndApply, disposeGradients, lossAndGrads, sumAll, trainStep } from '../../../worldmodel/fm/train-step.js';
import { makeBatch, type BatchSpec } from '../../../worldmodel/fm/batches.js';
import { openDataset } from '../../../data/dataset.js';
import type { Adam } from '../../../worldmodel/fm/adam.js';
import { randomActions, randomInput, setup, tinyDataset } from './helpers.js';

before(setup);

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('fmLoss: total = MSE(images) + MSE(states) + beta * KL, each MSE a mean over steps and elements', () => {
  tf.tidy(() => {
    // Two steps. Images: squared errors 1, 0 (mean 0.5) then 4, 4 (mean 4): MSE 2.25.
    const pi = [tf.tensor1d([1, 0]), tf.tensor1d([2, 2])];
    const ti = [tf.tensor1d([0, 0]), tf.tensor1d([0, 0])];
    // States: squared errors 9 then 1: MSE 5.
    const ps = [tf.tensor1d([3]), tf.tensor1d([0])];
    const ts = [tf.tensor1d([0]), tf.tensor1d([1])];
    const l = fmLoss(pi, ti, ps, ts, tf.scalar(4), 0.5);
    close(l.image.dataSync()[0]!, 2.25, 1e-6, 'image');
    close(l.state.dataSync()[0]!, 5, 1e-6, 'state');
    close(l.kl.dataSync()[0]!, 4, 1e-6, 'kl');
    close(l.total.dataSync()[0]!, 2.25 + 5 + 0.5 * 4, 1e-5, 'total');
    close(meanSquaredError(ps, ts).dataSync()[0]!, 5, 1e-6, 'meanSquaredError');
    assert.throws(() => meanSquaredError([], []), /empty/);
  });
});

test('advance drops the oldest frame and state and appends the prediction (newest last)', () => {
  const cfg = fmConfig('tiny', { ncond: 3 });
  const m = ForwardModel.create(cfg, 'deterministic', 3);
  const c = cfg.channels;
  tf.tidy(() => {
    // Frame k of the context is filled with the value k (channel j of it with k + j / 10); state k with 10 k + dim.
    const img = new Float32Array(117 * 24 * 3 * c);
    for (let p = 0; p < 117 * 24; p++) for (let k = 0; k < 3; k++) for (let j = 0; j < c; j++) img[p * 3 * c + k * c + j] = k + j / 10;
    const states = Float32Array.from({ length: 12 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4));
    const input: FmInput = { images: tf.tensor4d(img, [1, 117, 24, 3 * c]), states: tf.tensor2d(states, [1, 12]) };
    const out = { image: tf.fill([1, 117, 24, c], 7) as tf.Tensor4D, state: tf.tensor2d([[70, 71, 72, 73]]) };
    const next = m.advance(input, out);
    assert.deepEqual(next.images.shape, [1, 117, 24, 3 * c]);
    const px = Array.from(tf.slice(next.images, [0, 50, 10, 0], [1, 1, 1, -1]).dataSync());
    const want = [1, 2, 7].flatMap((k) => Array.from({ length: c }, (_, j) => (k === 7 ? 7 : k + j / 10)));
    px.forEach((v, i) => close(v, want[i]!, 1e-6, `channel ${i}`));
    assert.deepEqual(Array.from(next.states.dataSync()), [10, 11, 12, 13, 20, 21, 22, 23, 70, 71, 72, 73]);
    // The last frame the model reads is the one appended.
    const last = m.lastFrame(next);
    assert.equal(tf.max(tf.abs(tf.sub(last.image, 7))).dataSync()[0], 0);
    assert.deepEqual(Array.from(last.state.dataSync()), [70, 71, 72, 73]);
  });
  m.dispose();
});

test('every preset clips the gradient norm at 5; clipAndApply scales a larger gradient down to the clip', async () => {
  for (const p of FM_PRESETS) assert.equal(PRESETS[p].gradClip, 5, p);
  const scales: number[] = [];
  const adam = { apply: (_g: unknown, scale = 1) => void scales.push(scale) } as unknown as Adam;
  {
    const t = [tf.tensor1d([6]), tf.tensor1d([8]), tf.tensor1d([1, 1, 0, 0]), tf.tensor1d([3, 0]), tf.tensor1d([1]), tf.tensor1d([NaN, 1, 0, 0])] as const;
    // Norm 10 over two tensors (6, 8): scaled by 5 / 10.
    const big = await clipAndApply(adam, { a: t[0], b: t[1] }, t[2], 5);
    close(big.gradNorm, 10, 1e-5, 'norm');
    // Norm 3: left alone.
    await clipAndApply(adam, { a: t[3] }, t[2], 5);
    // A non-finite loss skips the update.
    const nan = await clipAndApply(adam, { a: t[4] }, t[5], 5);
    assert.equal(nan.skipped, true);
    tf.dispose([...t]);
  }
  assert.equal(scales.length, 2);
  close(scales[0]!, 0.5, 1e-6, 'scale of a norm-10 gradient');
  assert.equal(scales[1], 1);
  // trainStep clips at the model's own cfg.gradClip.
  const ds = openDataset(tinyDataset());
  for (const gradClip of [1e-3, 1e6]) {
    const cfg = fmConfig('tiny', { channels: ds.channels, gradClip });
    const m = ForwardModel.create(cfg, 'deterministic', 2);
    const spec: BatchSpec = { split: 'train', shape: { batch: 2, ncond: cfg.ncond, npred: 2, channels: ds.channels }, seed: 1, stats: ds.manifest.stats };
    scales.length = 0;
    const s = await trainStep(m, adam, makeBatch(ds, ds.episodes('train'), spec, 0), new FmNoise(1, false));
    assert.ok(s.gradNorm > 1e-3 && s.gradNorm < 1e6, `norm ${s.gradNorm}`);
    close(scales[0]! * s.gradNorm, Math.min(gradClip, s.gradNorm), 1e-6 * s.gradNorm, `clip ${gradClip}: scale x norm`);
    m.dispose();
  }
});

test('the forward model\'s gradient matches central finite differences (actions and weights)', () => {
  const cfg = fmConfig('tiny', { ncond: 2, npred: 2, dropout: 0.1 });
  const m = ForwardModel.create(cfg, 'deterministic', 4);
  // A model that responds to its action more than a fresh one does: the action MLP's first layer x 5.
  const fc1 = m.weights['act.fc1.w']!;
  fc1.assign(tf.tidy(() => tf.mul(fc1, 5)));
  const input = randomInput(cfg, 1, 5);
  const actions = randomActions(2, 1, 6);
  const probe = tf.tidy(() => tf.randomUniform([1, 117, 24, cfg.channels], -1, 1, 'float32', 9));
  // A fixed dropout draw: the loss is a plain function of its inputs. The image term is summed
  // relative to the prediction at the starting point (small values, so float32 rounding of the
  // sum stays far below the changes measured); `imageWeight` 0 leaves the state term alone.
  const predict = (a0: tf.Tensor2D) => m.unroll(input, { actions: [a0, actions[1]!], noise: new FmNoise(11, true) });
  const image0 = tf.tidy(() => predict(actions[0]!).images[1]!);
  const loss = (a0: tf.Tensor2D, imageWeight = 1): tf.Scalar =>
    tf.tidy(() => {
      const r = predict(a0);
      const img = tf.mul(tf.sum(tf.mul(tf.sub(r.images[1]!, image0), probe)), imageWeight);
      return tf.add(img, tf.sum(tf.mul(r.states[1]!, tf.tensor1d([1, -2, 3, 0.5])))) as tf.Scalar;
    });
  const value = (a: number[], imageWeight = 1) => tf.tidy(() => loss(tf.tensor2d([a]), imageWeight).dataSync()[0]!);
  const h = 1e-2;
  const a = Array.from(actions[0]!.dataSync());
  const g = tf.tidy(() => Array.from(tf.grad((x: tf.Tensor) => loss(x as tf.Tensor2D, 0))(actions[0]!).dataSync()));
  for (let i = 0; i < 2; i++) {
    const up = a.slice();
    const down = a.slice();
    up[i]! += h;
    down[i]! -= h;
    const fd = (value(up, 0) - value(down, 0)) / (2 * h);
    assert.ok(Math.abs(g[i]!) > 5e-3, `action ${i}: the loss depends on it (${g[i]})`);
    close(g[i]!, fd, 0.02 * Math.abs(fd), `d loss / d action ${i}`);
  }
  // (The residual block's first transposed convolution, kernel 4 x 1 with padding 1 on a 3 x 2
  // input, outputs its bias only, as in the reference network: nothing before it has a gradient,
  // so its weights are not probed here.)
  // Weights: a step of hw along a unit direction moves each entry by far less than hw. The
  // derivative along each tensor's own gradient direction u = G / |G| equals |G|, and along a
  // fixed random direction r it equals G . r.
  const hw = 5e-3;
  for (const name of ['act.fc1.w', 'enc.conv1.w', 'enc.conv3.b', 'enc.state.fc2.w', 'res.deconv2.w', 'dec.reduce2.w', 'dec.state.fc3.b', 'dec.deconv2.w']) {
    const w = m.weights[name];
    assert.ok(w, `weight ${name}`);
    const w0 = Float32Array.from(w.dataSync());
    const G = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => loss(actions[0]!), [w]);
      return Float32Array.from(grads[w.name]!.dataSync());
    });
    const length = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0));
    const norm = length(G);
    const r = tf.tidy(() => Float32Array.from(tf.randomNormal([G.length], 0, 1, 'float32', 13).dataSync()));
    const rn = length(r);
    const dirs: [string, Float32Array, number][] = [
      ['gradient', G.map((v) => v / norm), norm],
      ['random', r.map((v) => v / rn), G.reduce((s, v, i) => s + v * r[i]! / rn, 0)],
    ];
    for (const [what, u, want] of dirs) {
      const at = (d: number) => {
        w.assign(tf.tensor(w0.map((v, i) => v + d * u[i]!), w.shape));
        return value(a);
      };
      const fd = (at(hw) - at(-hw)) / (2 * hw);
      w.assign(tf.tensor(w0, w.shape));
      if (what === 'gradient') assert.ok(norm > 0.01, `${name}: the loss depends on it (|G| ${norm})`);
      // The first layers' leaky ReLUs have kinks within hw along the gradient: a looser bound there.
      close(want, fd, (what === 'gradient' ? 0.1 : 0.02) * norm, `${name}, along the ${what} direction`);
    }
  }
  tf.dispose([input.images, input.states, ...actions, probe, image0]);
  m.dispose();
});

test('batchTensors: step k of every array is its k-th [B, ...] block; the context keeps its layout', () => {
  const B = 2, ncond = 3, npred = 2, C = 3, H = 117, W = 24;
  const ramp = (n: number, from: number) => Float32Array.from({ length: n }, (_, i) => from + i * 1e-3);
  const wb = {
    batch: B, ncond, npred, channels: C,
    ctxImages: ramp(B * H * W * ncond * C, 0), ctxStates: ramp(B * ncond * 4, 1), actions: ramp(npred * B * 2, 2),
    targetImages: ramp(npred * B * H * W * C, 3), targetStates: ramp(npred * B * 4, 4), episodeIds: ['a', 'b'], starts: [0, 0],
  };
  tf.tidy(() => {
    const t = batchTensors(wb);
    assert.deepEqual(t.input.images.shape, [B, H, W, ncond * C]);
    assert.deepEqual(Array.from(t.input.images.dataSync()), Array.from(wb.ctxImages));
    assert.deepEqual(t.input.states.shape, [B, ncond * 4]);
    assert.deepEqual(Array.from(t.input.states.dataSync()), Array.from(wb.ctxStates));
    assert.equal(t.actions.length, npred);
    assert.equal(t.targetImages.length, npred);
    assert.equal(t.targetStates.length, npred);
    const frame = B * H * W * C;
    for (let k = 0; k < npred; k++) {
      assert.deepEqual(t.actions[k]!.shape, [B, 2]);
      assert.deepEqual(Array.from(t.actions[k]!.dataSync()), Array.from(wb.actions.subarray(k * B * 2, (k + 1) * B * 2)));
      assert.deepEqual(t.targetStates[k]!.shape, [B, 4]);
      assert.deepEqual(Array.from(t.targetStates[k]!.dataSync()), Array.from(wb.targetStates.subarray(k * B * 4, (k + 1) * B * 4)));
      assert.deepEqual(t.targetImages[k]!.shape, [B, H, W, C]);
      const img = t.targetImages[k]!.dataSync();
      assert.equal(img[0], wb.targetImages[k * frame]);
      assert.equal(img[frame - 1], wb.targetImages[(k + 1) * frame - 1]);
    }
  });
});

test('sumAll adds any number of same-shaped tensors in groups of at most 7', () => {
  for (const n of [1, 2, 7, 8, 15, 50]) {
    const v = tf.tidy(() => sumAll(Array.from({ length: n }, (_, i) => tf.tensor1d([i + 1, 2 * (i + 1)]))).dataSync());
    assert.deepEqual(Array.from(v), [(n * (n + 1)) / 2, n * (n + 1)], `${n} tensors`);
  }
});

test('clipAndApply: the loss parts in order; a norm at the clip is not scaled; a non-finite gradient skips the update', async () => {
  const scales: number[] = [];
  const adam = { apply: (_g: unknown, scale = 1) => void scales.push(scale) } as unknown as Adam;
  const parts = tf.tensor1d([1.5, 0.25, 0.75, 2]);
  const g34 = tf.tensor1d([3, 4]);
  const g68 = tf.tensor2d([[6], [8]]);
  const gnan = tf.tensor1d([NaN, 1]);
  const ginf = tf.tensor1d([Infinity, 1]);
  try {
    const r = await clipAndApply(adam, { a: g34 }, parts, 5);
    assert.deepEqual(r, { total: 1.5, image: 0.25, state: 0.75, kl: 2, gradNorm: 5, skipped: false });
    assert.deepEqual(scales, [1]);
    const big = await clipAndApply(adam, { a: g68 }, parts, 5);
    assert.equal(big.gradNorm, 10);
    assert.ok(Math.abs(scales[1]! - 5 / (10 + 1e-6)) < 1e-12, `scale ${scales[1]}`);
    for (const g of [gnan, ginf]) {
      const s = await clipAndApply(adam, { a: g }, parts, 5);
      assert.equal(s.skipped, true);
      assert.equal(s.total, 1.5);
    }
    assert.equal(scales.length, 2, 'no update for a non-finite gradient');
  } finally {
    tf.dispose([parts, g34, g68, gnan, ginf]);
  }
});

test('lossAndGrads: the parts are fmLoss of the unroll with the logged actions (VAE: z from the posterior), gradients by weight name', () => {
  const ds = openDataset(tinyDataset());
  for (const kind of ['deterministic', 'vae'] as const) {
    const cfg = fmConfig('tiny', { channels: ds.channels, zDropout: 0, dropout: 0, beta: 0.5 });
    const m = ForwardModel.create(cfg, kind, 3);
    const spec: BatchSpec = { split: 'train', shape: { batch: 2, ncond: cfg.ncond, npred: 2, channels: ds.channels }, seed: 2, stats: ds.manifest.stats };
    const wb = makeBatch(ds, ds.episodes('train'), spec, 0);
    const noise = new FmNoise(5, false);
    const g = lossAndGrads(m, wb, noise);
    try {
      const got = Array.from(g.parts.dataSync());
      const want = tf.tidy(() => {
        const t = batchTensors(wb);
        const r = m.unroll(t.input, { actions: t.actions, noise: new FmNoise(5, false), targets: t.targetImages });
        const l = fmLoss(r.images, t.targetImages, r.states, t.targetStates, r.kl, 0.5);
        return [l.total, l.image, l.state, l.kl].map((x) => x.dataSync()[0]!);
      });
      if (kind === 'vae') assert.ok(want[3]! > 1e-3, `KL ${want[3]}`);
      else assert.equal(want[3], 0);
      for (let i = 0; i < 4; i++) close(got[i]!, want[i]!, 1e-5 * Math.max(1e-3, Math.abs(want[i]!)), `${kind} part ${i}`);
      assert.deepEqual(Object.keys(g.grads).sort(), m.specs.map((s) => s.name).sort());
      for (const s of m.specs) assert.deepEqual(g.grads[s.name]!.shape, s.shape, s.name);
      assert.equal(g.zDraws, kind === 'vae' ? 2 : 0);
      assert.equal(g.zDropped, 0);
    } finally {
      disposeGradients(g);
      m.dispose();
    }
  }
});
