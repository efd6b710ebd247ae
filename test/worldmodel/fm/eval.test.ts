import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import * as tf from '@tensorflow/tfjs';
import { openDataset } from '../../../data/dataset.js';
import { fmConfig } from '../../../worldmodel/fm/config.js';
import { ForwardModel } from '../../../worldmodel/fm/model.js';
import { evaluateForwardModel } from '../../../worldmodel/fm/evaluate.js';
import { framesPng } from '../../../worldmodel/fm/frames-png.js';
import { writeTinyDataset } from '../../helpers/tiny-dataset.js';
import { setup } from './helpers.js';

before(setup);

/** Episodes whose image (pixels 0 or 255) never changes and whose car moves at constant velocity (vx, vy px/s). */
function steadyDataset(): string {
  return writeTinyDataset({
    n: 10,
    length: 30,
    ids: (i) => `s${i}`,
    episodeSeed: (i) => 50 + i,
    source: 'steady',
    edit: (ep, i) => {
      const frame = ep.images.slice(0, 117 * 24 * 3).map((v) => (v > 127 ? 255 : 0));
      const vx = 40 + 5 * i;
      const vy = i % 2 === 0 ? 3 : -2;
      for (let t = 0; t < 30; t++) {
        ep.images.set(frame, t * frame.length);
        ep.states.set([100 + vx * 0.1 * t, 50 + vy * 0.1 * t, vx, vy], t * 28);
      }
    },
  });
}

test('baselines: copy-last is exact for still images, constant velocity for steady motion', async () => {
  const ds = openDataset(steadyDataset());
  const cfg = fmConfig('tiny');
  const m = ForwardModel.create(cfg, 'deterministic', 1);
  const r = await evaluateForwardModel(m, ds, ds.manifest.stats, { split: 'val', horizons: [1, 5, 10, 20, 40], windows: 6, batch: 4, frames: 2 });
  m.dispose();
  assert.deepEqual(r.horizons.map((h) => h.horizon), [1, 5, 10, 20], 'horizons longer than the episodes are dropped');
  for (const h of r.horizons) {
    assert.equal(h.image.copyLast, 0);
    assert.ok(h.state.constVelocity < 1e-9, `${h.state.constVelocity}`);
    assert.ok(h.state.copyLast > 0);
    assert.equal(h.diversity, 0, 'a deterministic model has no diversity');
    assert.ok(h.image.model > 0);
  }
  // Copy-last state error grows with the horizon (position drifts linearly: error ~ h^2).
  const c = r.horizons.map((h) => h.state.copyLast);
  assert.ok(c[1]! > c[0]! && c[2]! > c[1]! && c[3]! > c[2]!);
  assert.equal(r.frames!.real.length, 2);
  assert.equal(r.frames!.predicted[0]!.length, 20);
  const png = PNG.sync.read(Buffer.from(framesPng(r.frames!, 2)));
  assert.equal(png.width, 20 * (48 + 2) + 2);
  assert.equal(png.height, 2 * (2 * 234 + 6) + 2);
  // The real frame's lane line (red, column 1 of the state image) is drawn at x = 2 + 2..3.
  const o = ((2 + 10) * png.width + 2 + 2) * 4;
  assert.ok(png.data[o]! > 150 && png.data[o + 1]! < 50);
});

test('a model that repeats its last frame (clipped) and state scores the known errors', async () => {
  const ds = openDataset(steadyDataset());
  const cfg = fmConfig('tiny');
  assert.equal(cfg.imageSkip, 'logit');
  const m = ForwardModel.create(cfg, 'deterministic', 1);
  // Zero decoder outputs: image = sigmoid(logit(clip(last, 0.01, 0.99))) = clip(last), state = last state.
  for (const n of ['dec.deconv3.w', 'dec.deconv3.b', 'dec.state.fc3.w', 'dec.state.fc3.b']) m.weights[n]!.assign(tf.zerosLike(m.weights[n]!));
  const r = await evaluateForwardModel(m, ds, ds.manifest.stats, { split: 'val', horizons: [1, 3, 8], windows: 5, batch: 2 });
  m.dispose();
  assert.equal(r.windows, 5);
  for (const h of r.horizons) {
    // Every pixel is 0 or 1 and is predicted 0.01 or 0.99: squared error 1e-4 each.
    assert.ok(Math.abs(h.image.model - 1e-4) < 1e-7, `horizon ${h.horizon}: image ${h.image.model}`);
    assert.equal(h.image.copyLast, 0);
    assert.ok(Math.abs(h.state.model - h.state.copyLast) <= 1e-6 * h.state.copyLast, `horizon ${h.horizon}: state ${h.state.model} vs copy-last ${h.state.copyLast}`);
    assert.ok(h.state.copyLast > 0);
  }
  assert.deepEqual(r.beatsBaselines.map((b) => [b.image, b.state]), [[false, false], [false, false], [false, false]]);
});

test('the stochastic model\'s samples differ', async () => {
  const ds = openDataset(steadyDataset());
  const cfg = fmConfig('tiny');
  const m = ForwardModel.create(cfg, 'vae', 2);
  const r = await evaluateForwardModel(m, ds, ds.manifest.stats, { split: 'val', horizons: [1, 5], windows: 4, batch: 4, samples: 3 });
  m.dispose();
  for (const h of r.horizons) assert.ok(h.diversity > 0, `diversity ${h.diversity}`);
});
