import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../common/rng.js';
import { fitPca } from '../../../worldmodel/ebm/pca.js';
import { fitKmeans } from '../../../worldmodel/ebm/kmeans.js';
import { mat, matVec, row, dot, column } from '../../../worldmodel/ebm/linalg.js';
import { minEnergy, freeEnergy } from '../../../worldmodel/ebm/energy.js';
import { randomMat, randomVec } from './helpers.js';

test('PCA energy is zero on the principal subspace and positive off it', () => {
  const rng = new Rng(10);
  const d = 12;
  const k = 3;
  const basis = randomMat(d, k, rng);
  const offset = randomVec(d, rng);
  // Data on a 3-d affine subspace plus tiny noise.
  const n = 400;
  const Y = mat(n, d);
  for (let i = 0; i < n; i++) {
    const c = matVec(basis, randomVec(k, rng, 2));
    for (let j = 0; j < d; j++) Y.data[i * d + j] = offset[j]! + c[j]! + rng.normal(0, 1e-4);
  }
  const pca = fitPca(Y, k);
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k; b++) assert.ok(Math.abs(dot(column(pca.W, a), column(pca.W, b)) - (a === b ? 1 : 0)) < 1e-9, 'columns orthonormal');
  }
  // Points on the subspace (new ones, not training rows).
  for (let t = 0; t < 20; t++) {
    const c = matVec(basis, randomVec(k, rng, 3));
    const y = Float64Array.from(c, (v, j) => v + offset[j]!);
    assert.ok(minEnergy(pca, y) < 1e-5, `on-subspace energy ${minEnergy(pca, y)}`);
  }
  // Points moved off the subspace by a known orthogonal distance have that squared energy.
  for (let t = 0; t < 20; t++) {
    const c = matVec(basis, randomVec(k, rng, 3));
    let u = randomVec(d, rng);
    const proj = matVec(pca.W, Array.from({ length: k }, (_, a) => dot(column(pca.W, a), u)));
    u = Float64Array.from(u, (v, j) => v - proj[j]!);
    const un = Math.sqrt(dot(u, u));
    const dist = 0.5 + t * 0.1;
    const y = Float64Array.from(c, (v, j) => v + offset[j]! + (dist * u[j]!) / un);
    const e = minEnergy(pca, y);
    assert.ok(e > 0.2, `off-subspace energy ${e}`);
    assert.ok(Math.abs(e - dist * dist) < 1e-3, `energy ${e} vs squared distance ${dist * dist}`);
  }
  // Variances decrease and the sampled free energy approaches the minimum as beta grows.
  assert.ok(pca.variances[0]! >= pca.variances[1]! && pca.variances[1]! >= pca.variances[2]!);
  const y = row(Y, 0);
  assert.ok(freeEnergy(pca, y, { beta: Infinity }) < 1e-5);
});

test('K-means energy never increases over iterations and inference is exhaustive', () => {
  for (const seed of [1, 2, 3]) {
    const rng = new Rng(seed);
    const d = 5;
    const n = 300;
    const Y = mat(n, d);
    const centres = randomMat(6, d, rng, 3);
    for (let i = 0; i < n; i++) {
      const c = rng.int(6);
      for (let j = 0; j < d; j++) Y.data[i * d + j] = centres.data[c * d + j]! + rng.normal(0, 0.7);
    }
    const fit = fitKmeans(Y, 6, { seed });
    assert.ok(fit.energyHistory.length >= 3, 'several steps recorded');
    for (let i = 1; i < fit.energyHistory.length; i++) {
      assert.ok(fit.energyHistory[i]! <= fit.energyHistory[i - 1]! + 1e-12, `energy rose at step ${i}: ${fit.energyHistory.slice(0, i + 1)}`);
    }
    const { model } = fit;
    const y = row(Y, 7);
    const { z, energy } = model.infer(y);
    for (const c of model.latents()) assert.ok(model.energy(y, c) >= energy);
    assert.equal(model.energy(y, z), energy);
    // The free energy over the one-hot latent lies below the min and tends to it as beta grows.
    const f1 = freeEnergy(model, y, { beta: 0.01 });
    const f100 = freeEnergy(model, y, { beta: 100 });
    assert.ok(f1 < energy && f100 <= energy && f100 >= f1, `F1 ${f1} F100 ${f100} min ${energy}`);
    assert.ok(energy - f100 < Math.log(6) / 100 + 1e-12);
  }
});
