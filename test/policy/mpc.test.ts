import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { NormStats } from '../../data/dataset-types.js';
import type { ControllerBatch, EpisodeView } from '../../sim/controllers/controller.js';
import { I80_MAP } from '../../sim/map.js';
import { fmConfig } from '../../worldmodel/fm/config.js';
import { IMAGE_H, IMAGE_W } from '../../data/layout.js';
import { ForwardModel } from '../../worldmodel/fm/model.js';
import { MpcPlanner, mpcController } from '../../policy/mpc.js';
import { setup } from './helpers.js';

before(setup);

const STATS: NormStats = { stateMean: [900, 120, 60, 0], stateStd: [400, 40, 20, 1], actionMean: [0, 0], actionStd: [10, 0.002] };
const T = 20;
const SPEED = 80;

/** n cars at 80 px/s heading +x; car i sees another car `gapRows[i]` rows ahead of its centre (null: none). */
function batch(gapRows: Array<number | null>): ControllerBatch {
  const n = gapRows.length;
  const frame = IMAGE_H * IMAGE_W * 3;
  const images = new Uint8Array(n * T * frame);
  const states = new Float32Array(n * T * 4);
  const episodes: EpisodeView[] = [];
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < T; t++) {
      const o = (i * T + t) * frame;
      // Lane lines at columns 5 and 18, the ego (blue) at the centre, the other car (green) ahead.
      for (let r = 0; r < IMAGE_H; r++) for (const c of [5, 18]) images[o + (r * IMAGE_W + c) * 3] = 255;
      for (let r = 55; r < 62; r++) for (let c = 10; c < 14; c++) images[o + (r * IMAGE_W + c) * 3 + 2] = 255;
      const g = gapRows[i];
      if (g !== null && g !== undefined) for (let r = 58 - g - 7; r < 58 - g; r++) for (let c = 10; c < 14; c++) images[o + (r * IMAGE_W + c) * 3 + 1] = 255;
      states.set([1000 - (T - 1 - t) * SPEED * 0.1, 120, SPEED, 0], (i * T + t) * 4);
    }
    episodes.push({ vehicleId: i, frame: 100, state: { xPx: 1000, yPx: 120, dirX: 1, dirY: 0, speedPxPerS: SPEED }, lengthPx: 28, widthPx: 12, neighbours: new Float32Array(28), mask: new Uint8Array(7), loggedAction: null });
  }
  return { n, map: I80_MAP, contextFrames: T, channels: 3, episodes, images, states };
}

function planner(iters: number) {
  const model = ForwardModel.create(fmConfig('tiny'), 'deterministic', 3);
  model.setTrainable(false);
  return { model, mpc: new MpcPlanner(model, STATS, { horizon: 8, iters, learningRate: 0.1, weights: { gamma: 0.99, lambdaL: 1, lambdaO: 0, lambdaF: 1 } }) };
}

test('MPC lowers the planned cost over its iterations and brakes for a car just ahead', async () => {
  const { model, mpc } = planner(8);
  try {
    const r = await mpc.plan(batch([6, null]));
    assert.equal(r.costs.length, 9);
    // Planning leaves no tensor behind (the projection of the plan included).
    const before = tf.memory().numTensors;
    await mpc.plan(batch([6, null]));
    assert.equal(tf.memory().numTensors, before);
    assert.ok(r.costs.at(-1)! < r.costs[0]!, `cost ${r.costs[0]} -> ${r.costs.at(-1)}`);
    for (let k = 1; k < r.costs.length; k++) assert.ok(Number.isFinite(r.costs[k]!));
    // Every iteration projects the plan onto the actions the controller executes.
    for (const v of r.plan) assert.ok(Math.abs(v) <= 3 + 1e-6, `plan value ${v} within +-3`);
    // First planned acceleration (normalised, physical = 10 x): braking with the car ahead, not without it.
    const aWith = r.plan[0]!;
    const aWithout = r.plan[8 * 2]!;
    assert.ok(aWith < 0, `brakes for the car ahead: a = ${aWith}`);
    assert.ok(aWith < aWithout - 0.05, `with a car ahead ${aWith}, free road ${aWithout}`);
  } finally {
    model.dispose();
  }
});

test('the MPC controller returns physical actions per car and warm-starts from its previous plan', async () => {
  const { model } = planner(1);
  try {
    const ctl = mpcController(model, STATS, { horizon: 6, iters: 3, learningRate: 0.1, weights: { gamma: 0.99, lambdaL: 1, lambdaO: 0, lambdaF: 1 } });
    const a1 = await ctl.act(batch([6, 20, null]));
    assert.equal(a1.length, 6);
    for (const v of a1) assert.ok(Number.isFinite(v));
    assert.ok(Math.abs(a1[0]!) <= 30 + 1e-6, 'clamped to 3 sigma');
    const a2 = await ctl.act(batch([6, 20, null]));
    // The second call starts from the first plan, so it moves further the same way.
    assert.ok(a2[0]! <= a1[0]! + 1e-6, `second step brakes at least as hard: ${a1[0]} then ${a2[0]}`);
  } finally {
    model.dispose();
  }
});
