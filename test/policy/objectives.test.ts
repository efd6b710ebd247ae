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

async function context(method: PolicyMethod, kind: 'vae' | 'deterministic', o: TrainOverrides) {
  const { model, hparams } = loadFm(await tinyModel(kind));
  model.setTrainable(false);
  const ds = openDataset(tinyDataset());
  const cfg = policyTrainConfig('tiny', method, o);
  const spec: BatchSpec = { split: 'train', shape: { batch: cfg.batch, ncond: 4, npred: cfg.npred, channels: 3 }, seed: 1, stats: hparams.stats };
  const wb = makeBatch(ds, ds.episodes('train'), spec, 0);
  const cars = egoSizesFromContext(wb.ctxImages, wb.batch, wb.ncond, wb.channels);
  const policy = PolicyNetwork.create(policyNetConfig('tiny', 4, 3), 1);
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
