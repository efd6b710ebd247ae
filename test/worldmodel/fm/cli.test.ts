import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tinyDataset } from './helpers.js';
import { tempDir } from '../../helpers/temp.js';
import { ppuuInProcess } from '../../helpers/cli.js';

const ppuu = (args: string[]) => spawnSync(process.execPath, ['bin/ppuu.js', ...args], { encoding: 'utf8' });

test('ppuu train fm then ppuu eval fm, with JSON output, a log, a checkpoint and a picture', () => {
  const dir = tempDir('ppuu-fm-cli-');
  const out = join(dir, 'run');
  const t = ppuu(['train', 'fm', '--data', tinyDataset(), '--out', out, '--preset', 'tiny', '--model', 'vae', '--steps', '2', '--npred', '2', '--json']);
  assert.equal(t.status, 0, t.stderr);
  const s = JSON.parse(t.stdout);
  assert.equal(s.steps, 2);
  assert.equal(s.kind, 'vae');
  assert.equal(s.paramCount.total, 68603);
  for (const f of ['model.json', 'weights.bin', 'hparams.json', 'optimizer.json', 'optimizer.bin', 'train-state.json']) assert.ok(existsSync(join(out, 'checkpoint', f)), f);
  assert.equal(readFileSync(join(out, 'log.jsonl'), 'utf8').trim().split('\n').length, 2);
  const png = join(dir, 'frames.png');
  const e = ppuu(['eval', 'fm', '--model', out, '--data', tinyDataset(), '--horizons', '1,5', '--windows', '4', '--frames', png, '--json']);
  assert.equal(e.status, 0, e.stderr);
  const r = JSON.parse(e.stdout);
  assert.deepEqual(r.horizons.map((h: { horizon: number }) => h.horizon), [1, 5]);
  assert.ok(r.horizons[0].image.copyLast > 0 && r.horizons[0].state.constVelocity > 0);
  assert.ok(existsSync(png));
  // Training again into the same folder without --resume is a one-line user error.
  const again = ppuu(['train', 'fm', '--data', tinyDataset(), '--out', out, '--preset', 'tiny', '--steps', '2']);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /--resume/);
});

test('bad input to train fm / eval fm is one line on stderr with exit code 2', async () => {
  // An --out of this test's own (a shared $TMPDIR/x may hold another program's files).
  const x = join(tempDir('ppuu-fm-bad-'), 'x');
  const cases: Array<[string[], RegExp]> = [
    [['train', 'fm', '--data', tinyDataset(), '--out', x, '--preset', 'huge'], /unknown forward-model preset 'huge'/],
    [['train', 'fm', '--data', tinyDataset(), '--out', x, '--model', 'gan'], /--model must be deterministic or vae/],
    [['train', 'fm', '--data', join(tmpdir(), 'no-such-dataset'), '--out', x], /dataset folder not found/],
    [['eval', 'fm', '--model', tmpdir(), '--data', tinyDataset()], /not a forward-model checkpoint/],
    [['eval', 'fm', '--model', tmpdir(), '--data', tinyDataset(), '--horizons', '1,x'], /--horizons/],
  ];
  for (const [args, re] of cases) {
    const r = await ppuuInProcess(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
});

test('--resume continues a run with its own settings and refuses conflicting ones', async () => {
  const out = join(tempDir('ppuu-fm-cli-'), 'run');
  const base = ['train', 'fm', '--data', tinyDataset(), '--out', out];
  assert.equal(ppuu([...base, '--preset', 'tiny', '--model', 'deterministic', '--steps', '1', '--npred', '1']).status, 0);
  const bad = await ppuuInProcess([...base, '--resume', '--steps', '2', '--npred', '3']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /npred 1/);
  const ok = ppuu([...base, '--resume', '--steps', '2', '--json']);
  assert.equal(ok.status, 0, ok.stderr);
  const s = JSON.parse(ok.stdout);
  assert.equal(s.startStep, 1);
  assert.equal(s.preset, 'tiny');
  assert.equal(s.kind, 'deterministic');
});
