import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { Rng } from '../../common/rng.js';
import { I80_MAP } from '../../sim/map.js';
import type { ControllerBatch } from '../../sim/controllers/controller.js';
import { PolicyNetwork, policyParamSpecs } from '../../policy/network.js';
import { policyNetConfig, policyTrainConfig } from '../../policy/config.js';
import { loadPolicy, savePolicy, findPolicyDir, type PolicyHyper } from '../../policy/checkpoint.js';
import { ACTION_CLAMP, policyController, policyInput, unnormaliseActions } from '../../policy/controller.js';
import type { NormStats } from '../../data/dataset-types.js';
import { FmNoise } from '../../worldmodel/fm/noise.js';
import { setup, tempDir } from './helpers.js';

before(setup);

const STATS: NormStats = { stateMean: [900, 120, 80, 0], stateStd: [400, 40, 20, 2], actionMean: [0.5, 0], actionStd: [4, 0.002] };

function randomInput(ncond: number, channels: number, n: number, seed = 1) {
  const rng = new Rng(seed);
  return {
    images: tf.tensor4d(Float32Array.from({ length: n * 117 * 24 * ncond * channels }, () => rng.next()), [n, 117, 24, ncond * channels]),
    states: tf.tensor2d(Float32Array.from({ length: n * ncond * 4 }, () => rng.normal()), [n, ncond * 4]),
  };
}

function hyper(p: PolicyNetwork): PolicyHyper {
  return {
    kind: 'ppuu-policy', version: 1, preset: 'tiny', net: p.cfg, train: policyTrainConfig('tiny', 'il'), forwardModel: null,
    uStats: null, dataset: 'none', seed: 1, steps: 0, paramCount: p.paramCount(),
  };
}

test('shapes: deterministic and stochastic heads; paper-size parameter count', () => {
  const det = PolicyNetwork.create(policyNetConfig('tiny', 4, 3), 1);
  const sto = PolicyNetwork.create(policyNetConfig('tiny', 4, 3, true), 1);
  tf.tidy(() => {
    const x = randomInput(4, 3, 5);
    const d = det.forward(x);
    assert.deepEqual(d.mean.shape, [5, 2]);
    assert.equal(d.logvar, null);
    const s = sto.forward(x);
    assert.deepEqual(s.mean.shape, [5, 2]);
    assert.deepEqual(s.logvar!.shape, [5, 2]);
    // Sampling: differs from the mean, and is the mean without noise.
    assert.ok(tf.max(tf.abs(tf.sub(sto.act(x, new FmNoise(3, false)), s.mean))).dataSync()[0]! > 0);
    assert.equal(tf.max(tf.abs(tf.sub(sto.act(x), s.mean))).dataSync()[0], 0);
  });
  det.dispose();
  sto.dispose();
  // paper: encoder as the forward model's (60 -> 64 -> 128 -> 256 channels, state MLP 80 -> 256 -> 256 -> 10752),
  // then 10752 -> 256 -> 256 -> 256 -> 2.
  const paper = policyParamSpecs(policyNetConfig('paper', 20, 3)).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  const conv = (i: number, o: number) => 16 * i * o + o;
  const lin = (i: number, o: number) => i * o + o;
  const expected = conv(60, 64) + conv(64, 128) + conv(128, 256) + lin(80, 256) + lin(256, 256) + lin(256, 10752) + lin(10752, 256) + 2 * lin(256, 256) + lin(256, 2);
  assert.equal(paper, expected);
});

test('save and load give identical actions; the loader finds the folder from its parents', async () => {
  const p = PolicyNetwork.create(policyNetConfig('tiny', 4, 3, true), 7);
  const out = tempDir();
  const dir = join(out, 'checkpoint', 'policy');
  await savePolicy(dir, p, hyper(p), STATS);
  assert.equal(findPolicyDir(out), dir);
  assert.equal(findPolicyDir(join(out, 'checkpoint')), dir);
  assert.equal(findPolicyDir(tempDir()), null);
  const q = await loadPolicy(out);
  assert.deepEqual(q.stats, STATS);
  assert.deepEqual(q.policy.cfg, p.cfg);
  const x = randomInput(4, 3, 3, 9);
  const a = tf.tidy(() => p.act(x, new FmNoise(5, false)).dataSync());
  const b = tf.tidy(() => q.policy.act(x, new FmNoise(5, false)).dataSync());
  assert.deepEqual(Array.from(b), Array.from(a));
  tf.dispose([x.images, x.states]);
  p.dispose();
  q.policy.dispose();
});

