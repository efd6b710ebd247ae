import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { NormAccumulator, openDataset, splitEpisodes, writeEpisode, hasEpisode } from '../../data/dataset.js';
import { proceduralEpisode, writeTinyDataset } from '../helpers/tiny-dataset.js';
import { tempDir } from '../helpers/temp.js';

test('split is deterministic, order-independent and about 80/10/10', () => {
  const ids = Array.from({ length: 200 }, (_, i) => `e${i}`);
  const a = splitEpisodes(ids, 7);
  const b = splitEpisodes([...ids].reverse(), 7);
  assert.deepEqual([...a.entries()].sort(), [...b.entries()].sort());
  const count = (s: string) => [...a.values()].filter((v) => v === s).length;
  assert.equal(count('train'), 160);
  assert.equal(count('val'), 20);
  assert.equal(count('test'), 20);
  const c = splitEpisodes(ids, 8);
  assert.notDeepEqual([...a.entries()], [...c.entries()]);
});

test('normalisation statistics match a direct computation', () => {
  const ep = proceduralEpisode('x', 50, 3);
  const acc = new NormAccumulator();
  acc.add(ep.states, ep.actions, 50);
  const s = acc.stats();
  const vx = Array.from({ length: 50 }, (_, t) => ep.states[t * 28 + 2]!);
  const mean = vx.reduce((p, q) => p + q, 0) / 50;
  const std = Math.sqrt(vx.reduce((p, q) => p + (q - mean) ** 2, 0) / 49);
  assert.ok(Math.abs(s.stateMean[2]! - mean) < 1e-3);
  assert.ok(Math.abs(s.stateStd[2]! - std) < 1e-3);
  assert.equal(s.stateStd[1], 1, 'a constant component gets std 1');
});

test('dataset round trip: episodes read back identical, manifest validated', () => {
  const dir = writeTinyDataset({ n: 5, length: 30, seed: 2 });
  try {
    const ds = openDataset(dir);
    assert.equal(ds.episodes().length, 5);
    const meta = ds.episodes()[0]!;
    const ep = ds.load(meta);
    const ref = proceduralEpisode(meta.id, 30, 2 * 1000 + 0);
    assert.deepEqual(ep.images, ref.images);
    assert.deepEqual(ep.states, ref.states);
    assert.deepEqual(ep.actions, ref.actions);
    assert.deepEqual(ep.frames, ref.frames);
    // A broken manifest gets a one-line error naming the file and the field.
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    m.episodes[0].length = -1;
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
    assert.throws(() => openDataset(dir), /manifest\.json: field \/episodes\/0\/length/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a dataset without manifest is reported unfinished; episode writes are all-or-nothing', () => {
  const dir = tempDir('ppuu-ds-');
  try {
    const ep = proceduralEpisode('a', 10, 1);
    writeEpisode(dir, ep, 3, 2);
    assert.ok(hasEpisode(dir, 'a'));
    assert.throws(() => openDataset(dir), /not a finished dataset/);
    const bad = proceduralEpisode('b', 10, 1);
    bad.costs = new Float32Array(3);
    assert.throws(() => writeEpisode(dir, bad, 3, 2), /costs/);
    assert.ok(!existsSync(join(dir, 'episodes', 'b')));
    mkdirSync(join(dir, 'episodes', 'c'));
    assert.ok(!hasEpisode(dir, 'c'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
