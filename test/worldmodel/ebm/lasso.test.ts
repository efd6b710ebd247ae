import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../common/rng.js';
import { ista, fista, kktViolation, lassoEnergy } from '../../../worldmodel/ebm/lasso.js';
import { mat, matTVec, softThreshold, symmetricEigen, gram } from '../../../worldmodel/ebm/linalg.js';
import { randomDictionary, randomMat, randomVec, sparseSignal } from './helpers.js';

test('ISTA and FISTA reach the lasso optimum (KKT to 1e-4) on random problems', () => {
  const rng = new Rng(1);
  for (let trial = 0; trial < 5; trial++) {
    const d = 20 + trial * 5;
    const k = 40;
    const W = randomDictionary(d, k, rng);
    const y = randomVec(d, rng);
    const lambda = 0.1 + 0.1 * trial;
    for (const solve of [ista, fista]) {
      const r = solve(W, y, { lambda, tol: 1e-5, maxIter: 100000 });
      assert.ok(r.converged, `${solve.name} trial ${trial} did not converge (kkt ${r.kkt})`);
      // Checked independently of the solver's own bookkeeping.
      assert.ok(kktViolation(W, y, r.z, lambda) <= 1e-4);
      // At the optimum no small perturbation lowers the energy.
      const e = lassoEnergy(W, y, r.z, lambda);
      for (let p = 0; p < 20; p++) {
        const z2 = Float64Array.from(r.z, (v) => v + rng.normal(0, 1e-3));
        assert.ok(lassoEnergy(W, y, z2, lambda) >= e - 1e-9);
      }
    }
    const a = ista(W, y, { lambda, tol: 1e-7, maxIter: 200000 }).z;
    const b = fista(W, y, { lambda, tol: 1e-7, maxIter: 200000 }).z;
    for (let j = 0; j < k; j++) assert.ok(Math.abs(a[j]! - b[j]!) < 1e-4, `ISTA and FISTA codes differ at ${j}`);
  }
});

test('with an orthogonal dictionary the code is soft-threshold(W^T y)', () => {
  const rng = new Rng(2);
  const d = 16;
  // An orthogonal matrix: eigenvectors of a random symmetric matrix.
  const Q = symmetricEigen(gram(randomMat(d, d, rng))).vectors;
  const y = randomVec(d, rng);
  const lambda = 0.3;
  const wty = matTVec(Q, y);
  const expected = Float64Array.from(wty, (v) => softThreshold(v, lambda));
  assert.ok(expected.some((v) => v === 0) && expected.some((v) => v !== 0), 'problem should have both zero and non-zero codes');
  for (const solve of [ista, fista]) {
    const { z } = solve(Q, y, { lambda, tol: 1e-9 });
    for (let j = 0; j < d; j++) assert.ok(Math.abs(z[j]! - expected[j]!) < 1e-8, `${solve.name}: code ${j} is ${z[j]}, expected ${expected[j]}`);
  }
});

test('FISTA needs fewer iterations than ISTA to the same tolerance', () => {
  const rng = new Rng(3);
  let istaTotal = 0;
  let fistaTotal = 0;
  for (let trial = 0; trial < 5; trial++) {
    const W = randomDictionary(30, 60, rng);
    const { y } = sparseSignal(W, 5, rng);
    const opts = { lambda: 0.01, tol: 1e-6, maxIter: 200000 };
    const a = ista(W, y, opts);
    const b = fista(W, y, opts);
    assert.ok(a.converged && b.converged);
    assert.ok(b.iterations < a.iterations, `trial ${trial}: FISTA ${b.iterations} vs ISTA ${a.iterations}`);
    istaTotal += a.iterations;
    fistaTotal += b.iterations;
  }
  assert.ok(fistaTotal * 2 < istaTotal, `FISTA ${fistaTotal} iterations vs ISTA ${istaTotal}`);
});

test('a zero dictionary column never becomes active and the zero code is optimal for large lambda', () => {
  const rng = new Rng(4);
  const W = randomDictionary(10, 8, rng);
  const y = randomVec(10, rng);
  const big = Math.max(...matTVec(W, y).map(Math.abs)) * 1.01;
  const r = fista(W, y, { lambda: big, tol: 1e-9 });
  assert.ok(r.z.every((v) => v === 0));
  assert.ok(kktViolation(W, y, new Float64Array(8), big) === 0);
  assert.ok(kktViolation(W, y, new Float64Array(8), big * 0.5) > 0);
  assert.equal(mat(2, 2).data.length, 4);
});
