import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { FM_PRESETS, fmConfig, CODE_H, CODE_W } from '../../../worldmodel/fm/config.js';
import { countParams, paramSpecs } from '../../../worldmodel/fm/params.js';
import { ForwardModel } from '../../../worldmodel/fm/model.js';
import { conv, deconv, frameEncoder } from '../../../worldmodel/fm/layers.js';
import { FmNoise } from '../../../worldmodel/fm/noise.js';
import { klDivergence } from '../../../worldmodel/fm/losses.js';
import { maxAbsDiff, randomActions, randomInput, setup } from './helpers.js';

before(setup);

// PyTorch parameter counts of the layers, written from docs/method.md section 5 independently of params.ts.
const convP = (cin: number, cout: number, kh: number, kw = kh) => cin * cout * kh * kw + cout;
const linP = (i: number, o: number) => i * o + o;

test('paper VAE has the reference parameter count (about 12.5 M without the residual block)', () => {
  const nf = 256;
  const hidden = nf * 14 * 3;
  const encoder = convP(60, 64, 4) + convP(64, 128, 4) + convP(128, 256, 4);
  const stateMlp = linP(80, 256) + linP(256, 256) + linP(256, hidden);
  const actionMlp = linP(2, 256) + linP(256, 256) + linP(256, hidden);
  const posterior = convP(3, 64, 4) + convP(64, 128, 4) + convP(128, 256, 4) + linP(hidden, 256) + linP(256, 256) + linP(256, 64);
  const zExpander = linP(32, hidden);
  const decoder = convP(256, 128, 4) + convP(128, 64, 5) + convP(64, 3, 2) + convP(256, 256, 4) + convP(256, 256, 4, 1) + linP(512, 256) + linP(256, 256) + linP(256, 4);
  const residual = convP(256, 256, 4) + convP(256, 256, 4, 1) + linP(1536, 256) + linP(256, 1536) + convP(256, 256, 4, 1) + convP(256, 256, 4, 3);
  const pytorch = encoder + stateMlp + actionMlp + posterior + zExpander + decoder;
  const ours = countParams(paramSpecs(fmConfig('paper'), 'vae'));
  assert.equal(ours.withoutResidual, pytorch);
  assert.equal(ours.total, pytorch + residual);
  assert.ok(Math.abs(ours.withoutResidual - 12.5e6) / 12.5e6 < 0.02, `${ours.withoutResidual}`);
  const det = countParams(paramSpecs(fmConfig('paper'), 'deterministic'));
  assert.equal(det.total, ours.total - posterior - zExpander);
});

