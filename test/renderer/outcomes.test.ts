/**
 * The app's controller choices for one episode and their side-by-side outcomes: which
 * controllers a scenario offers, loading the same episode under another one, the episode's
 * length known at load, and outcomes equal to what `ppuu eval --scenarios` scores.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTrackStore } from '../../data/track-store.js';
import { ViewerService } from '../../renderer/server/viewer-service.js';
import { createScenarioSource } from '../../renderer/server/scenario-source.js';
import { controllerChoices } from '../../renderer/server/controller-choices.js';
import { decodeMessage } from '../../renderer/protocol/codec.js';
import type { Envelope } from '../../renderer/protocol/api.js';
import type { EpisodeOutcome, FrameChunk, SceneInfo } from '../../renderer/protocol/types.js';
import { evaluateScenario } from '../../scenarios/evaluate.js';
import { loadScenarioFile } from '../../scenarios/validate.js';
import { miniTraffic } from '../scenarios/helpers/mini-traffic.js';

const dir = mkdtempSync(join(tmpdir(), 'ppuu-outcomes-'));
const base = { map: 'i80', dataset: { kind: 'tracks', path: 'tracks' }, ego: { kind: 'vehicles', ids: [3, 8] }, durationFrames: 120 };

before(async () => {
  // A car that stops in lane 2: no-action drives into it, IDM brakes behind it.
  await writeTrackStore(join(dir, 'tracks'), miniTraffic({ durationS: 30, stopper: true }));
  writeFileSync(
    join(dir, 'suite.json'),
    JSON.stringify({
      format: 'ppuu-suite',
      name: 'two controllers',
      scenarios: [
        { name: 'careful', ...base, controller: { kind: 'idm' } },
        { name: 'other cars', ...base, ego: { kind: 'vehicles', ids: [4] }, controller: { kind: 'idm' } },
        { name: 'blind', ...base, controller: { kind: 'no-action' } },
      ],
    }),
  );
  writeFileSync(join(dir, 'wm.json'), JSON.stringify({ name: 'with a model', ...base, controller: { kind: 'idm' }, worldModel: { path: 'fm' } }));
});

test('controller choices: the file\'s scenarios of the same episodes in file order, then IDM / no-action / MPC where missing', () => {
  const suite = loadScenarioFile(join(dir, 'suite.json'));
  const a = controllerChoices(suite, 0);
  assert.deepEqual(a.choices.map((c) => [c.label, c.kind, c.scenarioIndex]), [['careful', 'idm', 0], ['blind', 'no-action', 2]]);
  assert.equal(a.own, 0);
  // The same list, in the same order, from the other member of the group.
  const b = controllerChoices(suite, 2);
  assert.deepEqual(b.choices.map((c) => c.label), ['careful', 'blind']);
  assert.equal(b.own, 1);
  // A scenario of other episodes is its own group, with the missing built-in added.
  assert.deepEqual(controllerChoices(suite, 1).choices.map((c) => [c.label, c.scenarioIndex]), [['other cars', 1], ['no-action', null]]);
  // With a world model, MPC through it is offered.
  const wm = controllerChoices(loadScenarioFile(join(dir, 'wm.json')), 0);
  assert.deepEqual(wm.choices.map((c) => c.kind), ['idm', 'no-action', 'mpc']);
  assert.deepEqual(wm.choices[2]!.scenario.controller, { kind: 'mpc', model: 'fm' });
});

test('outcomes: each controller of an episode scored as ppuu eval scores it; the shown run ends the same; its length is known at load', { timeout: 120_000 }, async () => {
  const service = new ViewerService({ rootDir: dir, scenarioDirs: [], createSource: createScenarioSource });
  const suite = loadScenarioFile(join(dir, 'suite.json'));
  const evalIdm = await evaluateScenario(suite.scenarios[0]!);
  const evalBlind = await evaluateScenario(suite.scenarios[2]!);
  for (const episode of [0, 1]) {
    // The suite's first scenario, driven by its second choice (no-action) for this episode.
    const r = (await service.loadScenario({ file: 'suite.json', scenario: 0, episode, controller: 1 })) as Envelope<SceneInfo>;
    assert.ok(r.ok, JSON.stringify(r));
    const info = r.value;
    assert.equal(info.controllerIndex, 1);
    assert.equal(info.scenario.controller, 'blind');
    assert.deepEqual(info.controllers.map((c) => c.label), ['careful', 'blind']);
    assert.ok(info.length !== null && info.length <= info.maxFrames, `length ${info.length} known at load (bound ${info.maxFrames})`);
    const tail = decodeMessage<FrameChunk>((await service.frames(info.sessionId, info.length! - 1, 8)) as Uint8Array);
    assert.equal(tail.total, info.length);
    const out = async (k: number) => {
      const e = (await service.outcome(info.sessionId, k)) as Envelope<EpisodeOutcome>;
      assert.ok(e.ok, JSON.stringify(e));
      return e.value;
    };
    const idm = await out(0);
    const blind = await out(1);
    for (const [o, rep] of [[idm, evalIdm], [blind, evalBlind]] as const) {
      const rec = rep.records[episode]!;
      assert.equal(o.outcome, rec.outcome);
      assert.equal(o.endFrame, rec.endFrame);
      assert.ok(Math.abs(o.distanceM - rec.distanceM) < 1e-9, `${o.label}: ${o.distanceM} vs ${rec.distanceM}`);
      assert.equal(o.steps, rec.steps);
    }
    // The run on screen (no-action) ends where and how its outcome says.
    assert.equal(tail.ended!.reason, blind.outcome);
    assert.equal(tail.frames.at(-1)!.frameId, blind.endFrame);
  }
  // The stopped car makes the difference visible on at least one episode.
  assert.ok(evalIdm.records.some((r, k) => r.outcome !== evalBlind.records[k]!.outcome || Math.abs(r.distanceM - evalBlind.records[k]!.distanceM) > 1), JSON.stringify([evalIdm.outcomes, evalBlind.outcomes]));
  const r = (await service.loadScenario({ file: 'suite.json' })) as Envelope<SceneInfo>;
  assert.ok(r.ok);
  assert.match(((await service.outcome(r.value.sessionId, 5)) as { error: string }).error, /outcome: controller must be an integer in \[0, 1\]/);
  assert.match(((await service.loadScenario({ file: 'suite.json', controller: 4 })) as { error: string }).error, /offers 2 controllers; there is no controller number 4/);
});

test('an episode slower to simulate than the load budget opens with its length unknown, and learns it as frames come', async () => {
  const service = new ViewerService({ rootDir: dir, scenarioDirs: [], createSource: createScenarioSource, lengthBudgetMs: 0 });
  const r = (await service.loadScenario({ file: 'suite.json' })) as Envelope<SceneInfo>;
  assert.ok(r.ok);
  assert.equal(r.value.length, null);
  let chunk = decodeMessage<FrameChunk>((await service.frames(r.value.sessionId, 0, 512)) as Uint8Array);
  while (chunk.total === null) chunk = decodeMessage<FrameChunk>((await service.frames(r.value.sessionId, chunk.from + chunk.frames.length, 512)) as Uint8Array);
  assert.ok(chunk.total > 0 && chunk.total < r.value.maxFrames);
});
