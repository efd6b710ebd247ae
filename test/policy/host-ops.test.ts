import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { NormStats } from '../../data/dataset-types.js';
import { fmConfig } from '../../worldmodel/fm/config.js';
import { ForwardModel } from '../../worldmodel/fm/model.js';
import { randomWindowBatch } from '../../worldmodel/fm/windows.js';
import { batchTensors } from '../../worldmodel/fm/train-step.js';
import { hostOps, setHostOps } from '../../worldmodel/backend.js';
import { PolicyNetwork } from '../../policy/network.js';
import { ACTION_CLAMP, policyNetConfig, policyTrainConfig, type PolicyMethod } from '../../policy/config.js';
import { policyLoss, PART_NAMES } from '../../policy/objectives.js';
import { stepNoise } from '../../policy/mpur.js';
import type { UStats } from '../../policy/uncertainty.js';
import { setup } from './helpers.js';

before(setup);
after(() => setHostOps(true));

const STATS: NormStats = { stateMean: [900, 120, 55, 0], stateStd: [400, 40, 20, 1], actionMean: [0, 0], actionStd: [4, 0.001] };

/** Loss parts and every gradient of one update of `method` (the km methods through the logged future, mpur through the model). */
function update(method: PolicyMethod, host: boolean): { parts: number[]; grads: Record<string, Float32Array> } {
  setHostOps(host);
  assert.equal(hostOps(), host);
  const cfg = policyTrainConfig('tiny', method, method === 'mpur' ? {} : { future: 'real', npred: 8, batch: 3, k: 3, uStride: 3 });
  const fmCfg = fmConfig('tiny');
  const model = ForwardModel.create(fmCfg, 'vae', 2);
  model.setTrainable(false);
  const policy = PolicyNetwork.create(policyNetConfig('tiny', fmCfg.ncond, fmCfg.channels, false, method === 'mpur' ? null : ACTION_CLAMP), 3);
  // Means 0 and small stds: every variance lands above the hinge, so U and its gradient are active.
  const z = Array(cfg.npred).fill(0);
  const sd = Array(cfg.npred).fill(1e-5);
  const uStats: UStats = { npred: cfg.npred, samples: 1, imageMean: z, imageStd: sd, stateMean: z, stateStd: sd, costMean: z, costStd: sd };
  const wb = randomWindowBatch({ batch: cfg.batch, ncond: fmCfg.ncond, npred: cfg.npred, channels: fmCfg.channels }, 5);
  const batch = batchTensors(wb);
  const cars = { lengthObsPx: new Float32Array(cfg.batch).fill(7.5), widthObsPx: new Float32Array(cfg.batch).fill(3) };
  let parts: number[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const r = policyLoss({ model, policy, cfg, stats: STATS, uStats, noise: stepNoise(1, 0) }, { batch, cars });
    parts = Array.from(r.parts.dataSync());
    return r.total;
  }, policy.variables());
  const out: Record<string, Float32Array> = {};
  for (const [k, g] of Object.entries(grads)) out[k.split('/').pop()!] = g.dataSync() as Float32Array;
  tf.dispose([value, ...Object.values(grads)]);
  tf.dispose(batch as unknown as tf.TensorContainer);
  policy.dispose();
  model.dispose();
  return { parts, grads: out };
}

for (const method of ['vg-km', 'mpur-km', 'mpur'] as const) {
  test(`${method}: one update's loss parts and gradients are the same with the host ops and with tfjs ops`, () => {
    const a = update(method, true);
    const b = update(method, false);
    a.parts.forEach((v, i) => assert.ok(Math.abs(v - b.parts[i]!) <= 1e-4 * Math.max(1e-3, Math.abs(b.parts[i]!)), `${PART_NAMES[i]}: host ${v}, ops ${b.parts[i]}`));
    assert.ok(a.parts[0]! > 0, 'the loss is not zero');
    if (method !== 'vg-km') assert.ok(a.parts[PART_NAMES.indexOf('uncertainty')]! > 0, 'the uncertainty term is active');
    for (const [name, g] of Object.entries(b.grads)) {
      const h = a.grads[name]!;
      const scale = Math.max(...Array.from(g, Math.abs));
      let worst = 0;
      for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(h[i]! - g[i]!));
      assert.ok(worst <= 2e-3 * scale + 1e-9, `${name}: largest difference ${worst} (gradient scale ${scale})`);
    }
    assert.ok(Object.values(b.grads).some((g) => g.some((x) => x !== 0)), 'the gradients are not all zero');
  });
}
