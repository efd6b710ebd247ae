import { test } from 'node:test';
import assert from 'node:assert/strict';
import { idmAccMps2, idmDesiredGapM, idmFreeAccMps2, type IdmParams } from '../../data/synth/idm.js';
import { mobilIncentive, mobilSafe, type MobilInput, type MobilParams } from '../../data/synth/mobil.js';

const close = (a: number, b: number, what: string, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

// a = 1, b = 2: sqrt(a b) = sqrt 2.
const P: IdmParams = { v0Mps: 30, timeGapS: 1.5, accMps2: 1, decMps2: 2, jamGapM: 2 };

test('IDM desired gap: s0 + v T + v dv / (2 sqrt(a b)), never below s0', () => {
  close(idmDesiredGapM(0, 0, P), 2, 'standstill');
  close(idmDesiredGapM(20, 0, P), 2 + 30, 'steady at 20 m/s');
  close(idmDesiredGapM(20, 4, P), 2 + 30 + 80 / (2 * Math.SQRT2), 'closing at 4 m/s');
  // Opening fast enough that v T + v dv / (2 sqrt(a b)) < 0: the max(0, .) keeps s0.
  close(idmDesiredGapM(10, -30, P), 2, 'opening fast');
});

test('IDM free road: a (1 - (v / v0)^4) below the desired speed, -b (1 - (v0 / v)^4) above', () => {
  close(idmFreeAccMps2(0, 30, P), 1, 'standstill');
  close(idmFreeAccMps2(15, 30, P), 1 - 1 / 16, 'half the desired speed');
  close(idmFreeAccMps2(30, 30, P), 0, 'at the desired speed');
  close(idmFreeAccMps2(60, 30, P), -2 * (1 - 1 / 16), 'twice the desired speed');
  assert.ok(idmFreeAccMps2(1e6, 30, P) >= -2, 'braking bounded by b');
});

test('IDM behind a leader: free term minus a (s* / s)^2; free road for an infinite gap', () => {
  close(idmAccMps2(20, 30, Infinity, 5, P), 1 - (20 / 30) ** 4, 'no leader');
  // v 20, dv 0: s* = 32; gap 64: interaction a (1/2)^2 = 0.25.
  close(idmAccMps2(20, 30, 64, 0, P), 1 - (20 / 30) ** 4 - 0.25, 'gap twice the desired');
  close(idmAccMps2(20, 30, 32, 0, P), 1 - (20 / 30) ** 4 - 1, 'gap equal to the desired');
  // Closing in makes it brake harder; a gap of 0 counts as 5 cm.
  assert.ok(idmAccMps2(20, 30, 32, 3, P) < idmAccMps2(20, 30, 32, 0, P));
  close(idmAccMps2(0, 30, 0, 0, P), 1 - (2 / 0.05) ** 2, 'touching at rest');
  // At v0 on the free road and in equilibrium at the steady gap: the only term is the interaction.
  close(idmAccMps2(30, 30, 2 + 45, 0, P), -1, 'at v0, gap = s*');
});

const M: MobilParams = { politeness: 0.5, thresholdMps2: 0.1, safeDecMps2: 4, minGapM: 2 };
const base: MobilInput = {
  selfNow: -1, selfAfter: 0.5, newFollowerNow: 0.2, newFollowerAfter: -0.6, oldFollowerNow: -0.4, oldFollowerAfter: 0.4,
  gapAheadM: 20, gapBehindM: 15, biasMps2: 0.05,
};

test('MOBIL incentive: own gain + politeness (new and old followers\' gains) - threshold + bias', () => {
  // 1.5 + 0.5 (-0.8 + 0.8) - 0.1 + 0.05
  close(mobilIncentive(base, M), 1.45, 'incentive');
  close(mobilIncentive({ ...base, oldFollowerNow: 0, oldFollowerAfter: 0 }, M), 1.5 - 0.4 - 0.1 + 0.05, 'only the new follower loses');
  // A missing follower (NaN) contributes nothing.
  close(mobilIncentive({ ...base, newFollowerNow: NaN, newFollowerAfter: NaN, oldFollowerNow: NaN, oldFollowerAfter: NaN }, M), 1.5 - 0.1 + 0.05, 'no followers');
  close(mobilIncentive(base, { ...M, politeness: 0 }), 1.45, 'the followers cancel out here');
  close(mobilIncentive({ ...base, newFollowerAfter: -2.2 }, { ...M, politeness: 1 }), 1.5 + (-2.4 + 0.8) - 0.1 + 0.05, 'polite driver');
});

test('MOBIL safety: both gaps at least minGap, no one braking harder than safeDec', () => {
  assert.equal(mobilSafe(base, M), true);
  assert.equal(mobilSafe({ ...base, gapAheadM: 1.9 }, M), false, 'gap ahead');
  assert.equal(mobilSafe({ ...base, gapBehindM: 1.9 }, M), false, 'gap behind');
  assert.equal(mobilSafe({ ...base, gapAheadM: 2, gapBehindM: 2 }, M), true, 'gaps exactly at the minimum');
  assert.equal(mobilSafe({ ...base, newFollowerAfter: -4.01 }, M), false, 'new follower brakes too hard');
  assert.equal(mobilSafe({ ...base, newFollowerAfter: -4 }, M), true, 'at the limit');
  assert.equal(mobilSafe({ ...base, selfAfter: -4.5 }, M), false, 'oneself brakes too hard');
  assert.equal(mobilSafe({ ...base, selfAfter: -4 }, M), true, 'oneself at the limit');
  assert.equal(mobilSafe({ ...base, newFollowerNow: NaN, newFollowerAfter: NaN }, M), true, 'no new follower');
});
