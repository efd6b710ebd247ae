import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { openDataset } from '../../data/dataset.js';
import { loadFm } from '../../worldmodel/fm/checkpoint.js';
import { makeBatch, type BatchSpec } from '../../worldmodel/fm/batches.js';
import { batchTensors } from '../../worldmodel/fm/train-step.js';
import { PolicyNetwork } from '../../policy/network.js';
import { policyNetConfig, policyTrainConfig, type PolicyMethod, type TrainOverrides } from '../../policy/config.js';
import { partsRecord, policyLoss, type ObjectiveContext } from '../../policy/objectives.js';
import { stepNoise } from '../../policy/mpur.js';
import { egoSizesFromContext } from '../../policy/car-size.js';
import { predictionCosts } from '../../policy/costs.js';
import { policyRollout } from '../../policy/rollout.js';
import { uncertaintyLoss, type UStats } from '../../policy/uncertainty.js';
import { setup, tinyDataset, tinyModel } from './helpers.js';

before(setup);

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

async function context(method: PolicyMethod, kind: 'vae' | 'deterministic', o: TrainOverrides, stochastic = false) {
  const { model, hparams } = loadFm(await tinyModel(kind));
  model.setTrainable(false);
  const ds = openDataset(tinyDataset());
  const cfg = policyTrainConfig('tiny', method, o);
  const spec: BatchSpec = { split: 'train', shape: { batch: cfg.batch, ncond: 4, npred: cfg.npred, channels: 3 }, seed: 1, stats: hparams.stats };
  const wb = makeBatch(ds, ds.episodes('train'), spec, 0);
  const cars = egoSizesFromContext(wb.ctxImages, wb.batch, wb.ncond, wb.channels);
  const policy = PolicyNetwork.create(policyNetConfig('tiny', 4, 3, stochastic), 1);
  return { model, stats: hparams.stats, cfg, wb, cars, policy };
}

test('vg: proximity and lane are gamma^t-weighted means over steps and cars, total = proximity + lambda_l lane', async () => {
  for (const gamma of [0.5, 1]) {
    const c = await context('vg', 'deterministic', { gamma, lambdaL: 0.3, npred: 3 });
    const ctx: ObjectiveContext = { model: c.model, policy: c.policy, cfg: c.cfg, stats: c.stats, uStats: null, noise: stepNoise(1, 0) };
    const got = tf.tidy(() => partsRecord(policyLoss(ctx, { batch: batchTensors(c.wb), cars: c.cars }).parts.dataSync()));
    // The same rollout (same noise), its per-step costs weighted by hand.
    const noise = stepNoise(1, 0);
    const want = tf.tidy(() => {
      const r = policyRollout(c.model, c.policy, batchTensors(c.wb).input, { steps: 3, modelNoise: noise.model });
      const sums = { proximity: 0, lane: 0 };
      r.images.forEach((im, t) => {
        const k = predictionCosts(im, r.states[t]!, c.cars, c.stats);
        for (const [name, v] of [['proximity', k.proximity], ['lane', k.lane]] as const) sums[name] += gamma ** t * tf.mean(v).dataSync()[0]!;
      });
      return { proximity: sums.proximity / 3, lane: sums.lane / 3 };
    });
    assert.ok(want.proximity > 0.01 && want.lane > 0.01, `costs ${JSON.stringify(want)}`);
    close(got.proximity, want.proximity, 1e-5, `gamma ${gamma}: proximity`);
    close(got.lane, want.lane, 1e-5, `gamma ${gamma}: lane`);
    close(got.total, got.proximity + 0.3 * got.lane, 1e-5, `gamma ${gamma}: total`);
    assert.equal(got.uncertainty, 0);
    c.policy.dispose();
    c.model.dispose();
  }
});

test('mpur: total = proximity + lambda_l lane + lambda_u U, for several lambda_u', async () => {
  const npred = 2;
  // Per-step statistics under which any positive variance counts (mean 0, small std).
  const u: UStats = { npred, samples: 1, imageMean: [0, 0], imageStd: [1e-3, 1e-3], stateMean: [0, 0], stateStd: [1e-3, 1e-3], costMean: [0, 0], costStd: [1e-3, 1e-3] };
  const totals: number[] = [];
  for (const lambdaU of [0.1, 0.7]) {
    const c = await context('mpur', 'vae', { lambdaU, lambdaL: 0.2, npred, gamma: 0.9 });
    const ctx: ObjectiveContext = { model: c.model, policy: c.policy, cfg: c.cfg, stats: c.stats, uStats: u, noise: stepNoise(2, 0) };
    const p = tf.tidy(() => partsRecord(policyLoss(ctx, { batch: batchTensors(c.wb), cars: c.cars }).parts.dataSync()));
    assert.ok(p.uncertainty > 0.1, `U ${p.uncertainty}`);
    close(p.total, p.proximity + 0.2 * p.lane + lambdaU * p.uncertainty, 1e-4 * p.total, `lambda_u ${lambdaU}: total`);
    totals.push(p.total - p.proximity - 0.2 * p.lane);
    c.policy.dispose();
    c.model.dispose();
  }
  // The same draws for both: U is the same, so the U part scales with lambda_u.
  close(totals[1]! / totals[0]!, 7, 1e-3, 'U part at lambda_u 0.7 over 0.1');
});

