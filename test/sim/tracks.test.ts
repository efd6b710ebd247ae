import { test } from 'node:test';
import assert from 'node:assert/strict';
import { I80_MAP } from '../../sim/map.js';
import { forwardRollingMean, trackToPx } from '../../sim/tracks.js';
import { SCALE_PX_PER_M } from '../../data/layout.js';
import { makeTrack } from './helpers/traffic.js';

test('forward rolling mean averages each point with the next window - 1', () => {
  const v = [1, 2, 3, 4, 5, 6];
  assert.deepEqual(Array.from(forwardRollingMean(v, 0, 6, 3)), [2, 3, 4, 5]);
  assert.deepEqual(Array.from(forwardRollingMean(v, 1, 4, 2)), [2.5, 3.5, 4.5]);
  assert.equal(forwardRollingMean(v, 0, 2, 3).length, 0);
});

test('tracks convert to smoothed rear-centre pixels, on-screen rows only', () => {
  // 40 rows at 10 m/s starting 60 m into the area: the front reaches the screen (LocalY * SCALE
  // >= 470 px, 72.46 m) after 13 rows.
  const ys = Array.from({ length: 40 }, (_, i) => 60 + i);
  const xs = ys.map(() => 5.55);
  const t = trackToPx(I80_MAP, makeTrack(7, 500, ys, xs, 5, 2))!;
  const first = ys.findIndex((y) => y * SCALE_PX_PER_M - 470 >= 0);
  assert.equal(first, 13);
  assert.equal(t.firstFrame, 500 + first);
  assert.equal(t.m, 40 - first - 14);
  assert.ok(Math.abs(t.lengthPx - 5 * SCALE_PX_PER_M) < 1e-9);
  // Mean of 15 front positions starting at row `first`, minus offset and length.
  const meanY = ys.slice(first, first + 15).reduce((a, b) => a + b, 0) / 15;
  assert.ok(Math.abs(t.x[0]! - (meanY * SCALE_PX_PER_M - 470 - 5 * SCALE_PX_PER_M)) < 1e-3);
  assert.ok(Math.abs(t.y[0]! - (5.55 * SCALE_PX_PER_M + 36)) < 1e-3);
});

test('short tracks are dropped and a gap in frames keeps the longest run', () => {
  const ys = Array.from({ length: 15 }, (_, i) => 100 + i);
  assert.equal(trackToPx(I80_MAP, makeTrack(1, 0, ys, ys.map(() => 5))), null);
  const long = Array.from({ length: 60 }, (_, i) => 100 + i);
  const track = makeTrack(2, 0, long, long.map(() => 5));
  // Frames 0..19, then 30..69: the second run is longer.
  for (let i = 20; i < 60; i++) track.frames[i] = i + 10;
  const t = trackToPx(I80_MAP, track)!;
  assert.equal(t.firstFrame, 30);
  assert.equal(t.m, 40 - 14);
  // Unknown sizes fall back to 4.5 m x 1.8 m.
  const noSize = trackToPx(I80_MAP, makeTrack(3, 0, long, long.map(() => 5), NaN, NaN))!;
  assert.ok(Math.abs(noSize.lengthPx - 4.5 * SCALE_PX_PER_M) < 1e-9);
});