for (const preset of FM_PRESETS) {
  test(`${preset}: every layer has the shape of docs/method.md section 5`, () => {
    const cfg = fmConfig(preset);
    const nf = cfg.nfeature;
    const m = ForwardModel.create(cfg, 'vae', 1);
    const noise = new FmNoise(1, true);
    try {
      tf.tidy(() => {
        const x = randomInput(cfg, 1);
        const w = m.weights;
        const shapeOf = (t: tf.Tensor) => t.shape.join('x');
        const e1 = conv(w, 'enc.conv1', x.images, [2, 2], [1, 1]);
        assert.equal(shapeOf(e1), `1x58x12x${nf / 4}`);
        const e2 = conv(w, 'enc.conv2', e1, [2, 2], [1, 1]);
        assert.equal(shapeOf(e2), `1x29x6x${nf / 2}`);
        assert.equal(shapeOf(conv(w, 'enc.conv3', e2, [2, 2], [1, 1])), `1x${CODE_H}x${CODE_W}x${nf}`);
        const h = m.encode(x, noise);
        assert.equal(shapeOf(h), `1x14x3x${nf}`);
        const r1 = conv(w, 'res.conv1', h, [2, 2], [1, 1]);
        assert.equal(shapeOf(r1), `1x7x1x${nf}`);
        const r2 = conv(w, 'res.conv2', r1, [2, 2], [1, 1]);
        assert.equal(shapeOf(r2), `1x3x2x${nf}`);
        const r3 = deconv(w, 'res.deconv1', r2, [2, 2], [1, 1]);
        assert.equal(shapeOf(r3), `1x6x1x${nf}`);
        assert.equal(shapeOf(deconv(w, 'res.deconv2', r3, [2, 2], [0, 0])), `1x14x3x${nf}`);
        const d1 = deconv(w, 'dec.deconv1', h, [2, 2], [1, 1]);
        assert.equal(shapeOf(d1), `1x28x6x${nf / 2}`);
        const d2 = deconv(w, 'dec.deconv2', d1, [2, 2], [0, 1]);
        assert.equal(shapeOf(d2), `1x59x13x${nf / 4}`);
        assert.equal(shapeOf(deconv(w, 'dec.deconv3', d2, [2, 2], [0, 1])), `1x118x24x${cfg.channels}`);
        const red = conv(w, 'dec.reduce2', conv(w, 'dec.reduce1', h, [2, 2], [1, 1]), [2, 1], [0, 0]);
        assert.equal(shapeOf(red), `1x2x1x${nf}`);
        const post = m.posterior(h, tf.slice(x.images, [0, 0, 0, 0], [-1, -1, -1, cfg.channels]), noise);
        assert.equal(shapeOf(post.mu), `1x${cfg.nz}`);
        assert.equal(shapeOf(post.logvar), `1x${cfg.nz}`);
        const out = m.step(x, randomActions(1, 1)[0]!, m.samplePrior(1, noise), noise);
        assert.equal(shapeOf(out.image), `1x117x24x${cfg.channels}`);
        assert.equal(shapeOf(out.state), '1x4');
        const img = out.image.dataSync();
        assert.ok(img.every((v) => v > 0 && v < 1), 'image is a sigmoid output');
        assert.equal(shapeOf(frameEncoder(w, 'post', tf.zeros([2, 117, 24, cfg.channels]) as tf.Tensor4D, 0.1, noise)), `2x14x3x${nf}`);
      });
    } finally {
      m.dispose();
    }
  });
}

test('transposed convolution crops PyTorch-style padding from the full output', () => {
  tf.tidy(() => {
    const cfg = fmConfig('tiny');
    const m = ForwardModel.create(cfg, 'deterministic', 4);
    const x = tf.randomUniform([2, 28, 6, cfg.nfeature / 2], -1, 1, 'float32', 5) as tf.Tensor4D;
    const got = deconv(m.weights, 'dec.deconv2', x, [2, 2], [0, 1]);
    // Full transposed conv ('valid': (in - 1) * s + k) then drop padding (0, 1) from each side.
    const w = m.weights['dec.deconv2.w']! as tf.Tensor4D;
    const full = tf.add(tf.conv2dTranspose(x, w, [2, 59, 15, cfg.nfeature / 4], 2, 'valid'), m.weights['dec.deconv2.b']!);
    const want = tf.slice(full, [0, 0, 1, 0], [-1, 59, 13, -1]);
    assert.ok(maxAbsDiff(got, want) < 1e-5);
    m.dispose();
  });
});

test('KL term: zero at the prior, closed form elsewhere, log-variance clamped at 4', () => {
  tf.tidy(() => {
    const nz = 3;
    const zero = tf.zeros([2, nz]) as tf.Tensor2D;
    assert.ok(Math.abs(klDivergence(zero, zero).dataSync()[0]!) < 1e-7);
    // mu = 1, logvar = 0: 0.5 per dim per sample, averaged over the batch -> 1.5.
    assert.ok(Math.abs(klDivergence(tf.ones([2, nz]) as tf.Tensor2D, zero).dataSync()[0]! - 1.5) < 1e-6);
    // Row 0: mu = 0, logvar = ln 2; row 1: mu = 2, logvar = 10 (clamped to 4).
    const mu = tf.tensor2d([[0, 0, 0], [2, 2, 2]]);
    const lv = tf.tensor2d([[Math.log(2), Math.log(2), Math.log(2)], [10, 10, 10]]);
    const row0 = -0.5 * nz * (1 + Math.log(2) - 0 - 2);
    const row1 = -0.5 * nz * (1 + 4 - 4 - Math.exp(4));
    const got = klDivergence(mu, lv).dataSync()[0]!;
    assert.ok(Math.abs(got - (row0 + row1) / 2) < 1e-4, `${got} vs ${(row0 + row1) / 2}`);
  });
});

