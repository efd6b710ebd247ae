import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage } from '../../renderer/protocol/codec.js';
import { Playback } from '../../renderer/web/playback.js';
import { FrameCache } from '../../renderer/web/frame-cache.js';
import type { FrameChunk, ViewerFrame } from '../../renderer/protocol/types.js';

test('codec: typed arrays of every kind survive, aligned, inside nested JSON', () => {
  const value = {
    a: new Uint8Array([1, 2, 3]),
    nested: { f: new Float32Array([1.5, -2.25, 3e9]), list: [new Int32Array([-7, 8]), new Float64Array([Math.PI]), 'x', null] },
    i16: new Int16Array([-3, 4]),
    u16: new Uint16Array([65535]),
    i8: new Int8Array([-128]),
    u32: new Uint32Array([4294967295]),
    // A view into the middle of a larger buffer.
    view: new Float32Array(new Float32Array([9, 8, 7, 6]).buffer, 4, 2),
    n: 3,
    s: 'text ü',
  };
  const bytes = encodeMessage(value);
  const out = decodeMessage<typeof value>(bytes);
  assert.deepEqual(Array.from(out.a), [1, 2, 3]);
  assert.ok(out.nested.f instanceof Float32Array);
  assert.deepEqual(Array.from(out.nested.f), [1.5, -2.25, 3e9]);
  assert.deepEqual(Array.from(out.nested.list[0] as Int32Array), [-7, 8]);
  assert.equal((out.nested.list[1] as Float64Array)[0], Math.PI);
  assert.deepEqual(out.nested.list.slice(2), ['x', null]);
  assert.deepEqual(Array.from(out.i16), [-3, 4]);
  assert.equal(out.u16[0], 65535);
  assert.equal(out.i8[0], -128);
  assert.equal(out.u32[0], 4294967295);
  assert.deepEqual(Array.from(out.view), [8, 7]);
  assert.equal(out.n, 3);
  assert.equal(out.s, 'text ü');
  // Decoding from an unaligned copy works too.
  const shifted = new Uint8Array(bytes.length + 3);
  shifted.set(bytes, 3);
  assert.deepEqual(Array.from(decodeMessage<typeof value>(shifted.subarray(3)).nested.f), [1.5, -2.25, 3e9]);
});

test('codec: bad magic and truncation are errors', () => {
  const bytes = encodeMessage({ a: new Float32Array(10) });
  assert.throws(() => decodeMessage(new Uint8Array(16)), /bad magic/);
  assert.throws(() => decodeMessage(bytes.subarray(0, 4)), /truncated/);
  assert.throws(() => decodeMessage(bytes.subarray(0, bytes.length - 8)), /truncated data/);
});

test('playback: time advances whole frames at the chosen speed and stops at the end', () => {
  const p = new Playback(0.1);
  p.limit = 100;
  p.final = true;
  assert.equal(p.tick(1), false, 'paused: no change');
  p.play();
  p.tick(0.25);
  assert.equal(p.index, 2);
  p.tick(0.05); // 0.3 s in total
  assert.equal(p.index, 3);
  p.speed = 4;
  p.tick(0.1);
  assert.equal(p.index, 7);
  p.tick(100); // a long stall counts as 0.5 s at most
  assert.equal(p.index, 27);
  p.seek(98);
  p.tick(0.5);
  assert.equal(p.index, 99);
  assert.equal(p.playing, false, 'stops at the last frame');
  p.play();
  assert.equal(p.index, 0, 'play at the end starts over');
});

test('playback: waits where loaded frames end, step pauses and moves exactly n frames', () => {
  const p = new Playback(0.1);
  p.limit = 100;
  p.play();
  p.tick(0.45, 3);
  assert.equal(p.index, 2, 'buffering at the first missing frame');
  assert.equal(p.playing, true);
  p.tick(0.2, 10);
  assert.equal(p.index, 4);
  p.step();
  assert.equal(p.playing, false);
  assert.equal(p.index, 5);
  p.step(-2);
  assert.equal(p.index, 3);
  p.tick(5);
  assert.equal(p.index, 3, 'paused stays put');
  assert.equal(p.seek(1000), 99);
  assert.equal(p.seek(-5), 0);
});

function frame(i: number): ViewerFrame {
  const e = { id: new Int32Array(0), xPx: new Float32Array(0), yPx: new Float32Array(0), dirX: new Float32Array(0), dirY: new Float32Array(0), lengthPx: new Float32Array(0), widthPx: new Float32Array(0), flags: new Uint8Array(0) };
  return { index: i, frameId: i, timeS: i / 10, status: '', cars: e, ghosts: e, ego: null, observation: null, imagined: null };
}

test('frame cache: fetches chunks once, learns the episode length, keeps errors', async () => {
  const calls: Array<[number, number]> = [];
  const length = 150;
  const api = {
    frames: async (_id: string, from: number, count: number): Promise<FrameChunk> => {
      calls.push([from, count]);
      const frames = [];
      for (let i = from; i < Math.min(length, from + count); i++) frames.push(frame(i));
      const done = from + count >= length;
      return { sessionId: 's', from, frames, total: done ? length : null, ended: done ? { atFrame: length - 1, reason: 'arrived' } : null };
    },
  };
  const c = new FrameCache(api, 's', 1000, 64);
  assert.equal(c.limit, 1000);
  assert.equal((await c.ensure(10))!.index, 10);
  assert.deepEqual(calls, [[10, 64]]);
  assert.equal(c.loaded, 0, 'frames 0..9 not fetched yet');
  assert.equal(c.loadedUntil(10), 74);
  await c.ensure(0);
  assert.deepEqual(calls.at(-1), [0, 64]);
  assert.equal(c.loaded, 74);
  await c.ensure(140);
  assert.equal(c.total, 150);
  assert.equal(c.limit, 150);
  assert.equal(c.ended!.reason, 'arrived');
  assert.equal(await c.ensure(400), undefined, 'past the end');
  const n = calls.length;
  await c.ensure(20);
  assert.equal(calls.length, n, 'no refetch of present frames');

  const failing = new FrameCache({ frames: async () => Promise.reject(new Error('server gone')) }, 's', 10);
  assert.equal(await failing.ensure(0), undefined);
  assert.equal(failing.error, 'server gone');
});
