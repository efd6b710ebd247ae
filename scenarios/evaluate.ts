/**
 * Headless evaluation of scenarios (for `ppuu eval --scenarios FILE`): each scenario's episodes
 * (its ego cars, per slot) are driven by its controller through sim/'s evaluation, with the same
 * environment options the viewer's EpisodeRun uses, so that the app shows exactly the runs that
 * are scored. One report per scenario: success rate, distance, collision and off-road rates as
 * mean and std over the scenario's seeds, with per-episode records.
 */
import { evaluate } from '../sim/evaluate.js';
import type { EvalReport, SlotEpisodes } from '../sim/evaluate.js';
import { controllerFor } from './controllers.js';
import { envOptions } from './episode-run.js';
import { planEpisodes } from './plan.js';
import { loadTraffic } from './traffic.js';
import type { ResolvedScenario, ScenarioFile } from './validate.js';

export interface ScenarioReport extends EvalReport {
  scenario: string;
  file: string;
  /** Index inside its suite, null for a scenario file. */
  index: number | null;
  controller: string;
  traffic: string;
}

export interface ScenarioEvalOptions {
  /** Called as episodes finish: done and total over this scenario and its seeds. */
  onProgress?: (done: number, total: number) => void;
}

export async function evaluateScenario(s: ResolvedScenario, opts: ScenarioEvalOptions = {}): Promise<ScenarioReport> {
  const traffic = await loadTraffic(s);
  const plan = planEpisodes(s, traffic);
  const slots: SlotEpisodes[] = traffic.slots.map((t, slotIndex) => {
    const ids = [...new Set(plan.filter((p) => p.slotIndex === slotIndex).map((p) => p.vehicleId))];
    return { data: t.data, vehicleIds: ids, episodeIds: t.episodeIds ? ids.map((id) => t.episodeIds!.get(id) ?? String(id)) : undefined };
  });
  const report = await evaluate(
    slots.filter((x) => x.vehicleIds.length > 0),
    { ...envOptions(s, traffic), seeds: s.seeds, policyName: s.controller.kind === 'policy' ? s.controller.path : s.controller.kind === 'mpc' ? `mpc:${s.controller.model}` : s.controller.kind, controllerFor: (seed) => controllerFor(s, seed), onProgress: opts.onProgress },
  );
  return { scenario: s.name, file: s.source.file, index: s.source.index, controller: s.controller.kind, traffic: traffic.source, ...report };
}

/** Evaluates every scenario of a scenario or suite file, in order. */
export async function evaluateScenarioFile(file: ScenarioFile, opts: { onScenario?: (index: number, total: number, name: string) => void } & ScenarioEvalOptions = {}): Promise<ScenarioReport[]> {
  const out: ScenarioReport[] = [];
  for (const [i, s] of file.scenarios.entries()) {
    opts.onScenario?.(i, file.scenarios.length, s.name);
    out.push(await evaluateScenario(s, opts));
  }
  return out;
}