test('z-dropout draws z from the prior about half the time, with no KL on those steps', () => {
  const cfg = fmConfig('tiny');
  const m = ForwardModel.create(cfg, 'vae', 2);
  let dropped = 0;
  let draws = 0;
  tf.tidy(() => {
    const x = randomInput(cfg, 1);
    const targets = Array.from({ length: 50 }, (_, t) => tf.fill([1, 117, 24, cfg.channels], (t % 7) / 7) as tf.Tensor4D);
    for (let run = 0; run < 2; run++) {
      const noise = new FmNoise(100 + run, true);
      const r = m.unroll(x, { actions: randomActions(50, 1, run), targets, noise });
      dropped += r.zDropped.filter(Boolean).length;
      draws += r.zDropped.length;
      assert.equal(noise.zDropped, r.zDropped.filter(Boolean).length);
      assert.ok(r.kl.dataSync()[0]! > 0);
    }
    // With z-dropout 1 every step uses the prior and the KL stays 0; with 0, none does.
    const all = m.unroll(x, { actions: randomActions(5, 1), targets: targets.slice(0, 5), noise: new FmNoise(7, true), zDropout: 1 });
    assert.ok(all.zDropped.every(Boolean));
    assert.equal(all.kl.dataSync()[0], 0);
    const none = m.unroll(x, { actions: randomActions(5, 1), targets: targets.slice(0, 5), noise: new FmNoise(7, true), zDropout: 0 });
    assert.ok(none.zDropped.every((d) => !d));
  });
  m.dispose();
  assert.equal(draws, 100);
  const frac = dropped / draws;
  assert.ok(frac > 0.33 && frac < 0.67, `prior chosen on ${(frac * 100).toFixed(1)} % of steps`);
});

test('dropout off gives the same prediction every time; on, predictions vary', () => {
  const cfg = fmConfig('tiny');
  const m = ForwardModel.create(cfg, 'deterministic', 3);
  tf.tidy(() => {
    const x = randomInput(cfg, 2);
    const a = randomActions(1, 2)[0]!;
    const off1 = m.step(x, a, null, new FmNoise(1, false));
    const off2 = m.step(x, a, null, new FmNoise(2, false));
    assert.equal(maxAbsDiff(off1.image, off2.image), 0);
    const on1 = m.step(x, a, null, new FmNoise(1, true));
    const on2 = m.step(x, a, null, new FmNoise(2, true));
    assert.ok(maxAbsDiff(on1.image, on2.image) > 1e-6);
  });
  m.dispose();
});

test('the deterministic model ignores z and an unroll leaks no tensors', () => {
  const cfg = fmConfig('tiny');
  const m = ForwardModel.create(cfg, 'deterministic', 3);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    tf.tidy(() => {
      const r = m.unroll(randomInput(cfg, 2), { actions: randomActions(3, 2), noise: new FmNoise(i, true) });
      assert.equal(r.images.length, 3);
      assert.equal(r.zs.length, 0);
    });
    assert.equal(tf.memory().numTensors, before);
  }
  m.dispose();
});

/** The model with its last decoder layers (image deconvolution, state MLP output) set to zero. */
function zeroDecoder(m: ForwardModel): void {
  for (const n of ['dec.deconv3.w', 'dec.deconv3.b', 'dec.state.fc3.w', 'dec.state.fc3.b']) m.weights[n]!.assign(tf.zerosLike(m.weights[n]!));
}

