import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { importTrajectories } from '../../data/import/importer.js';
import { readTrackStore } from '../../data/track-store.js';
import { generateSynthetic, simulateSlot } from '../../data/synth/generate.js';
import { findOverlaps } from '../../data/synth/overlap.js';
import { MAINLINE_RIGHT_EDGE_M, rampLowerEdgeM, STUDY_LENGTH_M } from '../../data/synth/i80-road.js';
import { realismReport } from '../../data/realism.js';
import type { TrackStore } from '../../data/tracks.js';
import { tempDir } from '../helpers/temp.js';

const NGSIM = resolve(process.cwd(), '../shared/data/ngsim');
const skipSamples = existsSync(NGSIM) ? false : `real NGSIM samples not found at ${NGSIM}`;
const FT = 0.3048;

const tmp = () => tempDir('ppuu-synth-');

test('a generated slot round-trips through the importer, with consistent neighbours and no overlaps', async () => {
  const dir = tmp();
  try {
    const out = join(dir, 'synth');
    const summary = await generateSynthetic(out, { slots: ['0515-0530'], minutes: 1, seed: 11, warmupS: 90 });
    const s = summary.slots[0]!;
    assert.equal(s.frames, 600);
    assert.ok(s.vehicles > 100, `only ${s.vehicles} vehicles`);
    const txt = join(out, 'trajectories-0515-0530.txt');
    // Synthetic ids mean nothing to the real slot's black list: import them all.
    const { summary: imp, store } = await importTrajectories([txt], { strict: true, blackList: false });
    assert.equal(imp.rowsRead, s.rows);
    assert.equal(imp.rowsKept, s.rows);
    assert.equal(imp.vehicles, s.vehicles);
    assert.equal(imp.map, 'i80');
    assert.equal(imp.gaps.vehicles, 0);
    assert.ok(imp.lanes.every((l) => l >= 1 && l <= 7) && imp.lanes.includes(1) && imp.lanes.includes(6), `lanes ${imp.lanes}`);
    // The track store written next to it holds the same tracks.
    const written = readTrackStore(join(out, '0515-0530'));
    assert.equal(written.vehicles.length, store.vehicles.length);
    assert.deepEqual([...written.vehicles[5]!.localYM], [...store.vehicles[5]!.localYM]);

    assert.equal(findOverlaps(store).count, 0);

    // Neighbour columns: Preceding is the nearest vehicle ahead with the same Lane_ID, Following
    // the reverse; Space_Headway is the front-to-front distance; Time_Headway = headway / speed.
    const rows = new Map<string, number[]>();
    const lines = readFileSync(txt, 'utf8').trim().split('\n');
    for (const line of lines) {
      const c = line.trim().split(/\s+/).map(Number);
      assert.equal(c.length, 18);
      rows.set(`${c[0]}:${c[1]}`, c);
    }
    let checked = 0;
    for (const c of rows.values()) {
      const [id, frame, total, , x, y, , , len, wid, , v, , lane, prec, foll, sh, th] = c as number[];
      assert.ok(y! >= 0 && y! * FT <= STUDY_LENGTH_M + 1e-3, `vehicle ${id} recorded outside the study area at ${y} ft`);
      assert.ok(total! > 0, `Total_Frames ${total}`);
      if (prec) {
        const p = rows.get(`${prec}:${frame}`)!;
        assert.ok(p, `preceding ${prec} of ${id} missing at frame ${frame}`);
        assert.equal(p[13], lane);
        assert.equal(p[15], id);
        assert.ok(Math.abs(p[5]! - y! - sh!) < 0.02, `space headway ${sh} vs ${p[5]! - y!}`);
        // Both are rounded to 0.01 in the file: compare where that rounding is small.
        if (v! > 1 && th! < 9999) assert.ok(Math.abs(th! - sh! / v!) < 0.011 + (0.006 * sh!) / (v! * v!), `time headway ${th} vs ${sh! / v!}`);
        if (v! === 0) assert.equal(th, 9999.99);
        checked++;
      } else assert.deepEqual([sh, th], [0, 0]);
      if (foll) assert.equal(rows.get(`${foll}:${frame}`)![14], id);
      // Ramp vehicles stay inside the ramp's lower edge (the simulator drops cars below it) and
      // right of lane 6 until they merge.
      if (lane === 7) {
        const xm = x! * FT;
        const half = (wid! * FT) / 2;
        assert.ok(xm + half <= rampLowerEdgeM(y! * FT) + 0.01, `ramp vehicle ${id} below the ramp edge at ${y} ft`);
        assert.ok(xm >= MAINLINE_RIGHT_EDGE_M - 0.01, `ramp vehicle ${id} at ${xm} m`);
      }
      assert.ok(len! > 0, `length ${len}`);
    }
    assert.ok(checked > 1000, `only ${checked} rows with a preceding vehicle`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the same seed gives byte-identical files; another seed does not', () => {
  const dir = tmp();
  try {
    const hash = (name: string, seed: number) => {
      const path = join(dir, name);
      simulateSlot('0400-0415', path, { minutes: 0.5, seed, warmupS: 30 });
      return createHash('sha256').update(readFileSync(path)).digest('hex');
    };
    const a = hash('a.txt', 5);
    assert.equal(hash('b.txt', 5), a);
    assert.notEqual(hash('c.txt', 6), a);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the overlap check finds two overlapping vehicles', () => {
  const track = (id: number, y: number, x: number) => ({
    vehicleId: id, frames: Int32Array.from([1, 2]), localXM: Float32Array.from([x, x]), localYM: Float32Array.from([y, y + 1]),
    speedMps: new Float32Array(2), accMps2: new Float32Array(2), lane: Int16Array.from([1, 1]), lengthM: 4.5, widthM: 1.8, vClass: 2,
  });
  const store: TrackStore = {
    manifest: { format: 'ppuu-tracks', version: 1, map: 'i80', slot: null, sources: [], summary: {}, writtenBy: 't', vehicles: [] },
    vehicles: [track(1, 10, 1.8), track(2, 13, 1.8), track(3, 13, 5.5)],
  };
  const r = findOverlaps(store);
  assert.equal(r.count, 2);
  assert.deepEqual([r.overlaps[0]!.a, r.overlaps[0]!.b], [1, 2]);
  store.vehicles[1]!.localXM.fill(5.5 + 1.9); // now beside, in the next lane
  store.vehicles[1]!.localYM.set([30, 31]);
  assert.equal(findOverlaps(store).count, 0);
});

test('synthetic 0400-0415 is close to the real I-80 4:00-4:15 sample (4 minutes, seed 7)', { skip: skipSamples }, async () => {
  const dir = tmp();
  try {
    simulateSlot('0400-0415', join(dir, 'trajectories-0400-0415.txt'), { minutes: 4, seed: 7 });
    const r = await realismReport({ real: join(NGSIM, 'i80-carfollowing-0400-0415.csv'), mapping: 'data/mappings/i80-carfollowing.json', synthetic: dir });
    assert.equal(r.real.episodes, 71);
    assert.ok(r.synthetic.episodes > 100);
    for (const [name, m] of Object.entries(r.metrics)) assert.ok(Math.abs(m.relErr) < 0.25, `${name}: real ${m.real}, synthetic ${m.synthetic}`);
    assert.ok(Math.abs(r.metrics.speedP50.real - 8.54) < 0.01);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI: data synth and data realism print their JSON documents', { skip: skipSamples }, () => {
  const dir = tmp();
  try {
    const out = join(dir, 'syn');
    const ppuu = (args: string[]) => spawnSync(process.execPath, ['bin/ppuu.js', ...args], { encoding: 'utf8' });
    const r = ppuu(['data', 'synth', '--map', 'i80', '--minutes', '0.5', '--warmup', '60', '--seed', '2', '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    assert.equal(s.slots[0].slot, '0400-0415');
    assert.ok(existsSync(join(out, 'trajectories-0400-0415.txt')) && existsSync(join(out, '0400-0415', 'tracks.json')));
    const q = ppuu(['data', 'realism', '--real', join(NGSIM, 'i80-carfollowing-0400-0415.csv'), '--mapping', 'data/mappings/i80-carfollowing.json', '--synthetic', out, '--min-follow', '10', '--json']);
    assert.equal(q.status, 0, q.stderr);
    const rep = JSON.parse(q.stdout);
    for (const k of ['speedP10', 'speedP50', 'speedP90', 'spaceHeadwayP50', 'timeHeadwayP90', 'accStd']) {
      assert.equal(typeof rep.metrics[k].real, 'number');
      assert.equal(typeof rep.metrics[k].synthetic, 'number');
      assert.ok(Math.abs(rep.metrics[k].relErr - (rep.metrics[k].synthetic - rep.metrics[k].real) / rep.metrics[k].real) < 1e-3);
    }
    const bad = ppuu(['data', 'synth', '--slot', '0600-0615', '--out', join(dir, 'x')]);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--slot must be one of/);
    const notOurs = ppuu(['data', 'synth', '--minutes', '0.1', '--out', 'data']);
    assert.equal(notOurs.status, 2);
    assert.match(notOurs.stderr, /not a synthetic-traffic folder/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
