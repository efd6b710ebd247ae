/**
 * Headless evaluation of a controller (docs/method.md section 7): one episode per car, all episodes of
 * a slot stepped in lockstep (sim/env.ts), repeated over seeds. Metrics per seed: success rate
 * (fraction of episodes that arrive), mean distance driven (m), collision rate and off-road rate,
 * over the episodes that reached the takeover (too-short and incomplete-log ones are counted
 * apart); the report
 * gives each as mean and standard deviation (population, ddof = 0) over seeds.
 */
import type { Controller } from './controllers/controller.js';
import { LockstepEnv, runEnv, type EnvOptions, type EpisodeResult } from './env.js';
import type { ReplayData } from './replay.js';

export interface MeanStd {
  mean: number;
  std: number;
}

export interface SlotEpisodes {
  data: ReplayData;
  /** Vehicle ids to evaluate, and the id of the dataset episode each one comes from. */
  vehicleIds: number[];
  episodeIds?: string[];
}

export interface SeedMetrics {
  seed: number;
  episodes: number;
  successRate: number;
  meanDistanceM: number;
  collisionRate: number;
  offRoadRate: number;
}

export interface EpisodeRecord extends EpisodeResult {
  seed: number;
  slot: string | null;
  episodeId: string | null;
}

/** What the controller cost: its act() calls (one per lockstep step), wall time and cars. */
export interface ControllerTiming {
  calls: number;
  /** Mean wall time of one call (every controlled car of the step in one batch), ms. */
  msPerCall: number;
  meanCarsPerCall: number;
  maxCarsPerCall: number;
  msPerCar: number;
}

export interface EvalReport {
  policy: string;
  seeds: number[];
  episodes: number;
  tooShort: number;
  incompleteLog: number;
  successRate: MeanStd;
  meanDistanceM: MeanStd;
  collisionRate: MeanStd;
  offRoadRate: MeanStd;
  outcomes: Record<string, number>;
  perSeed: SeedMetrics[];
  records: EpisodeRecord[];
  controllerTiming: ControllerTiming;
}

/** The controller with its act() calls timed into `t` (ms, cars). */
function timed(c: Controller, t: { calls: number; ms: number; cars: number; maxCars: number }): Controller {
  return {
    name: c.name,
    async act(batch) {
      const t0 = performance.now();
      const a = await c.act(batch);
      t.ms += performance.now() - t0;
      t.calls += 1;
      t.cars += batch.n;
      t.maxCars = Math.max(t.maxCars, batch.n);
      return a;
    },
  };
}

export function meanStd(values: number[]): MeanStd {
  if (values.length === 0) return { mean: 0, std: 0 };
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const v = values.reduce((s, x) => s + (x - mean) ** 2, 0) / values.length;
  return { mean, std: Math.sqrt(v) };
}

/** Whether an episode was driven by the controller (not too short, log not cut). */
export function isDriven(r: EpisodeResult): boolean {
  return r.outcome !== 'too-short' && r.outcome !== 'incomplete-log';
}

/** Metrics of one seed's episode results (episodes never driven left out). */
export function seedMetrics(seed: number, results: EpisodeResult[]): SeedMetrics {
  const driven = results.filter(isDriven);
  const n = driven.length;
  const frac = (f: (r: EpisodeResult) => boolean) => (n === 0 ? 0 : driven.filter(f).length / n);
  return {
    seed,
    episodes: n,
    successRate: frac((r) => r.success),
    meanDistanceM: n === 0 ? 0 : driven.reduce((s, r) => s + r.distanceM, 0) / n,
    collisionRate: frac((r) => r.outcome === 'collision'),
    offRoadRate: frac((r) => r.outcome === 'offroad'),
  };
}

export interface EvaluateOptions extends EnvOptions {
  seeds: number[];
  /** Makes the controller for one seed. */
  controllerFor: (seed: number) => Controller | Promise<Controller>;
  /** Called after each lockstep step with the episodes finished so far and in all (over seeds). */
  onProgress?: (done: number, total: number) => void;
  /** Name recorded in the report. */
  policyName: string;
}

export async function evaluate(slots: SlotEpisodes[], opts: EvaluateOptions): Promise<EvalReport> {
  const perSeed: SeedMetrics[] = [];
  const records: EpisodeRecord[] = [];
  let tooShort = 0;
  let incompleteLog = 0;
  const total = slots.reduce((n, s) => n + s.vehicleIds.length, 0) * opts.seeds.length;
  let finished = 0;
  const timing = { calls: 0, ms: 0, cars: 0, maxCars: 0 };
  for (const seed of opts.seeds) {
    const controller = timed(await opts.controllerFor(seed), timing);
    const all: EpisodeResult[] = [];
    for (const s of slots) {
      if (s.vehicleIds.length === 0) continue;
      const env = new LockstepEnv(s.data, s.vehicleIds, { ...opts, skipIncompleteLogs: true });
      const before = finished;
      const res = await runEnv(env, controller, () => {
        finished = before + s.vehicleIds.length - env.active().length;
        opts.onProgress?.(finished, total);
      });
      finished = before + s.vehicleIds.length;
      opts.onProgress?.(finished, total);
      res.forEach((r, i) => records.push({ ...r, seed, slot: s.data.slot, episodeId: s.episodeIds?.[i] ?? null }));
      all.push(...res);
    }
    if (seed === opts.seeds[0]) {
      tooShort = all.filter((r) => r.outcome === 'too-short').length;
      incompleteLog = all.filter((r) => r.outcome === 'incomplete-log').length;
    }
    perSeed.push(seedMetrics(seed, all));
  }
  const outcomes: Record<string, number> = {};
  for (const r of records) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
  return {
    policy: opts.policyName,
    seeds: opts.seeds,
    episodes: perSeed[0]?.episodes ?? 0,
    tooShort,
    incompleteLog,
    successRate: meanStd(perSeed.map((m) => m.successRate)),
    meanDistanceM: meanStd(perSeed.map((m) => m.meanDistanceM)),
    collisionRate: meanStd(perSeed.map((m) => m.collisionRate)),
    offRoadRate: meanStd(perSeed.map((m) => m.offRoadRate)),
    outcomes,
    perSeed,
    records,
    controllerTiming: {
      calls: timing.calls,
      msPerCall: timing.calls === 0 ? 0 : timing.ms / timing.calls,
      meanCarsPerCall: timing.calls === 0 ? 0 : timing.cars / timing.calls,
      maxCarsPerCall: timing.maxCars,
      msPerCar: timing.cars === 0 ? 0 : timing.ms / timing.cars,
    },
  };
}
