/**
 * `ppuu train policy --encoder-init DIR`: the policy's first convolution starts from an EBM conv
 * encoder (policy/ebm-init.ts). The EBM folders are written with saveEbmModel from seeded random
 * kernels, so the expected weights are known without training an EBM.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fmConfig } from '../../worldmodel/fm/config.js';
import { policyNetConfig } from '../../policy/config.js';
import { PolicyNetwork } from '../../policy/network.js';
import { applyPolicyEncoderInit } from '../../policy/ebm-init.js';
import { trainPolicy, type PolicyTrainOptions } from '../../policy/mpur.js';
import { loadPolicy, type PolicyHyper } from '../../policy/checkpoint.js';
import { setup, tinyDataset } from './helpers.js';
import { assertTiled, fakeEbm as writeFakeEbm } from '../helpers/fake-ebm.js';
import { tempDir } from '../helpers/temp.js';

before(setup);
const work = tempDir('ppuu-policy-encinit-');
after(() => rmSync(work, { recursive: true, force: true }));
const fakeEbm = (name: string, channels: number, filters: number, seed: number, withBias = true) => writeFakeEbm(work, name, channels, filters, seed, withBias);

const NCOND = fmConfig('tiny').ncond;
/** The tiny policy's first convolution outputs (nfeature / 4). */
const FILTERS = policyNetConfig('tiny', NCOND, 3).nfeature / 4;

const values = (p: PolicyNetwork, name: string) => p.weights[name]!.dataSync() as Float32Array;

test('the first convolution gets the tiled EBM kernel and bias; every other weight equals a policy without it', async () => {
  const cfg = policyNetConfig('tiny', NCOND, 3, true);
  const e = await fakeEbm('ok', 3, FILTERS, 7);
  for (const mode of ['mean', 'last', 'repeat'] as const) {
    const plain = PolicyNetwork.create(cfg, 5);
    const inited = PolicyNetwork.create(cfg, 5);
    const rec = await applyPolicyEncoderInit(inited, e.dir, mode);
    assert.deepEqual(rec.tensors, ['enc.conv1.w', 'enc.conv1.b']);
    assert.equal(rec.tile, mode);
    assert.equal(rec.filters, FILTERS);
    assertTiled(values(inited, 'enc.conv1.w'), e, NCOND, mode);
    const scale = mode === 'repeat' ? NCOND : 1;
    assert.deepEqual(Array.from(values(inited, 'enc.conv1.b')), Array.from(e.bias!, (b) => Math.fround(b * scale)));
    // The seeded default differs from the EBM values, so the comparison above can fail.
    assert.notDeepEqual(Array.from(values(plain, 'enc.conv1.w')), Array.from(values(inited, 'enc.conv1.w')));
    for (const s of inited.specs) {
      if (rec.tensors.includes(s.name)) continue;
      assert.deepEqual(values(inited, s.name), values(plain, s.name), s.name);
    }
    plain.dispose();
    inited.dispose();
  }
  // Without a bias in the EBM the seeded default bias stays.
  const nb = await fakeEbm('nobias', 3, FILTERS, 8, false);
  const plain = PolicyNetwork.create(cfg, 2);
  const p = PolicyNetwork.create(cfg, 2);
  const rec = await applyPolicyEncoderInit(p, nb.dir);
  assert.deepEqual(rec.tensors, ['enc.conv1.w']);
  assert.equal(rec.bias, false);
  assert.deepEqual(values(p, 'enc.conv1.b'), values(plain, 'enc.conv1.b'));
  plain.dispose();
  p.dispose();
});

function run(out: string, extra: Partial<PolicyTrainOptions>) {
  return trainPolicy({ dataset: tinyDataset(), out, method: 'il', preset: 'tiny', steps: 0, seed: 4, prefetch: false, ...extra });
}

const hyperOf = (out: string) => (JSON.parse(readFileSync(join(out, 'checkpoint', 'policy', 'hparams.json'), 'utf8')) as { hyperParameters: PolicyHyper }).hyperParameters;

