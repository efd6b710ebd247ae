import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readTrackStore, writeTrackStore } from '../../data/track-store.js';
import type { TrackStore, VehicleTrack } from '../../data/tracks.js';
import { UserError } from '../../common/errors.js';
import { tempDir } from '../helpers/temp.js';

function track(id: number, frames: number[], lengthM = 4.5): VehicleTrack {
  const n = frames.length;
  return {
    vehicleId: id,
    frames: Int32Array.from(frames),
    localXM: Float32Array.from(frames, (_f, i) => 1.83 + i * 0.01),
    localYM: Float32Array.from(frames, (_f, i) => 10 + i),
    speedMps: Float32Array.from(frames, () => 10),
    accMps2: new Float32Array(n).fill(NaN),
    lane: Int16Array.from(frames, () => 1),
    lengthM,
    widthM: NaN,
    vClass: 2,
  };
}

function store(): TrackStore {
  return {
    manifest: { format: 'ppuu-tracks', version: 1, map: 'i80', slot: '0400-0415', sources: [{ file: 'x.txt', format: 'ngsim-txt' }], summary: { rowsRead: 5 }, writtenBy: 'test', vehicles: [] },
    vehicles: [track(7, [3, 4, 5]), track(2, [10, 11])],
  };
}

test('track store round-trips, NaN sizes and NaN columns included', async () => {
  const dir = tempDir('ppuu-ts-');
  try {
    const out = join(dir, 'store');
    await writeTrackStore(out, store());
    const back = readTrackStore(out);
    assert.equal(back.vehicles.length, 2);
    assert.deepEqual(back.manifest.vehicles.map((v) => [v.vehicleId, v.offset, v.count]), [[7, 0, 3], [2, 3, 2]]);
    assert.deepEqual([...back.vehicles[1]!.frames], [10, 11]);
    assert.ok(Number.isNaN(back.vehicles[0]!.widthM));
    assert.equal(back.vehicles[0]!.lengthM, 4.5);
    assert.ok(Number.isNaN(back.vehicles[0]!.accMps2[0]!));
    assert.equal(back.vehicles[0]!.localYM[2], 12);
    assert.equal(back.manifest.slot, '0400-0415');
    // No temporary folders left next to the store.
    assert.deepEqual(readdirSync(dir), ['store']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeTrackStore refuses frames that do not increase, leaving nothing behind', async () => {
  const dir = tempDir('ppuu-ts-');
  try {
    const s = store();
    s.vehicles.push(track(9, [5, 5]));
    await assert.rejects(writeTrackStore(join(dir, 'store'), s), /not strictly increasing/);
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readTrackStore names the file and field of a bad manifest or column', async () => {
  const dir = tempDir('ppuu-ts-');
  try {
    const out = join(dir, 'store');
    await writeTrackStore(out, store());
    const mfile = join(out, 'tracks.json');
    const good = readFileSync(mfile, 'utf8');
    const m = JSON.parse(good);
    m.vehicles[1].count = 'two';
    writeFileSync(mfile, JSON.stringify(m));
    assert.throws(() => readTrackStore(out), (e: unknown) => e instanceof UserError && /tracks\.json: field vehicles\.1\.count: must be integer/.test(e.message));
    m.vehicles[1].count = 50;
    writeFileSync(mfile, JSON.stringify(m));
    assert.throws(() => readTrackStore(out), /field vehicles\.1\.count: rows \[3, 53\) exceed/);
    delete m.map;
    writeFileSync(mfile, JSON.stringify(m));
    assert.throws(() => readTrackStore(out), /field map: is required/);
    writeFileSync(mfile, good);
    writeFileSync(join(out, 'lane.npy'), 'garbage');
    assert.throws(() => readTrackStore(out), /lane\.npy: not a \.npy file/);
    assert.throws(() => readTrackStore(join(dir, 'nope')), /not a track store/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
