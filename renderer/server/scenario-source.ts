/**
 * Episode sources for real scenarios: loads the scenario's traffic, picks the episode, and turns
 * the scenario runner's per-frame snapshots (scenarios/episode-run.ts, rear-centre positions as
 * in sim/) into viewer frames (car centres, the bot flagged, its logged ghost, HUD values).
 */
import { UserError } from '../../common/errors.js';
import { EpisodeRun } from '../../scenarios/episode-run.js';
import type { EpisodeSnapshot } from '../../scenarios/episode-run.js';
import { planEpisodes } from '../../scenarios/plan.js';
import { loadTraffic } from '../../scenarios/traffic.js';
import type { ResolvedScenario } from '../../scenarios/validate.js';
import { COST_NAMES } from '../../sim/costs.js';
import { DT_S, IMAGE_H, IMAGE_W, SCALE_PX_PER_M } from '../../data/layout.js';
import type { CarColumns, ViewerFrame } from '../protocol/types.js';
import { CAR_CONTROLLED, CAR_FOCUS } from '../protocol/types.js';
import type { EpisodeSource } from './episode-source.js';
import { loadImagination } from './imagination.js';
import type { Imagination } from './imagination.js';
import { scenarioPath } from '../../scenarios/paths.js';
import { scenarioWhere } from '../../scenarios/traffic.js';
import { roadDrawing } from './road-drawing.js';

function carColumns(s: EpisodeSnapshot): CarColumns {
  const r = s.road;
  const n = r.n;
  const xPx = new Float32Array(n);
  const yPx = new Float32Array(n);
  const flags = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    // Rear centre -> centre.
    xPx[i] = r.x[i]! + (r.dirX[i]! * r.lengthPx[i]!) / 2;
    yPx[i] = r.y[i]! + (r.dirY[i]! * r.lengthPx[i]!) / 2;
  }
  flags[r.ego] = CAR_CONTROLLED | CAR_FOCUS;
  return { id: r.ids, xPx, yPx, dirX: r.dirX, dirY: r.dirY, lengthPx: r.lengthPx, widthPx: r.widthPx, flags };
}

function ghostColumns(s: EpisodeSnapshot): CarColumns {
  const g = s.phase === 'replaying' ? null : s.ghost;
  const r = s.road;
  const one = (v: number) => (g ? new Float32Array([v]) : new Float32Array(0));
  const L = r.lengthPx[r.ego]!;
  return {
    id: g ? new Int32Array([r.ids[r.ego]!]) : new Int32Array(0),
    xPx: one(g ? g.x + (g.dirX * L) / 2 : 0),
    yPx: one(g ? g.y + (g.dirY * L) / 2 : 0),
    dirX: one(g?.dirX ?? 0),
    dirY: one(g?.dirY ?? 0),
    lengthPx: one(L),
    widthPx: one(r.widthPx[r.ego]!),
    flags: g ? new Uint8Array(1) : new Uint8Array(0),
  };
}

/** Viewer frame of one snapshot. */
export function viewerFrame(s: EpisodeSnapshot, run: EpisodeRun): ViewerFrame {
  const r = s.road;
  const why: Record<string, string> = { 'too-short': 'its log is too short to buffer the context', 'incomplete-log': 'its log ends before it arrives' };
  const status =
    s.phase === 'replaying'
      ? run.notDriven
        ? `replaying its log (not driven: ${why[run.notDriven] ?? run.notDriven})`
        : `replaying its log (context ${run.scenario.contextFrames} frames)`
      : s.phase === 'ended'
        ? `ended: ${run.outcome}`
        : `driving: ${run.scenario.controller.kind}`;
  return {
    index: s.index,
    frameId: s.frame,
    timeS: s.index * DT_S,
    status,
    cars: carColumns(s),
    ghosts: ghostColumns(s),
    ego: { id: r.ids[r.ego]!, speedPxPerS: r.speed[r.ego]!, costs: { ...s.costs } },
    observation: s.observation,
    imagined: null,
  };
}

/** Loaded world models, by checkpoint folder and settings (one per process). */
const imaginations = new Map<string, Promise<Imagination>>();

function imaginationFor(scenario: ResolvedScenario): Promise<Imagination> | null {
  const wm = scenario.worldModel;
  if (!wm) return null;
  const path = scenarioPath(scenario, wm.path);
  const key = JSON.stringify([path, wm.horizon, wm.samples]);
  let p = imaginations.get(key);
  if (!p) {
    p = loadImagination(path, wm.horizon, wm.samples, scenarioWhere(scenario, '.worldModel.path'));
    imaginations.set(key, p);
    p.catch(() => imaginations.delete(key));
  }
  return p;
}

export async function createScenarioSource(scenario: ResolvedScenario, episode: number): Promise<EpisodeSource> {
  const traffic = await loadTraffic(scenario);
  const plan = planEpisodes(scenario, traffic);
  const chosen = plan[episode];
  if (!chosen) throw new UserError(`${scenario.source.file}: scenario '${scenario.name}' has ${plan.length} episodes; there is no episode ${episode}`);
  const run = await EpisodeRun.create(scenario, chosen, traffic);
  const imagination = await imaginationFor(scenario);
  if (imagination && imagination.channels !== run.channels) {
    throw new UserError(`${scenarioWhere(scenario, '.worldModel.path')}: the model sees ${imagination.channels}-channel images but the scenario's observations have ${run.channels} (set "imageVariant")`);
  }
  const frames: ViewerFrame[] = [];
  const egoStates: Float32Array[] = [];
  let total: number | null = null;
  let ended: EpisodeSource['ended'] = null;
  const frame = async (i: number): Promise<ViewerFrame | null> => {
    while (frames.length <= i && total === null) {
      const snap = await run.next();
      if (snap) {
        frames.push(viewerFrame(snap, run));
        egoStates.push(snap.egoState);
      }
      if (!snap || snap.phase === 'ended') {
        total = frames.length;
        ended = { atFrame: total - 1, reason: run.outcome ?? 'end of data' };
      }
    }
    return frames[i] ?? null;
  };
  return {
    description: {
      episodes: plan.map((p) => ({ label: p.label, egoIds: [p.vehicleId], seed: p.seed })),
      road: roadDrawing(traffic.map),
      dtS: DT_S,
      pxPerM: SCALE_PX_PER_M,
      maxFrames: run.maxFrames,
      observation: { heightPx: IMAGE_H, widthPx: IMAGE_W, channels: run.channels },
      costNames: [...COST_NAMES],
      imagination: imagination ? { horizon: imagination.horizon, samples: imagination.samples, contextFrames: imagination.ncond } : null,
    },
    get total() {
      return total;
    },
    get ended() {
      return ended;
    },
    frame,
    imagine: imagination
      ? async (index: number) => {
          // The context ends at `index`; the actions are those the bot took from there on.
          if (index + 1 < imagination.ncond) return null;
          await frame(index + imagination.horizon);
          const actions: Array<[number, number]> = [];
          for (let t = index; t < index + imagination.horizon; t++) {
            const a = run.actionAt(t);
            if (!a) break;
            actions.push(a);
          }
          if (actions.length === 0 || !frames[index]) return null;
          const first = index + 1 - imagination.ncond;
          return imagination.imagine(
            {
              images: frames.slice(first, index + 1).map((f) => f.observation!),
              states: egoStates.slice(first, index + 1),
              actions,
            },
            chosen.seed * 100_003 + index,
          );
        }
      : undefined,
  };
}
