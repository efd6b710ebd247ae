/** The km methods' action-size and jerk terms, and the moving average of a policy's weights (--ema). */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDataset } from '../../data/dataset.js';
import { makeBatch, type BatchSpec } from '../../worldmodel/fm/batches.js';
import { batchTensors } from '../../worldmodel/fm/train-step.js';
import { PolicyNetwork } from '../../policy/network.js';
import { policyNetConfig, policyTrainConfig } from '../../policy/config.js';
import { actionTerms, partsRecord, policyLoss } from '../../policy/objectives.js';
import { stepNoise, trainPolicy } from '../../policy/mpur.js';
import { egoSizesFromContext } from '../../policy/car-size.js';
import { loadPolicy, RAW_POLICY_DIR } from '../../policy/checkpoint.js';
import { averageDecayAt, WeightAverage } from '../../policy/weight-average.js';
import { Interrupted, resetInterruptRequest, simulateSignal } from '../../common/interrupt.js';
import { setup, tempDir, tinyDataset } from './helpers.js';

before(setup);

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('actionTerms: mean squared norm of the actions and of their change between steps; the jerk gradient pulls neighbours together', () => {
  tf.tidy(() => {
    const a = [tf.tensor2d([[1, 2], [0, -1]]), tf.tensor2d([[3, 2], [0, 1]]), tf.tensor2d([[3, 0], [1, 1]])];
    const r = actionTerms(a);
    // |a|^2 per (t, b): 5, 1, 13, 1, 9, 2 -> mean 31 / 6.
    close(r.action.dataSync()[0]!, 31 / 6, 1e-6, 'action');
    // changes: (2, 0), (0, 2), (0, -2), (1, 0) -> 4, 4, 4, 1 -> mean 13 / 4.
    close(r.jerk.dataSync()[0]!, 13 / 4, 1e-6, 'jerk');
    assert.equal(actionTerms([a[0]!]).jerk.dataSync()[0], 0);
    // d jerk / d a_1 for row 0, component 0: 2 (a1 - a0) - 2 (a2 - a1), over 4 terms = (4 - 0) / 4 = 1: it moves a_1 back towards a_0.
    const g = tf.grad((x: tf.Tensor) => actionTerms([a[0]!, x as tf.Tensor2D, a[2]!]).jerk)(a[1]!);
    close(g.dataSync()[0]!, 1, 1e-6, 'jerk gradient');
  });
});

test('km methods: lambda_a and lambda_j add their terms to the loss and change nothing else; only the km methods have them', () => {
  const ds = openDataset(tinyDataset());
  const spec: BatchSpec = { split: 'train', shape: { batch: 3, ncond: 4, npred: 3, channels: 3 }, seed: 2, stats: ds.manifest.stats };
  const wb = makeBatch(ds, ds.episodes('train'), spec, 0);
  const cars = egoSizesFromContext(wb.ctxImages, wb.batch, wb.ncond, wb.channels);
  const policy = PolicyNetwork.create(policyNetConfig('tiny', 4, 3), 3);
  try {
    const run = (lambdaA: number, lambdaJ: number) => tf.tidy(() => {
      const cfg = policyTrainConfig('tiny', 'vg-km', { future: 'real', npred: 3, lambdaA, lambdaJ });
      return partsRecord(policyLoss({ model: null, policy, cfg, stats: ds.manifest.stats, uStats: null, noise: stepNoise(4, 0) }, { batch: batchTensors(wb), cars }).parts.dataSync());
    });
    const off = run(0, 0);
    const on = run(0.3, 2);
    assert.equal(off.action, 0);
    assert.equal(off.jerk, 0);
    assert.ok(on.action > 1e-4 && on.jerk > 0, `action ${on.action}, jerk ${on.jerk}`);
    close(on.proximity, off.proximity, 1e-7, 'proximity');
    close(on.total, off.total + 0.3 * on.action + 2 * on.jerk, 1e-5 * on.total, 'total');
  } finally {
    policy.dispose();
  }
  assert.throws(() => policyTrainConfig('tiny', 'mpur', { lambdaJ: 0.1 }), /field lambda-j: method mpur has no such term/);
  assert.throws(() => policyTrainConfig('tiny', 'mpur-km', { ema: 1 }), /field ema: the decay of the weight average must be in \[0, 1\)/);
  assert.equal(policyTrainConfig('tiny', 'mpur-km').lambdaJ, 0);
});

