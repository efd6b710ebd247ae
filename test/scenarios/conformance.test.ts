/**
 * Conformance of the two ways a scenario is run: every shipped scenario file (scenarios/*.json,
 * scenarios/suites/*.json), each of its scenarios with every controller the registry offers
 * (sim/controllers/registry.ts, filled by policy/register-controllers.ts), goes for a few steps
 * through `ppuu eval --scenarios` (the CLI, in a child process) and through the viewer's scenario
 * source (renderer/server/scenario-source.ts, what the app plays). Both must give the same
 * episodes (cars and seeds) and, per episode, the same takeover frame, end frame, outcome,
 * driven steps and distance. The trained controllers (a policy folder, MPC through a world model)
 * use the untrained tiny checkpoints of test/renderer/helpers/tiny-run.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SCALE_PX_PER_M } from '../../data/layout.js';
import { registerControllers } from '../../policy/register-controllers.js';
import { CAR_FOCUS, type ViewerFrame } from '../../renderer/protocol/types.js';
import { createScenarioSource } from '../../renderer/server/scenario-source.js';
import type { ScenarioReport } from '../../scenarios/evaluate.js';
import { loadScenarioFile } from '../../scenarios/validate.js';
import { controllerNames, directoryLoaderNames } from '../../sim/controllers/registry.js';
import { writeTinyRun } from '../renderer/helpers/tiny-run.js';

/** Driven steps per episode (the scenarios' durationFrames: 4 s) and cars per scenario. */
const STEPS = 40;
const EGOS = 2;

/** A scenario controller for each registered controller name and directory loader (paths relative to the tiny run folder). */
const CONTROLLERS: Record<string, Record<string, unknown>> = {
  replay: { kind: 'replay' },
  'no-action': { kind: 'no-action' },
  idm: { kind: 'idm' },
  mpc: { kind: 'mpc', model: 'fm', horizon: 2, iters: 1 },
  'ppuu-policy': { kind: 'policy', path: 'policy' },
};

function shippedScenarioFiles(): string[] {
  const top = readdirSync('scenarios').filter((f) => f.endsWith('.json')).map((f) => join('scenarios', f));
  const suites = readdirSync(join('scenarios', 'suites')).filter((f) => f.endsWith('.json')).map((f) => join('scenarios', 'suites', f));
  return [...top, ...suites].sort();
}

/** Every shipped scenario with every controller, shortened to STEPS driven steps and EGOS cars; duplicates dropped. */
function conformanceScenarios(files: string[]): Array<Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const file of files) {
    const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const scenarios = doc.format === 'ppuu-suite' ? (doc.scenarios as Array<Record<string, unknown>>) : [doc];
    scenarios.forEach((s, i) => {
      const ego = s.ego as Record<string, unknown>;
      const shortEgo = ego.kind === 'vehicles' ? { ...ego, ids: (ego.ids as number[]).slice(0, EGOS) } : { ...ego, limit: Math.min((ego.limit as number | undefined) ?? EGOS, EGOS) };
      for (const [name, controller] of Object.entries(CONTROLLERS)) {
        const { name: _n, description: _d, display: _s, ...rest } = s;
        const body = { ...rest, ego: shortEgo, durationFrames: STEPS, controller };
        const key = JSON.stringify(body);
        if (!out.has(key)) out.set(key, { name: `${basename(file)}[${i}] ${s.name} / ${name}`, ...body });
      }
    });
  }
  return [...out.values()];
}

/** Every frame of a viewer episode. */
async function viewerFrames(frame: (i: number) => Promise<ViewerFrame | null>): Promise<ViewerFrame[]> {
  const out: ViewerFrame[] = [];
  for (let f = await frame(0); f; f = await frame(out.length)) out.push(f);
  return out;
}

/** The focused car's rear-centre x (px) in a viewer frame (frames carry car centres). */
function egoRearX(f: ViewerFrame): number {
  const c = f.cars;
  const k = c.flags.findIndex((v) => (v & CAR_FOCUS) !== 0);
  return c.xPx[k]! - (c.dirX[k]! * c.lengthPx[k]!) / 2;
}

