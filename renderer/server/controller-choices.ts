/**
 * The controllers the app offers for one episode, and each one's outcome on it. Choices: the
 * scenarios of the same file that drive the same episodes (same traffic, egos, seeds, context and
 * duration: a pipeline run's app.json lists its policies, IDM and no-action this way), then IDM
 * and no-action where the file has none, then MPC through the scenario's world model where it has
 * one. An outcome is scored by sim/'s `evaluate` on that one car and seed, with the scenario's
 * environment options (scenarios/episode-run.ts envOptions) and controller (scenarios/controllers.ts),
 * as `ppuu eval --scenarios` scores it.
 */
import type { Controller } from '../../sim/controllers/controller.js';
import { evaluate } from '../../sim/evaluate.js';
import { controllerFor } from '../../scenarios/controllers.js';
import { envOptions } from '../../scenarios/episode-run.js';
import { planEpisodes } from '../../scenarios/plan.js';
import { loadTraffic } from '../../scenarios/traffic.js';
import type { ResolvedScenario, ScenarioFile } from '../../scenarios/validate.js';
import type { ControllerChoice, EpisodeOutcome } from '../protocol/types.js';

export interface ResolvedChoice extends ControllerChoice {
  /** The scenario with this choice's controller (and the folder its paths resolve against). */
  scenario: ResolvedScenario;
}

/** The fields that decide which episodes a scenario runs and how (everything but the controller and the display). */
function episodeKey(s: ResolvedScenario): string {
  return JSON.stringify([s.map, s.slot, s.dataset, s.ego, s.startFrame, s.windowFrames, s.contextFrames, s.durationFrames, s.imageVariant, s.seeds, s.baseDir]);
}

function labelOf(s: ResolvedScenario, file: ScenarioFile): string {
  const c = s.controller;
  if (file.kind === 'suite') return s.name;
  return c.kind === 'policy' ? `policy ${c.path}` : c.kind;
}

/**
 * The choices for scenario `index` of `file`, in a fixed order for every scenario of the same
 * group (the file's scenarios of the same episodes in file order, then the added ones), and
 * which of them is the scenario itself.
 */
export function controllerChoices(file: ScenarioFile, index: number): { choices: ResolvedChoice[]; own: number } {
  const base = file.scenarios[index]!;
  const key = episodeKey(base);
  const out: ResolvedChoice[] = [];
  file.scenarios.forEach((s, i) => {
    if (episodeKey(s) === key) out.push({ label: labelOf(s, file), kind: s.controller.kind, scenarioIndex: i, scenario: s });
  });
  const has = (kind: string) => out.some((c) => c.kind === kind);
  // Added choices take the first scenario of the group as their base, so they are the same from every member.
  const first = out[0]!.scenario;
  const withController = (controller: ResolvedScenario['controller']): ResolvedScenario => ({ ...first, controller });
  if (!has('idm')) out.push({ label: 'idm', kind: 'idm', scenarioIndex: null, scenario: withController({ kind: 'idm' }) });
  if (!has('no-action')) out.push({ label: 'no-action', kind: 'no-action', scenarioIndex: null, scenario: withController({ kind: 'no-action' }) });
  if (!has('mpc') && first.worldModel) {
    out.push({ label: 'mpc (world model)', kind: 'mpc', scenarioIndex: null, scenario: withController({ kind: 'mpc', model: first.worldModel.path }) });
  }
  return { choices: out, own: out.findIndex((c) => c.scenarioIndex === index) };
}

/**
 * The same controller, but each step first lets the event loop run, so that scoring a slow
 * controller (MPC) in the background never holds up the viewer's frame and imagination requests.
 */
function yielding(c: Controller): Controller {
  return {
    name: c.name,
    act: async (batch) => {
      await new Promise<void>((done) => setImmediate(done));
      return c.act(batch);
    },
  };
}

/** Scores `choice` on episode `episode` of its scenario (the plan's car and seed) with sim/'s evaluate. */
export async function evaluateChoice(choice: ResolvedChoice, choiceIndex: number, episode: number): Promise<EpisodeOutcome> {
  const t0 = Date.now();
  const s = choice.scenario;
  const traffic = await loadTraffic(s);
  const planned = planEpisodes(s, traffic)[episode];
  if (!planned) throw new Error(`episode ${episode} is not in the scenario's plan`);
  const t = traffic.slots[planned.slotIndex]!;
  const report = await evaluate(
    [{ data: t.data, vehicleIds: [planned.vehicleId], episodeIds: t.episodeIds ? [t.episodeIds.get(planned.vehicleId) ?? String(planned.vehicleId)] : undefined }],
    { ...envOptions(s, traffic), seeds: [planned.seed], policyName: choice.label, controllerFor: async (seed) => yielding(await controllerFor(s, seed)) },
  );
  const r = report.records[0]!;
  return { controllerIndex: choiceIndex, label: choice.label, outcome: r.outcome, success: r.success, distanceM: r.distanceM, steps: r.steps, endFrame: r.endFrame, ms: Date.now() - t0 };
}
