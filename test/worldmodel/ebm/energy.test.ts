import { test } from 'node:test';
import assert from 'node:assert/strict';
import { softMin, freeEnergy, type LatentEnergy } from '../../../worldmodel/ebm/energy.js';
import type { Rng } from '../../../common/rng.js';

test('softMin is the log-sum-exp free energy and tends to the minimum', () => {
  // Two equal energies: F = E - log(2) / beta.
  assert.ok(Math.abs(softMin([3, 3], 2) - (3 - Math.log(2) / 2)) < 1e-12);
  assert.equal(softMin([5, 1, 2], Infinity), 1);
  // Stable for large energies (naive exp would underflow to log(0)).
  assert.ok(Math.abs(softMin([1000, 1001], 50) - (1000 - Math.log(1 + Math.exp(-50)) / 50)) < 1e-9);
  assert.throws(() => softMin([1], -1));
});

test('sampled free energy of a quadratic matches the Gaussian integral', () => {
  // E(y, z) = (z - y)^2 / 2 with proposal q = N(0, 1): E_q[exp(-E)] = exp(-y^2 / 4) / sqrt(2).
  const model: LatentEnergy<number> = {
    kind: 'quadratic',
    energy: (y, z) => (z - y[0]!) ** 2 / 2,
    infer: (y) => ({ z: y[0]!, energy: 0 }),
    sampleLatent: (rng: Rng) => rng.normal(),
  };
  const y = Float64Array.of(0.7);
  const exact = y[0]! ** 2 / 4 + Math.log(Math.sqrt(2));
  const est = freeEnergy(model, y, { beta: 1, samples: 20000, seed: 5 });
  assert.ok(Math.abs(est - exact) < 0.02, `estimate ${est} vs ${exact}`);
  assert.equal(freeEnergy(model, y, { beta: Infinity }), 0);
});