test('an action bound b gives b tanh(raw / b): inside +-b with a gradient everywhere; it round-trips, and its absence means unbounded', async () => {
  const free = PolicyNetwork.create(policyNetConfig('tiny', 4, 3), 4);
  // A large output layer pushes the raw action far past the bound.
  free.weights['out.w']!.assign(tf.tidy(() => tf.mul(free.weights['out.w']!, 300)));
  const bounded = new PolicyNetwork(policyNetConfig('tiny', 4, 3, false, ACTION_CLAMP), free.weights);
  const x = randomInput(4, 3, 6, 2);
  const big = x;
  const raw = Array.from(tf.tidy(() => free.forward(big).mean.dataSync()));
  const out = Array.from(tf.tidy(() => bounded.forward(big).mean.dataSync()));
  assert.ok(Math.max(...raw.map(Math.abs)) > ACTION_CLAMP, `raw ${raw}`);
  raw.forEach((r, i) => assert.ok(Math.abs(out[i]! - ACTION_CLAMP * Math.tanh(r / ACTION_CLAMP)) < 1e-5, `${out[i]} vs ${r}`));
  for (const v of out) assert.ok(Math.abs(v) < ACTION_CLAMP);
  const g = tf.grad((s: tf.Tensor) => tf.sum(bounded.forward({ images: big.images, states: s as tf.Tensor2D }).mean))(big.states);
  assert.ok(Math.max(...Array.from(g.dataSync()).map(Math.abs)) > 0, 'a gradient through the bound');
  const dir = tempDir();
  await savePolicy(dir, bounded, hyper(bounded), STATS);
  const q = await loadPolicy(dir);
  assert.equal(q.policy.cfg.actionBound, ACTION_CLAMP);
  assert.deepEqual(Array.from(tf.tidy(() => q.policy.forward(big).mean.dataSync())), out);
  assert.equal(free.cfg.actionBound, undefined, 'no bound: the paper\'s network');
  tf.dispose([x.images, x.states, g]);
  free.dispose();
  q.policy.dispose();
});

/** A controller batch of n rows, T frames, with distinct values per (row, frame, pixel, channel). */
function controllerBatch(n: number, T: number, C: number): ControllerBatch {
  const images = new Uint8Array(n * T * 117 * 24 * C);
  for (let i = 0; i < images.length; i++) images[i] = (i * 7 + (i >> 11)) % 251;
  const states = Float32Array.from({ length: n * T * 4 }, (_, i) => 900 + i);
  return { n, map: I80_MAP, contextFrames: T, channels: C, episodes: [], images, states };
}

test('controller input: the last ncond frames, pixel-major then frame then channel, / 255; states standardised', async () => {
  const p = PolicyNetwork.create(policyNetConfig('tiny', 4, 3), 1);
  const loaded = { policy: p, hyper: hyper(p), stats: STATS, dir: 'mem' };
  const T = 20;
  const batch = controllerBatch(3, T, 3);
  const x = policyInput(batch, loaded, 1, 3);
  assert.deepEqual(x.images.shape, [2, 117, 24, 12]);
  const img = x.images.dataSync();
  const st = x.states.dataSync();
  const frame = 117 * 24 * 3;
  for (const [b, px, f, c] of [[0, 0, 0, 0], [1, 2000, 3, 2], [0, 117 * 24 - 1, 2, 1]] as const) {
    const src = ((1 + b) * T + (T - 4 + f)) * frame + px * 3 + c;
    assert.ok(Math.abs(img[((b * 117 * 24 + px) * 4 + f) * 3 + c]! - batch.images[src]! / 255) < 1e-6, `${b},${px},${f},${c}`);
  }
  for (const [b, f, k] of [[0, 0, 0], [1, 3, 2], [1, 1, 3]] as const) {
    const raw = batch.states[((1 + b) * T + T - 4 + f) * 4 + k]!;
    assert.ok(Math.abs(st[(b * 4 + f) * 4 + k]! - (raw - STATS.stateMean[k]!) / STATS.stateStd[k]!) < 1e-4);
  }
  tf.dispose([x.images, x.states]);
  // Un-normalising clamps at +-3 standard deviations.
  const u = unnormaliseActions(Float32Array.of(1, -1, 10, -10), loaded);
  assert.deepEqual(Array.from(u).map((v) => +v.toFixed(6)), [4.5, -0.002, 0.5 + ACTION_CLAMP * 4, -ACTION_CLAMP * 0.002]);
  // The controller acts on all rows at once, chunked or not, with the same result.
  const whole = await policyController(loaded, 'p').act(batch);
  const chunked = await policyController(loaded, 'p', 2).act(batch);
  assert.equal(whole.length, 6);
  assert.ok(whole.every(Number.isFinite));
  for (let i = 0; i < 6; i++) assert.ok(Math.abs(whole[i]! - chunked[i]!) < 1e-5 * Math.max(1, Math.abs(whole[i]!)));
  assert.throws(() => policyInput(controllerBatch(1, T, 4), loaded), /3-channel/);
  p.dispose();
});
