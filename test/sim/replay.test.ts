import { test } from 'node:test';
import assert from 'node:assert/strict';
import { I80_MAP } from '../../sim/map.js';
import { neighbourState } from '../../sim/neighbours.js';
import { ReplayData } from '../../sim/replay.js';
import { Scene } from '../../sim/scene.js';
import { makeTraffic } from './helpers/traffic.js';

test('replay indexes cars by frame and follows the smoothed log closely', () => {
  const store = makeTraffic({ perLane: 2, lanes: [1, 3] });
  const data = ReplayData.fromTrackStore(I80_MAP, store);
  assert.equal(data.cars.length, 4);
  for (const car of data.cars) {
    for (let k = 0; k < car.n; k += 7) {
      const f = car.firstFrame + k;
      assert.ok(Array.from(data.carsAt(f)).includes(data.indexOf(car.id)));
      assert.ok(Math.hypot(car.x[k]! - car.ghostX[k]!, car.y[k]! - car.ghostY[k]!) < 0.01);
    }
    assert.ok(!Array.from(data.carsAt(car.firstFrame + car.n)).includes(data.indexOf(car.id)));
  }
  const total = data.cars.reduce((s, c) => s + c.n, 0);
  let counted = 0;
  for (let f = data.firstFrame; f <= data.lastFrame; f++) counted += data.carsAt(f).length;
  assert.equal(counted, total);
});

test('the symbolic state lists the nearest neighbours per lane, repeating the ego where missing', () => {
  const sc = new Scene();
  const car = (id: number, x: number, lane: number) =>
    sc.add(id, { xPx: x, yPx: 36 + 24 * lane + 12, dirX: 1, dirY: 0, speedPxPerS: id }, 30, 12);
  const ego = car(0, 1000, 2);
  car(1, 900, 1); // left, behind
  car(2, 800, 1); // left, further behind
  car(3, 1010, 1); // left, ahead (front beyond the ego's front)
  car(4, 1100, 2); // current, ahead
  car(5, 1200, 2); // current, further ahead
  car(6, 1000, 4); // two lanes right: not a neighbour
  const states = new Float32Array(28);
  const masks = new Uint8Array(7);
  neighbourState(I80_MAP, sc, ego, states, 0, masks, 0);
  assert.deepEqual(Array.from(masks), [1, 1, 1, 0, 1, 0, 0]);
  const row = (i: number) => Array.from(states.subarray(i * 4, i * 4 + 4));
  assert.deepEqual(row(1), [900, 72, 1, 0]);
  assert.deepEqual(row(2), [1010, 72, 3, 0]);
  assert.deepEqual(row(4), [1100, 96, 4, 0]);
  assert.deepEqual(row(3), row(0));
  assert.deepEqual(row(5), row(0));
});

test('the ramp is a right neighbour of the last lane only once it has joined', () => {
  const at = (x: number) => {
    const sc = new Scene();
    const ego = sc.add(0, { xPx: x, yPx: 36 + 24 * 5 + 12, dirX: 1, dirY: 0, speedPxPerS: 0 }, 30, 12);
    sc.add(1, { xPx: x + 50, yPx: 36 + 24 * 6 + 10, dirX: 1, dirY: 0, speedPxPerS: 0 }, 30, 12);
    const m = new Uint8Array(7);
    neighbourState(I80_MAP, sc, ego, new Float32Array(28), 0, m, 0);
    return m[6];
  };
  assert.equal(at(200), 0); // front at 230 < 18 lane widths (432 px)
  assert.equal(at(600), 1);
});
