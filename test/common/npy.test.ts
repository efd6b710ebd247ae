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

/** The bytes numpy's np.save writes (format 1.0): magic, version, header length, padded header dict, data. */
function numpyBytes(dict: string, dataHex: string): Uint8Array {
  // numpy pads the header with spaces so that magic + version + length + header is 128 bytes here, ending in '\n'.
  const header = dict.padEnd(117, ' ') + '\n';
  const data = Uint8Array.from(dataHex.match(/../g)!.map((h) => parseInt(h, 16)));
  return Uint8Array.from([0x93, ...Buffer.from('NUMPY'), 1, 0, 118, 0, ...Buffer.from(header, 'latin1'), ...data]);
}

test('files as numpy writes them decode to the right dtype, shape and values, and the encoder writes the same bytes', () => {
  const cases: [string, string, number[], number[], Function][] = [
    // np.save(f, np.array([[1.5, -2, 0.25], [0, 1, 2]], dtype='<f4'))
    ["{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", '0000c03f000000c00000803e000000000000803f00000040', [2, 3], [1.5, -2, 0.25, 0, 1, 2], Float32Array],
    // np.save(f, np.array([1, 2, 255], dtype=np.uint8))
    ["{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", '0102ff', [3], [1, 2, 255], Uint8Array],
    // np.save(f, np.array([[1, -2]], dtype='<i2'))
    ["{'descr': '<i2', 'fortran_order': False, 'shape': (1, 2), }", '0100feff', [1, 2], [1, -2], Int16Array],
    // np.save(f, np.array([-1, 70000], dtype='<i4'))
    ["{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", 'ffffffff70110100', [2], [-1, 70000], Int32Array],
    // np.save(f, np.array([np.pi]))
    ["{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }", '182d4454fb210940', [1], [Math.PI], Float64Array],
  ];
  for (const [dict, hex, shape, values, type] of cases) {
    const bytes = numpyBytes(dict, hex);
    assert.equal(bytes.length, 128 + hex.length / 2);
    const { data, shape: got } = decodeNpy(bytes, 'np.npy');
    assert.equal(data.constructor, type, dict);
    assert.deepEqual(got, shape, dict);
    assert.deepEqual(Array.from(data), values, dict);
    assert.deepEqual(Array.from(encodeNpy(data, shape)), Array.from(bytes), `encoder: ${dict}`);
  }
});
