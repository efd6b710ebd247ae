import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { IMAGE_H, IMAGE_W, SCALE_PX_PER_M } from '../../data/layout.js';
import { openDataset } from '../../data/dataset.js';
import { makeBatch, type BatchSpec } from '../../worldmodel/fm/batches.js';
import { batchTensors } from '../../worldmodel/fm/train-step.js';
import { fmConfig } from '../../worldmodel/fm/config.js';
import { ForwardModel } from '../../worldmodel/fm/model.js';
import { PolicyNetwork } from '../../policy/network.js';
import { policyNetConfig, policyTrainConfig, type TrainOverrides } from '../../policy/config.js';
import { kmCostLoss, needsImaginedWorld, partsRecord, policyLoss, PART_NAMES, type PartName } from '../../policy/objectives.js';
import { kmCosts } from '../../policy/costs-km.js';
import { tileCars, type CarSizes } from '../../policy/costs.js';
import { concatPoses, type EgoPose } from '../../policy/kinematic-ego.js';
import { imagineWorld, kmRollout, realWorld } from '../../policy/km-rollout.js';
import { FmNoise } from '../../worldmodel/fm/noise.js';
import { stepNoise } from '../../policy/mpur.js';
import { egoSizesFromContext } from '../../policy/car-size.js';
import type { UStats } from '../../policy/uncertainty.js';
import { setup, tinyDataset } from './helpers.js';

before(setup);

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

/** Deterministic values in [0, 1). */
function uniform(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  });
}

/** B = 2 poses heading +x at 12 m/s; row 1 of the kinematic poses `aheadM[t]` metres ahead of its reference. */
function poses(t: number, aheadM: number[]): { km: EgoPose; ref: EgoPose } {
  const v = 12 * SCALE_PX_PER_M;
  const pose = (x: number[], y: number[]): EgoPose => ({ x: tf.tensor1d(x), y: tf.tensor1d(y), dx: tf.tensor1d([1, 1]), dy: tf.tensor1d([0, 0]), v: tf.tensor1d([v, v]) });
  const x0 = 500 + 10 * t;
  return { ref: pose([x0, x0], [100, 130]), km: pose([x0 + 0.6 * SCALE_PX_PER_M, x0 + aheadM[t]! * SCALE_PX_PER_M], [100 + 0.3 * t * SCALE_PX_PER_M, 130]) };
}

test('kmCostLoss: each km cost is a gamma^t-weighted mean over steps and cars, total = 10 (proximity + lambda_l lane + lambda_o off-road) + lambda_f frame', () => {
  const T = 3;
  const B = 2;
  const cars: CarSizes = { lengthObsPx: Float32Array.from([7, 8]), widthObsPx: Float32Array.from([3, 4]) };
  const aheadM = [31, 33, 32.5]; // beyond the 30 m keep-in-frame limit: frame = (ahead - 30)^4 for row 1
  const w = { gamma: 0.7, lambdaL: 0.3, lambdaO: 0.6, lambdaF: 0.05 };
  tf.tidy(() => {
    const frames = Array.from({ length: T }, (_, t) => tf.tensor4d(uniform(B * IMAGE_H * IMAGE_W * 4, 11 + t), [B, IMAGE_H, IMAGE_W, 4]));
    const ps = Array.from({ length: T }, (_, t) => poses(t, aheadM));
    const p: Partial<Record<PartName, tf.Scalar>> = {};
    const total = kmCostLoss(frames, concatPoses(ps.map((q) => q.km)), concatPoses(ps.map((q) => q.ref)), cars, w, p).dataSync()[0]!;
    // The same costs, computed per step and weighted by hand.
    const want: Record<'proximity' | 'lane' | 'offroad' | 'frame', number> = { proximity: 0, lane: 0, offroad: 0, frame: 0 };
    for (let t = 0; t < T; t++) {
      const c = kmCosts(frames[t]!, ps[t]!.km, ps[t]!.ref, cars);
      for (const k of ['proximity', 'lane', 'offroad', 'frame'] as const) {
        const v = c[k]!.dataSync();
        want[k] += (w.gamma ** t * (v[0]! + v[1]!)) / (T * B);
      }
    }
    close(want.frame, (1 + 0.7 * 3 ** 4 + 0.49 * 2.5 ** 4) / 6, 0.01, 'frame by hand');
    for (const k of ['proximity', 'lane', 'offroad'] as const) assert.ok(want[k] > 0.01, `${k} ${want[k]}`);
    for (const k of ['proximity', 'lane', 'offroad', 'frame'] as const) close(p[k]!.dataSync()[0]!, want[k], 1e-5 * Math.max(1, want[k]), k);
    close(total, 10 * (want.proximity + 0.3 * want.lane + 0.6 * want.offroad) + 0.05 * want.frame, 1e-4, 'total');
    // Without the off-road weight the off-road part is not recorded, and 3-channel frames are enough.
    const q: Partial<Record<PartName, tf.Scalar>> = {};
    const three = frames.map((f) => tf.slice(f, [0, 0, 0, 0], [-1, -1, -1, 3]) as tf.Tensor4D);
    const t0 = kmCostLoss(three, concatPoses(ps.map((s) => s.km)), concatPoses(ps.map((s) => s.ref)), cars, { ...w, lambdaO: 0 }, q).dataSync()[0]!;
    assert.equal(q.offroad, undefined);
    close(t0, 10 * (want.proximity + 0.3 * want.lane) + 0.05 * want.frame, 1e-4, 'total without off-road');
    assert.throws(() => kmCostLoss(three, concatPoses(ps.map((s) => s.km)), concatPoses(ps.map((s) => s.ref)), cars, w), /the off-road cost needs 4-channel images/);
  });
});

