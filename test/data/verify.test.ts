/**
 * `ppuu data verify` (data/verify.ts): a fresh dump records each episode file's sha256 in its
 * manifest and verifies clean; a truncated file, a changed byte, a wrong dtype or a NaN is found
 * and named, and the command exits with 2; `data stats` says whether the dataset as it is now
 * has been verified.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, truncateSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataset, episodeDir } from '../../data/dataset.js';
import { verifyDataset, recordVerification } from '../../data/verify.js';
import { encodeNpy } from '../../common/npy.js';
import { dumpDataset } from '../../sim/io/dump.js';
import { datasetStats } from '../../sim/io/stats.js';
import { writeTraffic } from '../sim/helpers/traffic.js';
import { ppuuInProcess } from '../helpers/cli.js';

const cli = ppuuInProcess;

test('a dump verifies clean with every file checksummed; damage is found, named, and exits with 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ppuu-verify-'));
  const tracks = await writeTraffic({ perLane: 2, lanes: [1, 3] }, join(dir, 'tracks'));
  const out = join(dir, 'ds');
  await dumpDataset({ trajectories: tracks, out, workers: 1 });
  const ds = openDataset(out);
  const [a, b, c] = ds.episodes();
  assert.ok(a && b && c);
  assert.match(a.sha256?.images ?? '', /^[0-9a-f]{64}$/);

  assert.equal(datasetStats(out).verified, null);
  const clean = verifyDataset(out);
  assert.deepEqual(clean.problems, []);
  assert.equal(clean.files, ds.episodes().length * 6);
  assert.equal(clean.checksummed, clean.files);
  assert.equal((await cli(['data', 'verify', out])).status, 0);
  assert.equal(datasetStats(out).verified?.ok, true);

  // A truncated image file: data stats alone does not notice; verify does.
  const images = join(episodeDir(out, a.id), 'images.npy');
  truncateSync(images, statSync(images).size - 100);
  // A byte changed in place (same size, valid header).
  const actions = join(episodeDir(out, b.id), 'actions.npy');
  const bytes = readFileSync(actions);
  bytes[bytes.length - 1] ^= 0x01;
  writeFileSync(actions, bytes);
  // A NaN in a file whose digest is no longer recorded (as in an older dataset).
  const states = join(episodeDir(out, c.id), 'states.npy');
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { episodes: Array<{ id: string; sha256?: unknown }> };
  delete manifest.episodes.find((e) => e.id === c.id)!.sha256;
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(manifest));
  const s = ds.load(c).states;
  s[5] = NaN;
  writeFileSync(states, encodeNpy(s, [c.length, 7, 4]));

  assert.equal(datasetStats(out).verified, null, 'the manifest changed since the verification');
  const bad = verifyDataset(out);
  assert.equal(bad.ok, false);
  assert.ok(bad.problems.some((p) => p.startsWith(`${images}: `) && /sha256 differs/.test(p)), bad.problems.join('\n'));
  assert.ok(bad.problems.some((p) => p.startsWith(`${images}: truncated: `)), bad.problems.join('\n'));
  assert.ok(bad.problems.some((p) => p === `${actions}: sha256 differs from the manifest's (the file changed after the dump)`), bad.problems.join('\n'));
  assert.ok(bad.problems.some((p) => p === `${states}: non-finite value (NaN) at element 5`), bad.problems.join('\n'));
  const r = await cli(['data', 'verify', out]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /^ppuu: .*\.npy: .*\(and \d+ more problems\)$/m);
  recordVerification(out, bad);
  assert.deepEqual(datasetStats(out).verified && { ok: datasetStats(out).verified!.ok }, { ok: false });

  // A wrong dtype with the right shape.
  writeFileSync(join(episodeDir(out, a.id), 'frames.npy'), encodeNpy(new Float32Array(a.length), [a.length]));
  assert.ok(verifyDataset(out).problems.some((p) => /frames\.npy: dtype <f4, expected <i4/.test(p)));
});
