import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTraffic } from '../sim/helpers/traffic.js';
import { setup, tempDir, tinyDataset, tinyModel } from './helpers.js';
import { ppuuInProcess } from '../helpers/cli.js';

before(setup);

const ppuu = (args: string[]) => spawnSync(process.execPath, ['bin/ppuu.js', ...args], { encoding: 'utf8' });

test('ppuu train policy (mpur, il) then ppuu eval --policy DIR and a policy scenario on a tiny dump', async () => {
  const dir = tempDir('ppuu-policy-cli-');
  try {
    const fm = await tinyModel('vae');
    const mpur = join(dir, 'mpur');
    const t = ppuu(['train', 'policy', '--model', fm, '--data', tinyDataset(), '--out', mpur, '--steps', '2', '--npred', '2', '--u-batches', '1', '--json']);
    assert.equal(t.status, 0, t.stderr);
    const s = JSON.parse(t.stdout);
    assert.equal(s.method, 'mpur');
    assert.equal(s.preset, 'tiny', 'the forward model\'s preset');
    assert.equal(s.steps, 2);
    assert.equal(s.train.lambdaU, 0.5);
    assert.equal(s.uStats.npred, 2);
    for (const f of ['policy/model.json', 'policy/weights.bin', 'policy/hparams.json', 'optimizer/model.json', 'optimizer/train-state.json']) assert.ok(existsSync(join(mpur, 'checkpoint', f)), f);
    const hp = JSON.parse(readFileSync(join(mpur, 'checkpoint', 'policy', 'hparams.json'), 'utf8'));
    assert.equal(hp.hyperParameters.forwardModel.path, fm);
    assert.equal(hp.normalisation.stateStd.length, 4);
    assert.equal(readFileSync(join(mpur, 'log.jsonl'), 'utf8').trim().split('\n').length, 2);

    const il = join(dir, 'il');
    assert.equal(ppuu(['train', 'policy', '--method', 'il', '--preset', 'tiny', '--data', tinyDataset(), '--out', il, '--steps', '3', '--json']).status, 0);

    // A small real dump (6 cars) to drive on.
    await writeTraffic({ perLane: 2, lanes: [1, 2, 3] }, join(dir, 'tracks', '0400-0415'));
    const ds = join(dir, 'ds');
    const d = ppuu(['data', 'dump', '--trajectories', join(dir, 'tracks'), '--out', ds, '--json']);
    assert.equal(d.status, 0, d.stderr);
    for (const policy of [mpur, il]) {
      const e = ppuu(['eval', '--data', ds, '--split', 'train', '--policy', policy, '--max-steps', '30', '--json']);
      assert.equal(e.status, 0, e.stderr);
      const r = JSON.parse(e.stdout);
      assert.equal(r.policy, policy);
      assert.ok(r.episodes > 0);
      assert.ok(r.records.every((x: { steps: number }) => x.steps > 0), 'every episode was driven by the policy');
      assert.ok(r.meanDistanceM.mean > 0 && r.successRate.mean >= 0 && r.successRate.mean <= 1);
    }
    const scen = join(dir, 'scenario.json');
    writeFileSync(scen, JSON.stringify({ name: 'policy', map: 'i80', slot: '0400-0415', dataset: { kind: 'episodes', path: ds }, ego: { kind: 'split', split: 'train' }, controller: { kind: 'policy', path: il }, durationFrames: 20, seeds: [0] }, null, 2));
    const sc = ppuu(['eval', '--scenarios', scen, '--json', '--no-records']);
    assert.equal(sc.status, 0, sc.stderr);
    assert.ok(JSON.parse(sc.stdout).reports[0].episodes > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input to train policy is one line on stderr with exit code 2', async () => {
  const fm = await tinyModel('deterministic');
  const out = join(tempDir(), 'x');
  const cases: Array<[string[], RegExp]> = [
    [['--model', fm, '--method', 'rl'], /unknown policy training method 'rl'/],
    [['--model', fm, '--preset', 'huge'], /unknown policy preset 'huge'/],
    [['--method', 'mpur'], /needs a forward model/],
    [['--model', fm, '--method', 'svg'], /stochastic \(vae\) model/],
    [['--model', fm, '--method', 'vg', '--lambda-u', '0.5'], /lambda-u/],
    [['--model', fm, '--lambda-u', '-1'], /--lambda-u must be a number >= 0/],
    [['--model', tempDir(), '--method', 'vg'], /not a forward-model checkpoint/],
  ];
  for (const [args, re] of cases) {
    const r = await ppuuInProcess(['train', 'policy', '--data', tinyDataset(), '--out', out, '--steps', '1', ...args]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, re);
  }
});

test('train policy --init starts from a trained policy\'s weights (recorded), refuses another network and --resume', async () => {
  const dir = tempDir('ppuu-policy-init-');
  try {
    const il = join(dir, 'il');
    assert.equal((await ppuuInProcess(['train', 'policy', '--method', 'il', '--preset', 'tiny', '--data', tinyDataset(), '--out', il, '--steps', '3'])).status, 0);
    const fm = await tinyModel('vae');
    const km = join(dir, 'km');
    // lr tiny: after one update the weights are still the il run's to 1e-6.
    const r = await ppuuInProcess(['train', 'policy', '--model', fm, '--method', 'vg-km', '--future', 'real', '--data', tinyDataset(), '--out', km, '--steps', '1', '--lr', '1e-9', '--npred', '2', '--init', il]);
    assert.equal(r.status, 0, r.stderr);
    const { loadPolicy } = await import('../../policy/checkpoint.js');
    const a = await loadPolicy(il);
    const b = await loadPolicy(km);
    const fresh = await ppuuInProcess(['train', 'policy', '--model', fm, '--method', 'vg-km', '--future', 'real', '--data', tinyDataset(), '--out', join(dir, 'fresh'), '--steps', '1', '--lr', '1e-9', '--npred', '2', '--seed', '7']);
    assert.equal(fresh.status, 0, fresh.stderr);
    const c = await loadPolicy(join(dir, 'fresh'));
    for (const [name, w] of Object.entries(a.policy.weights)) {
      const d = Math.max(...(w.sub(b.policy.weights[name]!).abs().dataSync() as Float32Array));
      assert.ok(d < 1e-6, `${name}: ${d}`);
    }
    const e = Math.max(...(a.policy.weights['out.w']!.sub(c.policy.weights['out.w']!).abs().dataSync() as Float32Array));
    assert.ok(e > 1e-3, 'a run without --init has its own seeded weights');
    const kmHyper = JSON.parse(readFileSync(join(km, 'checkpoint', 'policy', 'hparams.json'), 'utf8')).hyperParameters;
    assert.deepEqual(kmHyper.init, { path: il, method: 'il', steps: 3 });
    // The km methods bound their actions to what the controller executes; il keeps the paper's unbounded head.
    assert.equal(kmHyper.net.actionBound, 3);
    assert.equal(a.hyper.net.actionBound, undefined);
    for (const p of [a, b, c]) p.policy.dispose();
    const again = await ppuuInProcess(['train', 'policy', '--out', km, '--resume', '--init', il, '--data', tinyDataset()]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /--init and --resume cannot be combined/);
    const wider = await ppuuInProcess(['train', 'policy', '--method', 'il', '--preset', 'paper', '--data', tinyDataset(), '--out', join(dir, 'paper'), '--steps', '1', '--init', il]);
    assert.equal(wider.status, 2);
    assert.match(wider.stderr, /field net\.nfeature: the policy to start from has 16, this run's network 256/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