test('only the km methods through a model world need it imagined beforehand', () => {
  assert.equal(needsImaginedWorld(policyTrainConfig('tiny', 'mpur-km', { future: 'real' })), false);
  assert.equal(needsImaginedWorld(policyTrainConfig('tiny', 'mpur-km', { future: 'model' })), true);
  assert.equal(needsImaginedWorld(policyTrainConfig('tiny', 'vg-km')), true);
  assert.equal(needsImaginedWorld(policyTrainConfig('tiny', 'mpur')), false);
  assert.deepEqual(partsRecord([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), Object.fromEntries(PART_NAMES.map((n, i) => [n, i + 1])));
  assert.deepEqual(PART_NAMES, ['total', 'proximity', 'lane', 'offroad', 'uncertainty', 'imitation', 'trajectory', 'frame', 'action', 'jerk']);
});

const NCOND = 4;
const NPRED = 3;

function inputs() {
  const ds = openDataset(tinyDataset());
  const spec: BatchSpec = { split: 'train', shape: { batch: 3, ncond: NCOND, npred: NPRED, channels: 3 }, seed: 2, stats: ds.manifest.stats };
  const wb = makeBatch(ds, ds.episodes('train'), spec, 0);
  const cars = egoSizesFromContext(wb.ctxImages, wb.batch, wb.ncond, wb.channels);
  return { wb, cars, stats: ds.manifest.stats };
}

test('mpur-km through the logged future: the km cost loss of the rollout, plus lambda_u U; the errors of missing inputs', () => {
  const { wb, cars, stats } = inputs();
  const model = ForwardModel.create(fmConfig('tiny'), 'deterministic', 5);
  model.setTrainable(false);
  const policy = PolicyNetwork.create(policyNetConfig('tiny', NCOND, 3), 3);
  const cfg = (o: TrainOverrides) => policyTrainConfig('tiny', 'mpur-km', { future: 'real', npred: NPRED, lambdaL: 0.7, lambdaF: 2, gamma: 0.8, uStride: 1, ...o });
  const minus = Array(NPRED).fill(-1);
  const one = Array(NPRED).fill(1);
  const uStats: UStats = { npred: NPRED, samples: 1, imageMean: minus, imageStd: one, stateMean: minus, stateStd: one, costMean: Array(NPRED).fill(0), costStd: one };
  try {
    const run = (lambdaU: number, m: ForwardModel | null = model, u: UStats | null = uStats) =>
      tf.tidy(() => partsRecord(policyLoss({ model: m, policy, cfg: cfg({ lambdaU }), stats, uStats: u, noise: stepNoise(4, 0) }, { batch: batchTensors(wb), cars }).parts.dataSync()));
    // lambda_u = 0: no model and no statistics needed; the total is kmCostLoss of the policy's rollout through the logged frames.
    const a = run(0, null, null);
    const want = tf.tidy(() => {
      const b = batchTensors(wb);
      const r = kmRollout(policy, realWorld(b, NCOND, 3, NPRED), b.input, stats, NPRED);
      return kmCostLoss(r.frames, r.km, r.ref, cars, cfg({ lambdaU: 0 })).dataSync()[0]!;
    });
    assert.ok(want > 0.01, `km cost ${want}`);
    close(a.total, want, 1e-5 * want, 'total at lambda_u 0');
    assert.equal(a.uncertainty, 0);
    close(a.total, 10 * (a.proximity + 0.7 * a.lane) + 2 * a.frame, 1e-5 * want, 'parts at lambda_u 0');
    // lambda_u > 0 adds lambda_u U and changes nothing else.
    const b = run(0.3);
    const c = run(0.9);
    assert.ok(b.uncertainty > 0.1, `U ${b.uncertainty}`);
    close(c.uncertainty, b.uncertainty, 1e-5 * b.uncertainty, 'U does not depend on its weight');
    close(b.proximity, a.proximity, 1e-6, 'proximity');
    close(b.total, a.total + 0.3 * b.uncertainty, 1e-5 * b.total, 'total at lambda_u 0.3');
    close(c.total, a.total + 0.9 * b.uncertainty, 1e-5 * c.total, 'total at lambda_u 0.9');
    assert.throws(() => run(0.3, null), /policy method mpur-km needs a forward model/);
    assert.throws(() => run(0.3, model, null), /the uncertainty term needs its statistics \(estimate them first\)/);
    const modelFuture = policyTrainConfig('tiny', 'mpur-km', { future: 'model', npred: NPRED });
    assert.throws(
      () => tf.tidy(() => policyLoss({ model, policy, cfg: modelFuture, stats, uStats, noise: stepNoise(4, 0) }, { batch: batchTensors(wb), cars })),
      /km objective: the model future needs the imagined world \(imagineWorld\)/,
    );
  } finally {
    policy.dispose();
    model.dispose();
  }
});

test('mpur-km through an imagined world: U is measured with the world\'s own z draws', () => {
  const { wb, cars, stats } = inputs();
  const model = ForwardModel.create(fmConfig('tiny'), 'vae', 7);
  model.setTrainable(false);
  const policy = PolicyNetwork.create(policyNetConfig('tiny', NCOND, 3), 3);
  const cfg = policyTrainConfig('tiny', 'mpur-km', { future: 'model', npred: NPRED, lambdaU: 0.5, uStride: 1, k: 4 });
  const minus = Array(NPRED).fill(-1);
  const one = Array(NPRED).fill(1);
  const uStats: UStats = { npred: NPRED, samples: 1, imageMean: minus, imageStd: one, stateMean: minus, stateStd: one, costMean: Array(NPRED).fill(0), costStd: one };
  try {
    const u = (flip: boolean) => tf.tidy(() => {
      const b = batchTensors(wb);
      const world = imagineWorld(model, policy, b.input, stats, NPRED, new FmNoise(9, false));
      assert.equal(world.zs.length, NPRED);
      const w = flip ? { ...world, zs: world.zs.map((z) => tf.neg(z) as tf.Tensor2D) } : world;
      return partsRecord(policyLoss({ model, policy, cfg, stats, uStats, noise: stepNoise(4, 0) }, { batch: b, cars, world: w }).parts.dataSync()).uncertainty;
    });
    const [a, again, flipped] = [u(false), u(false), u(true)];
    assert.ok(a > 0.01, `U ${a}`);
    assert.equal(again, a);
    assert.ok(Math.abs(flipped - a) > 5e-6 * a, `U with other z: ${flipped} vs ${a}`);
  } finally {
    policy.dispose();
    model.dispose();
  }
});
