/**
 * `ppuu train fm --encoder-init DIR`: the first convolutions start from an EBM conv encoder
 * (worldmodel/fm/ebm-init.ts). The EBM folders here are written with saveEbmModel from seeded
 * random kernels, so the expected weights are known without training an EBM.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fmConfig } from '../../../worldmodel/fm/config.js';
import { ForwardModel } from '../../../worldmodel/fm/model.js';
import { applyEncoderInit } from '../../../worldmodel/fm/ebm-init.js';
import { trainForwardModel, type TrainOptions } from '../../../worldmodel/fm/train.js';
import { loadFm, type FmHparams, type TrainState } from '../../../worldmodel/fm/checkpoint.js';
import { setup, tinyDataset } from './helpers.js';
import { assertTiled, fakeEbm as writeFakeEbm } from '../../helpers/fake-ebm.js';
import { tempDir } from '../../helpers/temp.js';

before(setup);
const work = tempDir('ppuu-fm-encinit-');
after(() => rmSync(work, { recursive: true, force: true }));
const fakeEbm = (name: string, channels: number, filters: number, seed: number, withBias = true) => writeFakeEbm(work, name, channels, filters, seed, withBias);

const values = (m: ForwardModel, name: string) => m.weights[name]!.dataSync() as Float32Array;

test('the first convolutions get the tiled EBM kernel and bias; every other weight equals a run without it', async () => {
  const cfg = fmConfig('tiny', { channels: 3 });
  const e = await fakeEbm('ok', 3, cfg.nfeature / 4, 7);
  for (const mode of ['mean', 'last', 'repeat'] as const) {
    const plain = ForwardModel.create(cfg, 'vae', 5);
    const inited = ForwardModel.create(cfg, 'vae', 5);
    const rec = await applyEncoderInit(inited, e.dir, mode);
    assert.deepEqual(rec.tensors, ['enc.conv1.w', 'enc.conv1.b', 'post.conv1.w', 'post.conv1.b']);
    assert.equal(rec.kind, 'conv-sparse');
    assert.equal(rec.source, e.dir);
    assertTiled(values(inited, 'enc.conv1.w'), e, cfg.ncond, mode);
    assertTiled(values(inited, 'post.conv1.w'), e, 1, 'mean');
    const scale = mode === 'repeat' ? cfg.ncond : 1;
    assert.deepEqual(Array.from(values(inited, 'enc.conv1.b')), Array.from(e.bias!, (b) => Math.fround(b * scale)));
    assert.deepEqual(Array.from(values(inited, 'post.conv1.b')), Array.from(e.bias!));
    // The seeded default differs from the EBM values, so the comparison above can fail.
    assert.notDeepEqual(Array.from(values(plain, 'enc.conv1.w')), Array.from(values(inited, 'enc.conv1.w')));
    for (const s of inited.specs) {
      if (rec.tensors.includes(s.name)) continue;
      assert.deepEqual(values(inited, s.name), values(plain, s.name), s.name);
    }
    plain.dispose();
    inited.dispose();
  }
  // Without a bias in the EBM the seeded default bias stays; the deterministic model has no posterior.
  const nb = await fakeEbm('nobias', 3, cfg.nfeature / 4, 8, false);
  const plain = ForwardModel.create(cfg, 'deterministic', 2);
  const det = ForwardModel.create(cfg, 'deterministic', 2);
  const rec = await applyEncoderInit(det, nb.dir);
  assert.deepEqual(rec.tensors, ['enc.conv1.w']);
  assert.equal(rec.bias, false);
  assert.deepEqual(values(det, 'enc.conv1.b'), values(plain, 'enc.conv1.b'));
  plain.dispose();
  det.dispose();
});

function run(out: string, extra: Partial<TrainOptions>) {
  return trainForwardModel({ dataset: tinyDataset(), out, preset: 'tiny', kind: 'vae', steps: 0, seed: 4, prefetch: false, overrides: { npred: 2 }, ...extra });
}

test('trainForwardModel with encoderInit: checkpoint weights, hparams and train-state record it, training runs, resume keeps the record', async () => {
  const cfg = fmConfig('tiny');
  const e = await fakeEbm('train', 3, cfg.nfeature / 4, 9);
  const a = join(work, 'run-init');
  const b = join(work, 'run-plain');
  const sa = await run(a, { encoderInit: e.dir, encoderTile: 'last' });
  await run(b, {});
  assert.equal(sa.encoderInit?.source, e.dir);
  assert.equal(sa.encoderInit?.tile, 'last');
  const ma = loadFm(a).model;
  const mb = loadFm(b).model;
  assertTiled(values(ma, 'enc.conv1.w'), e, cfg.ncond, 'last');
  assert.deepEqual(Array.from(values(ma, 'post.conv1.b')), Array.from(e.bias!));
  for (const s of ma.specs) {
    if (sa.encoderInit!.tensors.includes(s.name)) continue;
    assert.deepEqual(values(ma, s.name), values(mb, s.name), s.name);
  }
  ma.dispose();
  mb.dispose();
  const hp = JSON.parse(readFileSync(join(a, 'checkpoint', 'hparams.json'), 'utf8')) as FmHparams;
  assert.equal(hp.encoderInit?.source, e.dir);
  assert.equal(hp.encoderInit?.filters, 4);
  const st = JSON.parse(readFileSync(join(a, 'checkpoint', 'train-state.json'), 'utf8')) as TrainState;
  assert.equal(st.encoderInit, e.dir);
  assert.equal((JSON.parse(readFileSync(join(b, 'checkpoint', 'hparams.json'), 'utf8')) as FmHparams).encoderInit, null);
  // Training from the init and resuming it.
  const c = join(work, 'run-steps');
  const s1 = await run(c, { encoderInit: e.dir, steps: 1 });
  assert.ok(Number.isFinite(s1.lastLoss));
  await assert.rejects(run(c, { resume: true, encoderInit: e.dir, steps: 2 }), /--encoder-init and --resume cannot be combined/);
  const s2 = await run(c, { resume: true, steps: 2 });
  assert.equal(s2.startStep, 1);
  assert.equal(s2.encoderInit?.source, e.dir);
  assert.equal((JSON.parse(readFileSync(join(c, 'checkpoint', 'hparams.json'), 'utf8')) as FmHparams).encoderInit?.source, e.dir);
});

test('a VAE warm-started with --init keeps the EBM init only where the warm start has no tensor (the posterior)', async () => {
  const cfg = fmConfig('tiny');
  const e = await fakeEbm('warm', 3, cfg.nfeature / 4, 10);
  const det = join(work, 'det');
  await run(det, { kind: 'deterministic' });
  const vae = join(work, 'vae-warm');
  const s = await run(vae, { init: det, encoderInit: e.dir });
  assert.deepEqual(s.encoderInit?.tensors, ['post.conv1.w', 'post.conv1.b']);
  const mv = loadFm(vae).model;
  const md = loadFm(det).model;
  assert.deepEqual(values(mv, 'enc.conv1.w'), values(md, 'enc.conv1.w'));
  assertTiled(values(mv, 'post.conv1.w'), e, 1, 'mean');
  mv.dispose();
  md.dispose();
  // A deterministic model warm-started from one gets every first convolution from --init: nothing left to set.
  await assert.rejects(run(join(work, 'det-warm'), { kind: 'deterministic', init: det, encoderInit: e.dir }), /would change nothing/);
});

test('an EBM whose kernel does not fit the forward model is a clear error before anything is written', async () => {
  const cfg = fmConfig('tiny');
  const wrongF = await fakeEbm('f8', 3, 8, 11);
  const wrongC = await fakeEbm('c4', 4, cfg.nfeature / 4, 12);
  const out = join(work, 'never');
  await assert.rejects(run(out, { encoderInit: wrongF.dir }), (err: Error) => {
    assert.equal(err.name, 'UserError');
    assert.match(err.message, /ebm\.json: field encoder: the kernel has 8 filters; the forward model's first convolution \(nfeature 16\) has 4 outputs \(ppuu ebm train --atoms 4\)/);
    return true;
  });
  await assert.rejects(run(out, { encoderInit: wrongC.dir }), /ebm\.json: field atoms\.patch: the encoder sees 4 channels per frame; the dataset's images have 3/);
  await assert.rejects(run(out, { encoderInit: join(work, 'no-such-model') }), /not an ebm model folder/);
  assert.ok(!existsSync(out), 'no output folder for a rejected init');
});

const ppuu = (args: string[]) => spawnSync(process.execPath, ['bin/ppuu.js', ...args], { encoding: 'utf8' });

test('ppuu train fm --encoder-init prints the record in --json; bad flags and shapes are one line with exit code 2', async () => {
  const e = await fakeEbm('cli', 3, fmConfig('tiny').nfeature / 4, 13);
  const wrong = await fakeEbm('cli-f8', 3, 8, 14);
  const base = ['train', 'fm', '--data', tinyDataset(), '--preset', 'tiny', '--model', 'deterministic', '--npred', '2', '--steps', '1'];
  const ok = ppuu([...base, '--out', join(work, 'cli-run'), '--encoder-init', e.dir, '--encoder-tile', 'repeat', '--json']);
  assert.equal(ok.status, 0, ok.stderr);
  const s = JSON.parse(ok.stdout);
  assert.deepEqual(s.encoderInit.tensors, ['enc.conv1.w', 'enc.conv1.b']);
  assert.equal(s.encoderInit.tile, 'repeat');
  const cases: Array<[string[], RegExp]> = [
    [['--out', join(work, 'cli-x'), '--encoder-init', e.dir, '--encoder-tile', 'first'], /--encoder-tile must be mean, last or repeat, got 'first'/],
    [['--out', join(work, 'cli-x'), '--encoder-tile', 'last'], /--encoder-tile needs --encoder-init/],
    [['--out', join(work, 'cli-x'), '--encoder-init', wrong.dir], /field encoder: the kernel has 8 filters.*--atoms 4/],
  ];
  for (const [extra, re] of cases) {
    const r = ppuu([...base, ...extra]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
});
