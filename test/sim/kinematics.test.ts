import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clipAction, extractTrajectory, maxSteer, stepCar, type CarState } from '../../sim/kinematics.js';

const car = (over: Partial<CarState> = {}): CarState => ({ xPx: 0, yPx: 0, dirX: 1, dirY: 0, speedPxPerS: 100, ...over });

test('a straight step moves speed * dt and changes speed by a * dt', () => {
  const s = car();
  stepCar(s, 10, 0);
  assert.equal(s.xPx, 10);
  assert.equal(s.yPx, 0);
  assert.equal(s.speedPxPerS, 101);
  for (let i = 0; i < 9; i++) stepCar(s, 0, 0);
  assert.ok(Math.abs(s.xPx - (10 + 9 * 10.1)) < 1e-9);
});

test('positive steering turns left (towards smaller y) by about b * speed * dt radians', () => {
  const s = car();
  stepCar(s, 0, 0.001);
  // dir + ortho * k with ortho = (0, -1), k = 0.001 * 100 * 0.1 = 0.01
  assert.ok(Math.abs(s.dirY - -0.01 / Math.hypot(1, 0.01)) < 1e-12);
  assert.ok(Math.abs(Math.hypot(s.dirX, s.dirY) - 1) < 1e-12);
  stepCar(s, 0, 0);
  assert.ok(s.yPx < 0);
});

test('actions are clipped to |a| <= 40 and |b| <= 0.01 min((25 / L)^2, 1)', () => {
  assert.deepEqual(clipAction(100, 0, 30), [40, 0]);
  assert.deepEqual(clipAction(-55, 0, 30), [-40, 0]);
  assert.equal(maxSteer(20), 0.01);
  assert.equal(maxSteer(50), 0.0025); // 0.01 * (25 / 50)^2
  assert.deepEqual(clipAction(0, -1, 50), [0, -0.0025]);
  assert.deepEqual(clipAction(3, 0.001, 50), [3, 0.001]);
});

/** A lane change with braking: x(t), y(t) sampled at 10 Hz, px. */
function curve(n: number): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  let px = 100;
  for (let i = 0; i < n; i++) {
    const t = i * 0.1;
    const v = 90 - 2 * t; // px/s, slowing down
    px += v * 0.1;
    x.push(px);
    y.push(100 + 12 * Math.tanh((t - n * 0.05) / 2));
  }
  return { x, y };
}

test('extracting actions from a smooth curve and integrating them reproduces it', () => {
  const { x, y } = curve(200);
  const e = extractTrajectory(x, y, x.length, 30);
  assert.equal(e.n, 198);
  let maxDev = 0;
  for (let k = 0; k < e.n; k++) maxDev = Math.max(maxDev, Math.hypot(e.x[k]! - x[k]!, e.y[k]! - y[k]!));
  assert.ok(maxDev < 0.05, `max deviation ${maxDev} px`);
  // The integration really is the kinematic model driven by the stored actions.
  const s: CarState = { xPx: e.x[0]!, yPx: e.y[0]!, dirX: e.dirX[0]!, dirY: e.dirY[0]!, speedPxPerS: e.speed[0]! };
  for (let k = 0; k < e.n - 1; k++) stepCar(s, e.a[k]!, e.b[k]!);
  assert.ok(Math.abs(s.xPx - e.x[e.n - 1]!) < 1e-9 && Math.abs(s.yPx - e.y[e.n - 1]!) < 1e-9);
  // Braking at 2 px/s^2 is recovered.
  assert.ok(Math.abs(e.a[100]! - -2) < 0.05, `a = ${e.a[100]}`);
  for (let k = 0; k < e.n; k++) assert.ok(Math.abs(e.b[k]!) <= maxSteer(30) + 1e-15);
});

test('a turn sharper than the steering limit saturates b and deviates from the log', () => {
  // Quarter circle of radius 40 px at 100 px/s: curvature 1/40 = 0.025 > 0.01.
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < 40; i++) {
    const th = (i * 10) / 40; // rad travelled: speed * dt / radius per step
    x.push(40 * Math.sin(th));
    y.push(40 - 40 * Math.cos(th));
  }
  const e = extractTrajectory(x, y, x.length, 20);
  assert.ok(e.b.some((b) => Math.abs(Math.abs(b) - 0.01) < 1e-15), 'b reaches its limit');
  let maxDev = 0;
  for (let k = 0; k < e.n; k++) maxDev = Math.max(maxDev, Math.hypot(e.x[k]! - x[k]!, e.y[k]! - y[k]!));
  assert.ok(maxDev > 5);
});