test('uncertaintyLoss: mean over steps and cars of gamma^t * sum of relu(normalised variance - hinge)', () => {
  // T = 2 steps, B = 2 cars; only the image variance is above its hinge.
  const u: UStats = { npred: 2, samples: 1, imageMean: [1, 1], imageStd: [2, 2], stateMean: [0, 0], stateStd: [1, 1], costMean: [0, 0], costStd: [1, 1] };
  const v = tf.tidy(() => {
    const image = tf.tensor2d([[5, 1], [9, 3]]); // normalised: (v - 1) / 2 = [[2, 0], [4, 1]], minus 0.5, relu
    const zero = tf.zeros([2, 2]) as tf.Tensor2D;
    return uncertaintyLoss({ image, state: zero, cost: zero }, u, 0.5, 0.5).dataSync()[0]!;
  });
  // step 0: 1.5 + 0; step 1 (weight 0.5): 3.5 + 0.5; mean over the 4 entries.
  close(v, (1.5 + 0.5 * (3.5 + 0.5)) / 4, 1e-5, 'U');
});

test('il: the mean squared error to the first logged action; stochastic: the Gaussian NLL 0.5 (logvar + err^2 / exp(logvar))', async () => {
  for (const stochastic of [false, true]) {
    const c = await context('il', 'deterministic', {}, stochastic);
    const ctx: ObjectiveContext = { model: null, policy: c.policy, cfg: c.cfg, stats: c.stats, uStats: null, noise: stepNoise(1, 0) };
    const got = tf.tidy(() => partsRecord(policyLoss(ctx, { batch: batchTensors(c.wb), cars: c.cars }).parts.dataSync()));
    let mean = new Float32Array(0);
    let logvar: Float32Array | null = null;
    let target = new Float32Array(0);
    tf.tidy(() => {
      const b = batchTensors(c.wb);
      const o = c.policy.forward(b.input);
      mean = Float32Array.from(o.mean.dataSync());
      logvar = o.logvar ? Float32Array.from(o.logvar.dataSync()) : null;
      target = Float32Array.from(b.actions[0]!.dataSync());
    });
    assert.equal(logvar !== null, stochastic);
    let want = 0;
    for (let i = 0; i < mean.length; i++) {
      const e2 = (mean[i]! - target[i]!) ** 2;
      want += logvar ? 0.5 * (logvar[i]! + e2 * Math.exp(-logvar[i]!)) : e2;
    }
    want /= mean.length;
    assert.ok(Math.abs(want) > 0.05, `imitation ${want}`);
    close(got.imitation, want, 1e-5 * Math.abs(want), `stochastic ${stochastic}: imitation`);
    close(got.total, want, 1e-5 * Math.abs(want), `stochastic ${stochastic}: total`);
    for (const k of ['proximity', 'lane', 'uncertainty', 'trajectory', 'frame'] as const) assert.equal(got[k], 0, k);
    c.policy.dispose();
    c.model.dispose();
  }
});

test('mper: (1 / T) sum over steps of gamma^t (MSE of the image + MSE of the state) to the logged future', async () => {
  const gamma = 0.5;
  const c = await context('mper', 'deterministic', { gamma, npred: 3 });
  const ctx: ObjectiveContext = { model: c.model, policy: c.policy, cfg: c.cfg, stats: c.stats, uStats: null, noise: stepNoise(1, 0) };
  const got = tf.tidy(() => partsRecord(policyLoss(ctx, { batch: batchTensors(c.wb), cars: c.cars }).parts.dataSync()));
  const want = tf.tidy(() => {
    const b = batchTensors(c.wb);
    const r = policyRollout(c.model, c.policy, b.input, { steps: 3, modelNoise: stepNoise(1, 0).model });
    let s = 0;
    for (let t = 0; t < 3; t++) {
      const mi = tf.mean(tf.squaredDifference(r.images[t]!, b.targetImages[t]!)).dataSync()[0]!;
      const ms = tf.mean(tf.squaredDifference(r.states[t]!, b.targetStates[t]!)).dataSync()[0]!;
      s += gamma ** t * (mi + ms);
    }
    return s / 3;
  });
  assert.ok(want > 0.01, `trajectory ${want}`);
  close(got.trajectory, want, 1e-5 * want, 'trajectory');
  close(got.total, want, 1e-5 * want, 'total');
  assert.equal(got.imitation, 0);
  assert.throws(() => policyLoss({ ...ctx, model: null }, { batch: batchTensors(c.wb), cars: c.cars }), /policy method mper needs a forward model/);
  c.policy.dispose();
  c.model.dispose();
});

test('mpur with lambda_u > 0 needs the uncertainty statistics', async () => {
  const c = await context('mpur', 'vae', { lambdaU: 0.5, npred: 2 });
  const ctx: ObjectiveContext = { model: c.model, policy: c.policy, cfg: c.cfg, stats: c.stats, uStats: null, noise: stepNoise(1, 0) };
  assert.throws(() => tf.tidy(() => policyLoss(ctx, { batch: batchTensors(c.wb), cars: c.cars })), /^Error: the uncertainty term needs its statistics \(estimate them first\)$/);
  c.policy.dispose();
  c.model.dispose();
});