test('every shipped scenario with every registered controller: ppuu eval --scenarios and the viewer agree on the episodes and their outcomes', { timeout: 180_000 }, async () => {
  const files = shippedScenarioFiles();
  assert.ok(files.includes(join('scenarios', 'demo.json')) && files.length >= 3, `shipped scenario files: ${files.join(', ')}`);
  registerControllers();
  assert.deepEqual([...controllerNames(), ...directoryLoaderNames()].sort(), Object.keys(CONTROLLERS).sort(), 'a controller registered in sim/controllers/registry.ts has no entry in this test');
  // The CLI child and this process compute the trained controllers on the same backend.
  process.env.TFJS_BACKEND ??= 'wasm';
  const run = await writeTinyRun();
  const suite = join(run.dir, 'conformance.json');
  const scenarios = conformanceScenarios(files);
  writeFileSync(suite, JSON.stringify({ format: 'ppuu-suite', name: 'conformance', scenarios }, null, 1));

  const cli = spawnSync(process.execPath, ['bin/ppuu.js', 'eval', '--scenarios', suite, '--json'], {
    encoding: 'utf8',
    env: process.env,
    maxBuffer: 64 * 1024 ** 2,
  });
  assert.equal(cli.status, 0, cli.stderr);
  const reports = (JSON.parse(cli.stdout) as { reports: ScenarioReport[] }).reports;

  const file = loadScenarioFile(suite);
  assert.equal(reports.length, file.scenarios.length);
  const kinds = new Set<string>();
  const outcomes = new Set<string>();
  const driven = new Map<string, number>();
  for (const [i, s] of file.scenarios.entries()) {
    const report = reports[i]!;
    assert.equal(report.scenario, s.name);
    const first = await createScenarioSource(s, 0);
    const episodes = first.description.episodes;
    // The same episodes: the viewer's list (the plan) is the report's records, car and seed.
    const key = (vehicleId: number, seed: number) => `${vehicleId}/${seed}`;
    assert.deepEqual(
      episodes.map((e) => key(e.egoIds[0]!, e.seed)).sort(),
      report.records.map((r) => key(r.vehicleId, r.seed)).sort(),
      `${s.name}: episodes`,
    );
    for (const [e, ep] of episodes.entries()) {
      const rec = report.records.find((r) => r.vehicleId === ep.egoIds[0] && r.seed === ep.seed)!;
      const where = `${s.name}, car ${rec.vehicleId} seed ${rec.seed}`;
      const src = e === 0 ? first : await createScenarioSource(s, e);
      const frames = await viewerFrames((k) => src.frame(k));
      src.dispose?.();
      const last = frames.at(-1)!;
      assert.equal(src.ended?.reason, rec.outcome, `${where}: outcome`);
      assert.equal(last.frameId, rec.endFrame, `${where}: end frame`);
      const start = frames.find((f) => f.status.startsWith('driving'));
      assert.equal(start?.frameId ?? null, rec.takeoverFrame, `${where}: takeover frame`);
      if (start) {
        assert.equal(last.frameId - start.frameId, rec.steps, `${where}: driven steps`);
        assert.ok(rec.steps <= STEPS, `${where}: ${rec.steps} steps`);
        const distanceM = (egoRearX(last) - egoRearX(start)) / SCALE_PX_PER_M;
        assert.ok(Math.abs(distanceM - rec.distanceM) < 0.01, `${where}: distance ${distanceM} m in the viewer, ${rec.distanceM} m in eval`);
        driven.set(s.controller.kind, (driven.get(s.controller.kind) ?? 0) + 1);
      }
      kinds.add(s.controller.kind);
      outcomes.add(rec.outcome);
    }
  }
  assert.deepEqual([...kinds].sort(), ['idm', 'mpc', 'no-action', 'policy', 'replay']);
  for (const k of kinds) assert.ok((driven.get(k) ?? 0) > 0, `no episode was driven by ${k}`);
  // Episodes end at the step limit and by the environment's own rules (a collision, leaving the road).
  assert.ok(outcomes.has('timeout') && outcomes.size >= 2, `outcomes: ${[...outcomes]}`);
});
