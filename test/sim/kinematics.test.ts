import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actionTowards, clipAction, extractTrajectory, initialDirection, maxSteer, stepCar, type CarState } from '../../sim/kinematics.js';

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

test('on a diagonal heading, steering adds b v dt ortho(dir) = (d_y, -d_x) to the direction', () => {
  const s = car({ dirX: 0.6, dirY: 0.8 });
  stepCar(s, 0, 0.002);
  // k = 0.002 * 100 * 0.1 = 0.02: (0.6 + 0.8 k, 0.8 - 0.6 k), normalised.
  const nx = 0.6 + 0.8 * 0.02;
  const ny = 0.8 - 0.6 * 0.02;
  const n = Math.hypot(nx, ny);
  assert.ok(Math.abs(s.dirX - nx / n) < 1e-12 && Math.abs(s.dirY - ny / n) < 1e-12, `${s.dirX}, ${s.dirY}`);
  assert.ok(Math.abs(s.xPx - 6) < 1e-12 && Math.abs(s.yPx - 8) < 1e-12);
});

test('actionTowards gives the action whose step reaches the target speed and (to first order) heading', () => {
  for (const [dx, dy] of [[0.6, 0.8], [-0.28, 0.96], [1, 0]]) {
    const s = car({ dirX: dx, dirY: dy, speedPxPerS: 80 });
    // Target: 0.02 rad to the left (towards ortho), 5 px/s faster.
    const c = Math.cos(0.02);
    const sn = Math.sin(0.02);
    const tx = dx * c + dy * sn;
    const ty = dy * c - dx * sn;
    const [a, b] = actionTowards(s, 85, tx, ty);
    assert.ok(Math.abs(a - 50) < 1e-9, `a ${a}`);
    stepCar(s, a, b);
    assert.ok(Math.abs(s.speedPxPerS - 85) < 1e-9);
    assert.ok(Math.abs(s.dirX - tx) < 1e-3 && Math.abs(s.dirY - ty) < 1e-3, `heading (${s.dirX}, ${s.dirY}) vs (${tx}, ${ty})`);
    assert.ok(b > 0, 'a left turn steers with b > 0');
  }
});

test('initialDirection: the first displacement of at least 0.99 px, else the longest, else +x', () => {
  // Small steps first (0.5 px down), then a 2 px step right: the first long one wins.
  assert.deepEqual(initialDirection([0, 0, 2, 2.2], [0, 0.5, 0.5, 0.5], 4), [1, 0]);
  // All short: the longest (0.6 px along -y, third step) wins over the first (0.3 px along +x).
  const [x, y] = initialDirection([0, 0.3, 0.3, 0.3], [0, 0, 0, -0.6], 4);
  assert.ok(Math.abs(x) < 1e-12 && Math.abs(y + 1) < 1e-12, `${x}, ${y}`);
  // A long step after a longer short one still wins (3-4-5 triangle), and only m points are read.
  const [x2, y2] = initialDirection([0, 0.9, 3.9, 100], [0, 0, 4, 100], 3);
  assert.ok(Math.abs(x2 - 0.6) < 1e-12 && Math.abs(y2 - 0.8) < 1e-12, `${x2}, ${y2}`);
  // The first long step (1 px along +y) wins over a later, longer one (3 px along +x).
  assert.deepEqual(initialDirection([0, 0, 3], [0, 1, 1], 3), [0, 1]);
  // A long first step counts too.
  assert.deepEqual(initialDirection([0, 0], [0, 2], 2), [0, 1]);
  assert.deepEqual(initialDirection([5, 5, 5], [1, 1, 1], 3), [1, 0], 'no motion');
  assert.deepEqual(initialDirection([5, 9], [1, 1], 1), [1, 0], 'one point');
});

test('a stop in the log (two equal points) keeps the heading: no steering, finite actions', () => {
  const xs = [0, 5, 10, 10, 10, 15, 20, 25];
  const ys = [0, 0, 0, 0, 0, 0, 0, 0];
  const t = extractTrajectory(xs, ys, xs.length, 28);
  assert.equal(t.n, xs.length - 2);
  for (let k = 0; k < t.n; k++) {
    assert.ok(Number.isFinite(t.a[k]!) && Number.isFinite(t.b[k]!), `step ${k}`);
    assert.equal(t.b[k], 0, `step ${k}: no steering on a straight log`);
    assert.equal(t.dirX[k], 1);
  }
  // It brakes at the stop (at most 40 px/s^2: 50 -> 46 px/s).
  assert.ok(Math.abs(t.speed[2]! - 46) < 1e-9, `speed ${t.speed[2]}`);
  // After a stop the log turns right (+y): the heading follows it.
  const turn = extractTrajectory([0, 2, 4, 4, 4, 4, 4, 4, 4], [0, 0, 0, 0, 2, 4, 6, 8, 10], 9, 28);
  assert.ok(turn.dirY[turn.n - 1]! > 0.01 && turn.b.some((b) => b < 0), `heading (${turn.dirX[turn.n - 1]}, ${turn.dirY[turn.n - 1]})`);
});
