import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { NormStats } from '../../data/dataset-types.js';
import { fmConfig } from '../../worldmodel/fm/config.js';
import { IMAGE_H, IMAGE_W } from '../../data/layout.js';
import { ForwardModel } from '../../worldmodel/fm/model.js';
import { Adam } from '../../worldmodel/fm/adam.js';
import type { WindowBatch } from '../../worldmodel/fm/windows.js';
import { PolicyNetwork } from '../../policy/network.js';
import { policyNetConfig, policyTrainConfig } from '../../policy/config.js';
import { policyStep, stepNoise } from '../../policy/mpur.js';
import { partsRecord, policyLoss } from '../../policy/objectives.js';
import { batchTensors } from '../../worldmodel/fm/train-step.js';
import { egoSizesFromContext } from '../../policy/car-size.js';
import type { UStats } from '../../policy/uncertainty.js';
import { setup } from './helpers.js';

before(setup);

const STATS: NormStats = { stateMean: [800, 120, 60, 0.5], stateStd: [400, 40, 25, 3], actionMean: [0.3, 1e-5], actionStd: [8, 2e-4] };
const NCOND = 4;
const NPRED = 10;
const SPEED_PX_PER_S = 80;

/**
 * Windows of a straight lane at constant speed: lane lines at columns 5 and 18, the ego (blue) at
 * the centre, and, when `gapRows` is a number, another car (green) that many rows ahead of the
 * ego's front in every frame (it drives at the ego's logged speed); the logged actions are no
 * action.
 */
function windows(batch: number, gapRows: number | null): WindowBatch {
  const C = 3;
  const frame = (px: Float32Array, at: (r: number, c: number, ch: number) => number) => {
    for (let r = 0; r < IMAGE_H; r++) for (const c of [5, 18]) px[at(r, c, 0)] = 1;
    for (let r = 55; r < 62; r++) for (let c = 10; c < 14; c++) px[at(r, c, 2)] = 1;
    if (gapRows !== null) for (let r = 55 - gapRows - 7; r < 55 - gapRows; r++) for (let c = 10; c < 14; c++) px[at(r, c, 1)] = 1;
  };
  const ctxImages = new Float32Array(batch * IMAGE_H * IMAGE_W * NCOND * C);
  const targetImages = new Float32Array(NPRED * batch * IMAGE_H * IMAGE_W * C);
  const state = (t: number) => [(1000 + t * SPEED_PX_PER_S * 0.1 - 800) / 400, (120 - 120) / 40, (SPEED_PX_PER_S - 60) / 25, (0 - 0.5) / 3];
  const ctxStates = new Float32Array(batch * NCOND * 4);
  const targetStates = new Float32Array(NPRED * batch * 4);
  const actions = new Float32Array(NPRED * batch * 2);
  for (let b = 0; b < batch; b++) {
    for (let f = 0; f < NCOND; f++) {
      frame(ctxImages, (r, c, ch) => ((b * IMAGE_H + r) * IMAGE_W + c) * NCOND * C + f * C + ch);
      ctxStates.set(state(f), (b * NCOND + f) * 4);
    }
    for (let t = 0; t < NPRED; t++) {
      frame(targetImages, (r, c, ch) => (((t * batch + b) * IMAGE_H + r) * IMAGE_W + c) * C + ch);
      targetStates.set(state(NCOND + t), (t * batch + b) * 4);
      actions.set([(0 - STATS.actionMean[0]!) / STATS.actionStd[0]!, (0 - STATS.actionMean[1]!) / STATS.actionStd[1]!], (t * batch + b) * 2);
    }
  }
  return { batch, ncond: NCOND, npred: NPRED, channels: C, ctxImages, ctxStates, actions, targetImages, targetStates, episodeIds: Array(batch).fill('synthetic'), starts: Array(batch).fill(0) };
}

/** The policy's physical acceleration (px/s^2) on the first window of `wb`. */
function acceleration(policy: PolicyNetwork, wb: WindowBatch): number {
  return tf.tidy(() => {
    const images = tf.tensor4d(wb.ctxImages, [wb.batch, IMAGE_H, IMAGE_W, NCOND * 3]);
    const states = tf.tensor2d(wb.ctxStates, [wb.batch, NCOND * 4]);
    const a = policy.act({ images, states }).dataSync()[0]!;
    return a * STATS.actionStd[0]! + STATS.actionMean[0]!;
  });
}