test('WeightAverage: d_n = min(decay, (1 + n) / (10 + n)); each update folds in the weights with that decay, in new tensors', () => {
  assert.equal(averageDecayAt(0.99, 1), 2 / 11);
  assert.equal(averageDecayAt(0.99, 10000), 0.99);
  const w = { a: tf.variable(tf.tensor1d([1, 2])), b: tf.variable(tf.tensor2d([[4]])) };
  const avg = new WeightAverage(w, 0.5);
  try {
    w.a.assign(tf.tensor1d([3, 6]));
    w.b.assign(tf.tensor2d([[0]]));
    avg.update(w, 1); // d = min(0.5, 2 / 11)
    const d = 2 / 11;
    assert.deepEqual(Array.from(avg.weights.a!.dataSync()).map((v) => +v.toFixed(5)), [d * 1 + (1 - d) * 3, d * 2 + (1 - d) * 6].map((v) => +v.toFixed(5)));
    close(avg.weights.b!.dataSync()[0]!, d * 4, 1e-6, 'b');
    const before = avg.weights.a!.dataSync()[0]!;
    avg.update(w, 100); // d = 0.5
    close(avg.weights.a!.dataSync()[0]!, 0.5 * before + 0.5 * 3, 1e-6, 'a at decay 0.5');
    assert.throws(() => avg.update({ a: w.a }, 101), /no weight b/);
    assert.throws(() => new WeightAverage(w, 1), /decay must be in \(0, 1\)/);
  } finally {
    avg.dispose();
    w.a.dispose();
    w.b.dispose();
  }
});

function logTotals(out: string): number[] {
  return readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { total: number }).total);
}

async function weights(dir: string): Promise<Record<string, number[]>> {
  const p = await loadPolicy(dir);
  try {
    return Object.fromEntries(Object.entries(p.policy.weights).map(([k, v]) => [k, Array.from(v.dataSync())]));
  } finally {
    p.policy.dispose();
  }
}

test('--ema: the policy folder holds the average, policy-raw the optimiser\'s weights, training is unchanged, and a resumed run continues both exactly', async () => {
  const base = { dataset: tinyDataset(), method: 'vg-km' as const, prefetch: false, seed: 2 };
  const real = { future: 'real' as const, npred: 4 };
  const runs = { plain: join(tempDir(), 'plain'), ema: join(tempDir(), 'ema'), half: join(tempDir(), 'half') };
  await trainPolicy({ ...base, out: runs.plain, steps: 30, overrides: real });
  await trainPolicy({ ...base, out: runs.ema, steps: 30, overrides: { ...real, ema: 0.9 } });
  // The average does not feed back into training: the same losses, the same last weights.
  assert.deepEqual(logTotals(runs.ema), logTotals(runs.plain));
  assert.equal(existsSync(join(runs.plain, 'checkpoint', RAW_POLICY_DIR)), false);
  const [plain, raw, avg] = [await weights(runs.plain), await weights(join(runs.ema, 'checkpoint', RAW_POLICY_DIR)), await weights(runs.ema)];
  assert.deepEqual(raw, plain);
  const diff = Object.keys(plain).reduce((s, k) => s + plain[k]!.reduce((t, v, i) => t + Math.abs(v - avg[k]![i]!), 0), 0);
  assert.ok(diff > 1e-4, `average differs from the last weights by ${diff}`);
  // Interrupted after 12 of 30 updates and resumed: the average continues exactly.
  const cut = trainPolicy({ ...base, out: runs.half, steps: 30, checkpointEvery: 100, overrides: { ...real, ema: 0.9 }, onStep: (st) => st.step === 12 && simulateSignal('SIGINT') });
  await assert.rejects(cut, (e: unknown) => e instanceof Interrupted);
  resetInterruptRequest();
  await trainPolicy({ dataset: tinyDataset(), out: runs.half, steps: 30, resume: true, prefetch: false });
  assert.deepEqual(logTotals(runs.half), logTotals(runs.ema));
  assert.deepEqual(await weights(runs.half), avg);
  assert.deepEqual(await weights(join(runs.half, 'checkpoint', RAW_POLICY_DIR)), raw);
  await assert.rejects(trainPolicy({ ...base, out: runs.half, steps: 31, resume: true, overrides: { ema: 0.5 } }), /field ema: the run in .* uses ema 0.9/);
});
