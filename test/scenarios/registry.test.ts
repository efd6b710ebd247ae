import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeTrackStore } from '../../data/track-store.js';
import { EpisodeRun } from '../../scenarios/episode-run.js';
import { planEpisodes } from '../../scenarios/plan.js';
import { loadTraffic } from '../../scenarios/traffic.js';
import { parseScenarioDocument } from '../../scenarios/validate.js';
import { evaluateScenario } from '../../scenarios/evaluate.js';
import { resolveController } from '../../sim/controllers/registry.js';
import { buildProgram } from '../../cli/main.js';
import { initFmBackend } from '../../worldmodel/fm/setup.js';
import { PolicyNetwork } from '../../policy/network.js';
import { policyNetConfig, policyTrainConfig } from '../../policy/config.js';
import { savePolicy } from '../../policy/checkpoint.js';
import { defaultScenario, newestRunSuite } from '../../renderer/server/default-scenario.js';
import { miniTraffic } from './helpers/mini-traffic.js';
import { tempDir } from '../helpers/temp.js';

const root = tempDir('ppuu-registry-');
const tracks = join(root, 'tracks');
const policyDir = join(root, 'policy');

before(async () => {
  await initFmBackend(undefined, { training: true });
  await writeTrackStore(tracks, miniTraffic({ durationS: 30 }));
  // An untrained tiny policy whose output pushes the car off its log: a constant-ish action far from the expert's.
  const net = policyNetConfig('tiny', 4, 3);
  const policy = PolicyNetwork.create(net, 7);
  const stats = { stateMean: [900, 100, 60, 0], stateStd: [400, 40, 20, 1], actionMean: [0, 0], actionStd: [10, 0.002] };
  await savePolicy(policyDir, policy, {
    kind: 'ppuu-policy', version: 1, preset: 'tiny', net, train: policyTrainConfig('tiny', 'vg-km', { future: 'real' }), forwardModel: null,
    uStats: null, dataset: 'test', seed: 7, steps: 0, paramCount: policy.paramCount(),
  }, stats);
  policy.dispose();
});

test('the CLI start-up registers the policy loader: the same folder resolves for eval and for scenarios', async () => {
  buildProgram();
  const isDir = () => true;
  const ctl = await resolveController(policyDir, { seed: 0 }, isDir);
  assert.ok(ctl, 'a policy folder resolves to a controller');
  assert.match(ctl!.name, /^policy:vg-km:/);
  assert.equal(await resolveController(join(root, 'nothing'), { seed: 0 }, isDir), null);
});

test('a policy scenario drives the same in the app (EpisodeRun) as in eval --scenarios, and the bot leaves its ghost', async () => {
  buildProgram();
  const s = parseScenarioDocument({ name: 'p', map: 'i80', dataset: { kind: 'tracks', path: tracks }, ego: { kind: 'vehicles', ids: [3, 8] }, controller: { kind: 'policy', path: policyDir } }, join(root, 'p.json')).scenarios[0]!;
  const traffic = await loadTraffic(s);
  const report = await evaluateScenario(s);
  for (const [k, planned] of planEpisodes(s, traffic).entries()) {
    const run = await EpisodeRun.create(s, planned, traffic);
    let maxGap = 0;
    let last = null;
    for (let snap = await run.next(); snap; snap = await run.next()) {
      if (snap.ghost && snap.phase === 'driving') maxGap = Math.max(maxGap, Math.hypot(snap.road.x[snap.road.ego]! - snap.ghost.x, snap.road.y[snap.road.ego]! - snap.ghost.y));
      last = snap;
    }
    assert.ok(last);
    assert.equal(run.outcome, report.records[k]!.outcome, `car ${planned.vehicleId}`);
    assert.equal(last!.frame, report.records[k]!.endFrame);
    assert.ok(maxGap > 1, `the policy's car moves away from its logged ghost (largest gap ${maxGap.toFixed(2)} px)`);
  }
});

test('ppuu app without --scenario opens the newest pipeline run, else the demo with a hint', () => {
  const dir = tempDir('ppuu-default-');
  const demo = join(dir, 'demo.json');
  const none = defaultScenario(dir, demo);
  assert.equal(none.file, demo);
  assert.equal(none.run, null);
  assert.match(none.message, /ppuu pipeline --preset tiny/);
  for (const [name, t] of [['old', 1000], ['new', 2000], ['other', 1500]] as const) {
    mkdirSync(join(dir, 'runs', name), { recursive: true });
    writeFileSync(join(dir, 'runs', name, 'app.json'), '{}');
    utimesSync(join(dir, 'runs', name, 'app.json'), t, t);
  }
  mkdirSync(join(dir, 'runs', 'unfinished'));
  assert.equal(newestRunSuite(join(dir, 'runs')), join(dir, 'runs', 'new', 'app.json'));
  const d = defaultScenario(dir, demo);
  assert.equal(d.file, join(dir, 'runs', 'new', 'app.json'));
  assert.equal(d.run, join(dir, 'runs', 'new'));
  assert.match(d.message, /best learned policy of runs\/new/);
});