test('a tiny policy trained with mpur-km through the logged future learns to brake for a car just ahead, not on a free road', { timeout: 300_000 }, async () => {
  const model = ForwardModel.create(fmConfig('tiny'), 'deterministic', 5);
  model.setTrainable(false);
  const cfg = policyTrainConfig('tiny', 'mpur-km', { future: 'real', npred: NPRED, batch: 4, lambdaU: 0.05 });
  // Unit statistics: U enters as the raw dropout variance (small for this untrained model).
  const one = Array(NPRED).fill(1);
  const zero = Array(NPRED).fill(0);
  const uStats: UStats = { npred: NPRED, samples: 1, imageMean: zero, imageStd: one, stateMean: zero, stateStd: one, costMean: zero, costStd: one };
  const policy = PolicyNetwork.create(policyNetConfig('tiny', NCOND, 3), 3);
  const adam = new Adam(policy.weights, { learningRate: cfg.learningRate });
  const close = windows(4, 2);
  const free = windows(1, null);
  try {
    const before = acceleration(policy, close);
    for (let k = 0; k < 150; k++) await policyStep({ model, policy, cfg, stats: STATS, uStats, noise: stepNoise(1, k) }, adam, close);
    const withCar = acceleration(policy, close);
    const freeRoad = acceleration(policy, free);
    assert.ok(withCar < -2, `brakes for the car 2 rows ahead: a = ${withCar.toFixed(2)} px/s^2 (untrained: ${before.toFixed(2)})`);
    assert.ok(withCar < before - 2, `training lowered the acceleration: ${before.toFixed(2)} -> ${withCar.toFixed(2)}`);
    assert.ok(freeRoad > withCar + 2, `on a free road it brakes less: ${freeRoad.toFixed(2)} against ${withCar.toFixed(2)}`);
  } finally {
    adam.dispose();
    policy.dispose();
    model.dispose();
  }
});

test('mpur-km weighs U at 0.01 on the CPU presets (tiny, small) and at the paper\'s 0.5 on paper; a flag overrides it', () => {
  assert.equal(policyTrainConfig('tiny', 'mpur-km').lambdaU, 0.01);
  assert.equal(policyTrainConfig('small', 'mpur-km').lambdaU, 0.01);
  assert.equal(policyTrainConfig('paper', 'mpur-km').lambdaU, 0.5);
  assert.equal(policyTrainConfig('tiny', 'mpur').lambdaU, 0.5);
  assert.equal(policyTrainConfig('tiny', 'mpur-km', { lambdaU: 0.3 }).lambdaU, 0.3);
  assert.equal(policyTrainConfig('tiny', 'vg-km').lambdaU, 0);
});

test('mpur-km: total = 10 (proximity + lambda_l lane) + lambda_f frame + lambda_u U, and lambda_u scales only U', () => {
  const model = ForwardModel.create(fmConfig('tiny'), 'deterministic', 5);
  model.setTrainable(false);
  const policy = PolicyNetwork.create(policyNetConfig('tiny', NCOND, 3), 3);
  const one = Array(NPRED).fill(1);
  const zero = Array(NPRED).fill(0);
  // Means below zero so that every normalised variance passes the hinge: U > 0.
  const minus = Array(NPRED).fill(-1);
  const uStats: UStats = { npred: NPRED, samples: 1, imageMean: minus, imageStd: one, stateMean: minus, stateStd: one, costMean: zero, costStd: one };
  const wb = windows(3, 4);
  const cars = egoSizesFromContext(wb.ctxImages, wb.batch, wb.ncond, wb.channels);
  const parts = (lambdaU: number) => tf.tidy(() => {
    const cfg = policyTrainConfig('tiny', 'mpur-km', { future: 'real', npred: NPRED, lambdaU, lambdaL: 0.7, lambdaF: 2 });
    const r = policyLoss({ model, policy, cfg, stats: STATS, uStats, noise: stepNoise(4, 0) }, { batch: batchTensors(wb), cars });
    return partsRecord(r.parts.dataSync());
  });
  try {
    const a = parts(0.05);
    const b = parts(0.5);
    assert.ok(a.uncertainty > 0, `U is measured: ${a.uncertainty}`);
    assert.ok(a.proximity > 0, 'the car ahead costs');
    const rel = (x: number, y: number) => Math.abs(x - y) / Math.max(Math.abs(y), 1e-9);
    for (const [p, lu] of [[a, 0.05], [b, 0.5]] as const) {
      const want = 10 * (p.proximity + 0.7 * p.lane) + 2 * p.frame + lu * p.uncertainty;
      assert.ok(rel(p.total, want) < 1e-4, `lambda_u ${lu}: total ${p.total} vs ${want}`);
    }
    // The same rollout: only U's weight changed.
    assert.ok(rel(a.proximity, b.proximity) < 1e-6 && rel(a.uncertainty, b.uncertainty) < 1e-5);
    assert.ok(rel(b.total - a.total, 0.45 * a.uncertainty) < 1e-3, `total grows by 0.45 U: ${b.total - a.total} vs ${0.45 * a.uncertainty}`);
  } finally {
    policy.dispose();
    model.dispose();
  }
});