test('trainPolicy with encoderInit: checkpoint weights and hparams record it, training runs, resume keeps it, mismatches are rejected', async () => {
  const e = await fakeEbm('train', 3, FILTERS, 9);
  const a = join(work, 'run-init');
  const b = join(work, 'run-plain');
  const sa = await run(a, { encoderInit: e.dir, encoderTile: 'last' });
  await run(b, {});
  assert.equal(sa.encoderInit?.source, e.dir);
  assert.equal(sa.encoderInit?.tile, 'last');
  const [pa, pb] = [(await loadPolicy(a)).policy, (await loadPolicy(b)).policy];
  assertTiled(values(pa, 'enc.conv1.w'), e, NCOND, 'last');
  assert.deepEqual(Array.from(values(pa, 'enc.conv1.b')), Array.from(e.bias!));
  for (const s of pa.specs) {
    if (sa.encoderInit!.tensors.includes(s.name)) continue;
    assert.deepEqual(values(pa, s.name), values(pb, s.name), s.name);
  }
  pa.dispose();
  pb.dispose();
  assert.equal(hyperOf(a).encoderInit?.source, e.dir);
  assert.equal(hyperOf(a).encoderInit?.filters, FILTERS);
  assert.equal(hyperOf(b).encoderInit, null);

  // Training from the init and resuming it.
  const c = join(work, 'run-steps');
  const s1 = await run(c, { encoderInit: e.dir, steps: 1 });
  assert.ok(Number.isFinite(s1.lastLoss));
  await assert.rejects(run(c, { resume: true, encoderInit: e.dir, steps: 2 }), /--encoder-init and --resume cannot be combined/);
  const s2 = await run(c, { resume: true, steps: 2 });
  assert.equal(s2.startStep, 1);
  assert.equal(s2.encoderInit?.source, e.dir);
  assert.equal(hyperOf(c).encoderInit?.source, e.dir);

  // Kernels that do not fit: clear errors before anything is written.
  const wrongF = await fakeEbm('f8', 3, 8, 11);
  const wrongC = await fakeEbm('c4', 4, FILTERS, 12);
  const out = join(work, 'never');
  await assert.rejects(run(out, { encoderInit: wrongF.dir }), (err: Error) => {
    assert.equal(err.name, 'UserError');
    assert.match(err.message, new RegExp(`ebm\\.json: field encoder: the kernel has 8 filters; the policy's first convolution \\(nfeature ${4 * FILTERS}\\) has ${FILTERS} outputs \\(ppuu ebm train --atoms ${FILTERS}\\)`));
    return true;
  });
  await assert.rejects(run(out, { encoderInit: wrongC.dir }), /ebm\.json: field atoms\.patch: the encoder sees 4 channels per frame; the dataset's images have 3/);
  await assert.rejects(run(out, { encoderInit: join(work, 'no-such-model') }), /not an ebm model folder/);
  assert.ok(!existsSync(out), 'no output folder for a rejected init');
});

const ppuu = (args: string[]) => spawnSync(process.execPath, ['bin/ppuu.js', ...args], { encoding: 'utf8' });

test('ppuu train policy --encoder-init prints the record in --json; bad flags and shapes are one line with exit code 2', async () => {
  const e = await fakeEbm('cli', 3, FILTERS, 13);
  const wrong = await fakeEbm('cli-f8', 3, 8, 14);
  const base = ['train', 'policy', '--method', 'il', '--preset', 'tiny', '--data', tinyDataset(), '--steps', '1'];
  const ok = ppuu([...base, '--out', join(work, 'cli-run'), '--encoder-init', e.dir, '--encoder-tile', 'repeat', '--json']);
  assert.equal(ok.status, 0, ok.stderr);
  const s = JSON.parse(ok.stdout);
  assert.deepEqual(s.encoderInit.tensors, ['enc.conv1.w', 'enc.conv1.b']);
  assert.equal(s.encoderInit.tile, 'repeat');
  const cases: Array<[string[], RegExp]> = [
    [['--out', join(work, 'cli-x'), '--encoder-init', e.dir, '--encoder-tile', 'first'], /--encoder-tile must be mean, last or repeat, got 'first'/],
    [['--out', join(work, 'cli-x'), '--encoder-tile', 'last'], /--encoder-tile needs --encoder-init/],
    [['--out', join(work, 'cli-x'), '--encoder-init', wrong.dir], new RegExp(`field encoder: the kernel has 8 filters.*--atoms ${FILTERS}`)],
    [['--out', join(work, 'cli-run'), '--resume', '--encoder-init', e.dir], /--encoder-init and --resume cannot be combined/],
  ];
  for (const [extra, re] of cases) {
    const r = ppuu([...base, ...extra]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
});
