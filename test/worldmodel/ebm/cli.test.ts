import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeTinyDataset } from '../../helpers/tiny-dataset.js';
import { tempDir } from '../../helpers/temp.js';
import { ppuuInProcess } from '../../helpers/cli.js';

const bin = fileURLToPath(new URL('../../../bin/ppuu.js', import.meta.url));
const ppuu = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, TFJS_BACKEND: 'cpu' } });
const work = tempDir('ppuu-cli-ebm-');
const data = writeTinyDataset({ n: 4, length: 20, dir: join(work, 'ds') });
after(() => rmSync(work, { recursive: true, force: true }));

test('ppuu ebm train --json trains and saves a model; ppuu ebm filters draws it', () => {
  const out = join(work, 'sparse');
  const r = ppuu(['ebm', 'train', '--kind', 'sparse', '--data', data, '--out', out, '--atoms', '8', '--steps', '5', '--samples', '200', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const res = JSON.parse(r.stdout);
  assert.equal(res.kind, 'sparse');
  assert.equal(res.samples, 200);
  assert.ok(res.heldOutEnergy > 0 && Number.isFinite(res.heldOutEnergy));
  assert.equal(res.encoder, false);
  assert.ok(existsSync(join(out, 'model.json')) && existsSync(join(out, 'weights.bin')) && existsSync(join(out, 'ebm.json')));
  const png = join(work, 'filters.png');
  const f = ppuu(['ebm', 'filters', '--model', out, '--out', png, '--json']);
  assert.equal(f.status, 0, f.stderr);
  const fr = JSON.parse(f.stdout);
  assert.equal(fr.atoms, 8);
  assert.deepEqual(fr.patch, [8, 8, 3]);
  assert.ok(existsSync(png));
  // This model has no conv encoder to draw.
  const e = ppuu(['ebm', 'filters', '--model', out, '--out', png, '--which', 'encoder']);
  assert.equal(e.status, 2);
  assert.match(e.stderr, /has no convolutional encoder/);
});

test('ppuu ebm train rejects a bad kind and a missing dataset on one line with exit code 2', async () => {
  const bad = await ppuuInProcess(['ebm', 'train', '--kind', 'gan', '--data', data, '--out', join(work, 'x')]);
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim().split('\n').length, 1);
  assert.match(bad.stderr, /--kind must be one of kmeans, pca, sparse, lista, psd, conv-sparse/);
  const missing = await ppuuInProcess(['ebm', 'train', '--kind', 'pca', '--data', join(work, 'nope'), '--out', join(work, 'y')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /dataset folder not found/);
  assert.ok(!existsSync(join(work, 'y')));
});

test('ppuu ebm filters picks its backend like the other commands (nothing from tfjs on stderr)', () => {
  const out = join(work, 'pca-banner');
  const t = ppuu(['ebm', 'train', '--kind', 'pca', '--data', data, '--out', out, '--atoms', '4', '--patch', '4', '--samples', '100', '--json']);
  assert.equal(t.status, 0, t.stderr);
  const env = { ...process.env };
  delete env.TFJS_BACKEND;
  const f = spawnSync(process.execPath, [bin, 'ebm', 'filters', '--model', out, '--out', join(work, 'pca.png')], { encoding: 'utf8', env });
  assert.equal(f.status, 0, f.stderr);
  assert.equal(f.stderr, '');
});
