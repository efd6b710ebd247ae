import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeNpy, encodeNpy } from '../../common/npy.js';

test('npy round trip keeps dtype, shape and values; header is 64-byte aligned', () => {
  for (const a of [new Uint8Array([1, 2, 3, 255, 0, 7]), new Float32Array([1.5, -2, 3e9, 0, 1, 2]), new Int32Array([1, -2, 3, 4, 5, 6]), new Int16Array([1, -2, 3, 4, 5, 6]), new Float64Array([Math.PI, 1, 2, 3, 4, 5])]) {
    const bytes = encodeNpy(a, [2, 3]);
    const headerLen = bytes[8]! | (bytes[9]! << 8);
    assert.equal((10 + headerLen) % 64, 0);
    const { data, shape } = decodeNpy(bytes);
    assert.deepEqual(shape, [2, 3]);
    assert.equal(data.constructor, a.constructor);
    assert.deepEqual(Array.from(data), Array.from(a));
  }
});

test('npy rejects bad magic, truncation and a wrong shape', () => {
  assert.throws(() => decodeNpy(new Uint8Array(20), 'x.npy'), /x\.npy: not a \.npy file/);
  const bytes = encodeNpy(new Float32Array(6), [6]);
  assert.throws(() => decodeNpy(bytes.subarray(0, bytes.length - 1), 'y.npy'), /y\.npy: truncated/);
  assert.throws(() => encodeNpy(new Float32Array(5), [2, 3]), /shape/);
});
