import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { UserError } from '../../common/errors.js';
import { writeTrackStore } from '../../data/track-store.js';
import { EpisodeRun } from '../../scenarios/episode-run.js';
import type { EpisodeSnapshot } from '../../scenarios/episode-run.js';
import { planEpisodes } from '../../scenarios/plan.js';
import { loadTraffic } from '../../scenarios/traffic.js';
import { parseScenarioDocument } from '../../scenarios/validate.js';
import type { ResolvedScenario } from '../../scenarios/validate.js';
import { controllerFor } from '../../scenarios/controllers.js';
import { evaluateScenario } from '../../scenarios/evaluate.js';
import { replayState } from '../../sim/replay.js';
import { miniTraffic } from './helpers/mini-traffic.js';
import { tempDir } from '../helpers/temp.js';

let tracks = '';
before(async () => {
  tracks = join(tempDir('ppuu-runner-'), 'tracks');
  await writeTrackStore(tracks, miniTraffic({ durationS: 40, stopper: true }));
});

function scenario(extra: Record<string, unknown> = {}): ResolvedScenario {
  const doc = { name: 't', map: 'i80', dataset: { kind: 'tracks', path: tracks }, ego: { kind: 'split', split: 'all' }, controller: { kind: 'replay' }, ...extra };
  return parseScenarioDocument(doc, 't.json').scenarios[0]!;
}

async function runAll(run: EpisodeRun): Promise<EpisodeSnapshot[]> {
  const out: EpisodeSnapshot[] = [];
  for (let s = await run.next(); s; s = await run.next()) out.push(s);
  return out;
}

test('plan: listed vehicles, splits that partition the cars, limit, window and seeds', async () => {
  const s = scenario();
  const traffic = await loadTraffic(s);
  const allIds = traffic.slots[0]!.data.cars.map((c) => c.id).sort((a, b) => a - b);
  assert.deepEqual(planEpisodes(s, traffic).map((e) => e.vehicleId), allIds);
  const parts = ['train', 'val', 'test'].map((split) => planEpisodes(scenario({ ego: { kind: 'split', split, splitSeed: 3 } }), traffic).map((e) => e.vehicleId));
  assert.deepEqual([...parts.flat()].sort((a, b) => a - b), allIds, 'train + val + test = all, no overlap');
  assert.ok(parts[0]!.length > parts[2]!.length && parts[2]!.length > 0);
  const other = planEpisodes(scenario({ ego: { kind: 'split', split: 'test', splitSeed: 4 } }), traffic).map((e) => e.vehicleId);
  assert.notDeepEqual(other, parts[2], 'the split seed changes the split');
  assert.equal(planEpisodes(scenario({ ego: { kind: 'split', split: 'all', limit: 5 } }), traffic).length, 5);
  const late = planEpisodes(scenario({ startFrame: 200, windowFrames: 100 }), traffic);
  for (const e of late) {
    const f = traffic.slots[0]!.data.car(e.vehicleId)!.firstFrame;
    assert.ok(f >= 200 && f < 300, `car ${e.vehicleId} enters at ${f}`);
  }
  const seeded = planEpisodes(scenario({ ego: { kind: 'vehicles', ids: [3, 9] }, seeds: [0, 1] }), traffic);
  assert.deepEqual(seeded.map((e) => [e.vehicleId, e.seed]), [[3, 0], [3, 1], [9, 0], [9, 1]]);
});

test('plan and controllers refuse what the traffic or the disk lacks, naming the field', async () => {
  const s = scenario({ ego: { kind: 'vehicles', ids: [3, 99999] } });
  await assert.rejects(async () => planEpisodes(s, await loadTraffic(s)), (e: Error) => e instanceof UserError && /t\.json: field \$\.ego\.ids\[1\]: vehicle 99999 is not in the replayed traffic/.test(e.message));
  await assert.rejects(loadTraffic(scenario({ dataset: { kind: 'tracks', path: join(tracks, 'nope') } })), /field \$\.dataset\.path: .*nope does not exist/);
  await assert.rejects(controllerFor(scenario({ controller: { kind: 'policy', path: join(tracks, 'no-policy') } }), 0), /field \$\.controller\.path: policy folder .* does not exist/);
});