/** A context whose frames differ, with pixels at exactly 0 and 1. */
function edgyInput(cfg: ReturnType<typeof fmConfig>, batch: number) {
  const x = randomInput(cfg, batch, 4);
  const v = x.images.dataSync().slice();
  for (let i = 0; i < v.length; i += 5) v[i] = i % 2 === 0 ? 0 : 1;
  return { images: tf.tensor4d(v, x.images.shape), states: x.states };
}

test('with a zero decoder output the step is the skip of the last context frame and the last state', () => {
  for (const imageSkip of ['logit', 'sum'] as const) {
    const cfg = fmConfig('tiny', { imageSkip });
    const m = ForwardModel.create(cfg, 'vae', 4);
    zeroDecoder(m);
    tf.tidy(() => {
      const x = edgyInput(cfg, 2);
      const C = cfg.channels;
      const last = tf.slice(x.images, [0, 0, 0, (cfg.ncond - 1) * C], [-1, -1, -1, C]);
      const lastState = tf.slice(x.states, [0, (cfg.ncond - 1) * 4], [-1, 4]);
      const z = tf.randomNormal([2, cfg.nz], 0, 1, 'float32', 5) as tf.Tensor2D;
      const out = m.step(x, randomActions(1, 2)[0]!, z, new FmNoise(1, true));
      const want = imageSkip === 'logit' ? tf.clipByValue(last, 0.01, 0.99) : tf.sigmoid(last);
      assert.ok(maxAbsDiff(out.image, want) < 1e-5, `${imageSkip}: image ${maxAbsDiff(out.image, want)}`);
      assert.ok(maxAbsDiff(out.state, lastState) < 1e-6, `${imageSkip}: state`);
      const lf = m.lastFrame(x);
      assert.equal(maxAbsDiff(lf.image, last), 0);
      assert.equal(maxAbsDiff(lf.state, lastState), 0);
    });
    m.dispose();
  }
});

test('unroll feeds each prediction back: step t + 1 is a step from the advanced context; given zs are used as they are', () => {
  const cfg = fmConfig('tiny');
  const m = ForwardModel.create(cfg, 'vae', 6);
  tf.tidy(() => {
    const x = randomInput(cfg, 2, 3);
    const actions = randomActions(3, 2, 4);
    const zs = [0, 1, 2].map((s) => tf.randomNormal([2, cfg.nz], 0, 1, 'float32', 10 + s) as tf.Tensor2D);
    const r = m.unroll(x, { actions, zs, targets: actions.map(() => tf.zeros([2, 117, 24, cfg.channels]) as tf.Tensor4D), noise: new FmNoise(1, false) });
    assert.deepEqual(r.zs, zs);
    assert.deepEqual(r.zDropped, []);
    assert.equal(r.kl.dataSync()[0], 0);
    let input = x;
    for (let t = 0; t < 3; t++) {
      const s = m.step(input, actions[t]!, zs[t]!, new FmNoise(1, false));
      assert.ok(maxAbsDiff(s.image, r.images[t]!) < 1e-6 && maxAbsDiff(s.state, r.states[t]!) < 1e-6, `step ${t}`);
      input = m.advance(input, s);
    }
    // The actions may come from a function of the step and the context (a policy): same result.
    const seen: number[] = [];
    const f = m.unroll(x, { actions: (t, inp) => { seen.push(t); assert.deepEqual(inp.images.shape, x.images.shape); return actions[t]!; }, steps: 3, zs, noise: new FmNoise(1, false) });
    assert.deepEqual(seen, [0, 1, 2]);
    assert.ok(maxAbsDiff(f.images[2]!, r.images[2]!) < 1e-6);
    // Without zs or targets z comes from the prior, one [B, nz] draw per step.
    const p = m.unroll(x, { actions, noise: new FmNoise(1, false) });
    assert.equal(p.zs.length, 3);
    assert.deepEqual(p.zs[0]!.shape, [2, cfg.nz]);
    assert.deepEqual(p.zDropped, []);
    assert.equal(p.kl.dataSync()[0], 0);
  });
  m.dispose();
});