test('an episode replays the log until the takeover, then drives; outcome and end match evaluation', async () => {
  // Lane 2 cars (3, 9, 15, ...) run into the stopped car under no-action; others arrive.
  const ids = [3, 9, 14, 20];
  const outcomes = new Set<string>();
  for (const kind of ['replay', 'no-action', 'idm'] as const) {
    const s = scenario({ ego: { kind: 'vehicles', ids }, controller: { kind } });
    const traffic = await loadTraffic(s);
    const data = traffic.slots[0]!.data;
    const report = await evaluateScenario(s);
    assert.equal(report.scenario, 't');
    assert.equal(report.records.length, ids.length);
    for (const [k, planned] of planEpisodes(s, traffic).entries()) {
      const run = await EpisodeRun.create(s, planned, traffic);
      const snaps = await runAll(run);
      const car = data.car(planned.vehicleId)!;
      const rec = report.records[k]!;
      assert.equal(rec.vehicleId, planned.vehicleId);
      assert.equal(run.outcome, rec.outcome, `${kind} car ${planned.vehicleId}`);
      outcomes.add(rec.outcome);
      // Frames are contiguous from the car's first frame to the end frame.
      snaps.forEach((sn, i) => {
        assert.equal(sn.index, i);
        assert.equal(sn.frame, car.firstFrame + i);
        assert.equal(sn.road.ids[sn.road.ego], planned.vehicleId);
      });
      assert.equal(snaps.at(-1)!.frame, rec.endFrame);
      assert.equal(snaps.at(-1)!.phase, 'ended');
      // Before the takeover the ego is exactly at its replayed state.
      const takeover = run.takeoverFrame!;
      assert.equal(takeover, rec.takeoverFrame);
      const pre = snaps[takeover - car.firstFrame - 1]!;
      assert.equal(pre.phase, 'replaying');
      const rs = replayState(car, pre.frame);
      assert.ok(Math.abs(pre.road.x[pre.road.ego]! - rs.xPx) < 1e-3);
      assert.equal(snaps[takeover - car.firstFrame]!.phase, 'driving');
      // Distance driven by the controller, as evaluation measures it.
      const last = snaps.at(-1)!;
      const atTakeover = snaps[takeover - car.firstFrame]!;
      const distM = (last.road.x[last.road.ego]! - atTakeover.road.x[atTakeover.road.ego]!) / (24 / 3.7);
      assert.ok(Math.abs(distM - rec.distanceM) < 0.01, `${kind}: ${distM} vs ${rec.distanceM}`);
      assert.ok(snaps.length <= run.maxFrames);
      assert.equal(last.observation.length, 117 * 24 * 3);
    }
  }
  assert.ok(outcomes.has('collision') && outcomes.has('arrived'), `outcomes seen: ${[...outcomes]}`);
});

test('a car whose log ends before it arrives is replayed, not driven, as evaluation leaves it out', async () => {
  const s = scenario({ ego: { kind: 'vehicles', ids: [61] }, controller: { kind: 'no-action' } });
  const traffic = await loadTraffic(s);
  assert.ok(traffic.slots[0]!.data.car(61), 'the stopper car is id 61');
  const report = await evaluateScenario(s);
  assert.equal(report.records[0]!.outcome, 'incomplete-log');
  const run = await EpisodeRun.create(s, planEpisodes(s, traffic)[0]!, traffic);
  assert.equal(run.takeoverFrame, null);
  const snaps = await runAll(run);
  assert.equal(run.outcome, 'incomplete-log');
  assert.ok(snaps.slice(0, -1).every((x) => x.phase === 'replaying'));
  assert.equal(snaps.at(-1)!.phase, 'ended');
  assert.equal(snaps.length, traffic.slots[0]!.data.car(61)!.n);
});

test('no-action keeps speed and heading; replay follows the log (ghost stays close)', async () => {
  const traffic = await loadTraffic(scenario());
  const planned = planEpisodes(scenario({ ego: { kind: 'vehicles', ids: [8] } }), traffic)[0]!; // lane 1: free
  const noAction = await runAll(await EpisodeRun.create(scenario({ controller: { kind: 'no-action' } }), planned, traffic));
  const driving = noAction.filter((s) => s.phase !== 'replaying');
  const v0 = driving[0]!.road.speed[driving[0]!.road.ego]!;
  for (const s of driving) assert.ok(Math.abs(s.road.speed[s.road.ego]! - v0) < 1e-3);
  const replay = await runAll(await EpisodeRun.create(scenario({ controller: { kind: 'replay' } }), planned, traffic));
  for (const s of replay) {
    if (!s.ghost) continue;
    const dx = s.road.x[s.road.ego]! - s.ghost.x;
    assert.ok(Math.abs(dx) < 2, `replayed car ${dx.toFixed(2)} px from its log at frame ${s.frame}`);
  }
});

test('a split ego picks the cars `ppuu data dump` puts in that split; an episodes dataset gives its own split', { timeout: 60_000 }, async () => {
  const { dumpDataset } = await import('../../sim/io/dump.js');
  const { openDataset } = await import('../../data/dataset.js');
  const root = tempDir('ppuu-split-');
  const small = join(root, 'tracks');
  await writeTrackStore(small, miniTraffic({ durationS: 12, headwayS: 4 }));
  const ds = join(root, 'ds');
  await dumpDataset({ trajectories: small, out: ds, workers: 1, splitSeed: 5 });
  const manifest = openDataset(ds).manifest;
  const fromTracks = (split: string) => ({ name: 's', map: 'i80', dataset: { kind: 'tracks', path: small }, ego: { kind: 'split', split, splitSeed: 5 }, controller: { kind: 'replay' } });
  const fromEpisodes = (split: string) => ({ ...fromTracks(split), dataset: { kind: 'episodes', path: ds } });
  assert.ok(manifest.episodes.some((e) => e.split === 'test'));
  for (const split of ['train', 'val', 'test'] as const) {
    const dumped = manifest.episodes.filter((e) => e.split === split).map((e) => e.vehicleId).sort((a, b) => a - b);
    for (const doc of [fromTracks(split), fromEpisodes(split)]) {
      const s = parseScenarioDocument(doc, 's.json').scenarios[0]!;
      const traffic = await loadTraffic(s);
      let ids: number[] = [];
      try {
        ids = planEpisodes(s, traffic).map((e) => e.vehicleId);
      } catch (e) {
        if (!(e instanceof UserError)) throw e; // an empty split
      }
      assert.deepEqual(ids, dumped, `${doc.dataset.kind} ${split}`);
    }
  }
});