test('the KL of an unroll with targets is the sum over steps of the posterior KL', () => {
  const cfg = fmConfig('tiny');
  const m = ForwardModel.create(cfg, 'vae', 8);
  tf.tidy(() => {
    const x = randomInput(cfg, 2, 5);
    const actions = randomActions(1, 2, 6);
    const target = tf.fill([2, 117, 24, cfg.channels], 0.3) as tf.Tensor4D;
    const noise = () => new FmNoise(3, false);
    const one = m.unroll(x, { actions, targets: [target], noise: noise(), zDropout: 0 });
    const { mu, logvar } = m.posterior(m.encode(x, noise()), target, noise());
    const kl1 = klDivergence(mu, logvar).dataSync()[0]!;
    assert.ok(kl1 > 1e-4, `KL ${kl1}`);
    assert.ok(Math.abs(one.kl.dataSync()[0]! - kl1) < 1e-5 * kl1);
    const two = m.unroll(x, { actions: [actions[0]!, actions[0]!], targets: [target, target], noise: noise(), zDropout: 0 });
    const next = m.advance(x, { image: two.images[0]!, state: two.states[0]! });
    const p2 = m.posterior(m.encode(next, noise()), target, noise());
    const kl2 = klDivergence(p2.mu, p2.logvar).dataSync()[0]!;
    assert.ok(Math.abs(two.kl.dataSync()[0]! - (kl1 + kl2)) < 1e-5 * (kl1 + kl2));
    assert.deepEqual(two.zDropped, [false, false]);
  });
  m.dispose();
});

test('the forward model checks its weights, its kind and its inputs', () => {
  const cfg = fmConfig('tiny');
  const det = ForwardModel.create(cfg, 'deterministic', 1);
  const vae = ForwardModel.create(cfg, 'vae', 1);
  try {
    const { 'act.fc1.w': _drop, ...missing } = det.weights;
    assert.throws(() => new ForwardModel(cfg, 'deterministic', missing), /^Error: forward model: weight act\.fc1\.w missing$/);
    const bad = { ...det.weights, 'act.fc1.b': tf.variable(tf.zeros([3])) };
    assert.throws(() => new ForwardModel(cfg, 'deterministic', bad), /^Error: forward model: weight act\.fc1\.b has shape \[3\], expected \[16\]$/);
    bad['act.fc1.b']!.dispose();
    tf.tidy(() => {
      const x = randomInput(cfg, 1);
      const hx = det.encode(x, new FmNoise(1, false));
      assert.throws(() => det.posterior(hx, tf.zeros([1, 117, 24, 3]) as tf.Tensor4D, new FmNoise(1, false)), /^Error: forward model: posterior exists only in the VAE model$/);
      assert.throws(() => vae.step(x, randomActions(1, 1)[0]!, null, new FmNoise(1, false)), /^Error: forward model: the VAE needs z$/);
      assert.throws(() => det.unroll(x, { actions: [], noise: new FmNoise(1, false) }), /^Error: forward model: unroll needs at least one step$/);
      assert.throws(() => det.unroll(x, { actions: () => randomActions(1, 1)[0]!, noise: new FmNoise(1, false) }), /unroll needs at least one step/);
      // The deterministic model takes no z: a given z changes nothing.
      const a = randomActions(1, 1)[0]!;
      assert.equal(maxAbsDiff(det.step(x, a, null, new FmNoise(1, false)).image, det.step(x, a, tf.ones([1, cfg.nz]) as tf.Tensor2D, new FmNoise(1, false)).image), 0);
    });
    assert.equal(det.variables().length, det.specs.length);
    assert.deepEqual(det.variables().map((v) => v.shape), det.specs.map((s) => s.shape));
    det.setTrainable(false);
    assert.ok(det.variables().every((v) => !v.trainable));
    det.setTrainable(true);
    assert.ok(det.variables().every((v) => v.trainable));
  } finally {
    det.dispose();
    vae.dispose();
  }
});
