/**
 * The episodes a scenario expands to: one per ego car (listed ids, or every car of a split in
 * the scenario's time window) and per seed, in a fixed order (slot, vehicle id, seed), as
 * evaluation runs them. Splits come from an episode dataset's manifest when there is one, else
 * from the rule `ppuu data dump` applies to one store: data/dataset's seeded 80/10/10 split of
 * the episode ids of the cars that have a valid frame (cars without one are in no split).
 */
import { UserError } from '../common/errors.js';
import { splitEpisodes } from '../data/dataset.js';
import { validRange } from '../sim/episode.js';
import type { Traffic } from './traffic.js';
import { scenarioWhere } from './traffic.js';
import type { ResolvedScenario } from './validate.js';

export interface PlannedEpisode {
  slotIndex: number;
  vehicleId: number;
  seed: number;
  label: string;
}

function inWindow(s: ResolvedScenario, firstFrame: number): boolean {
  if (s.startFrame !== null && firstFrame < s.startFrame) return false;
  if (s.windowFrames !== null && firstFrame >= (s.startFrame ?? -Infinity) + s.windowFrames) return false;
  return true;
}

/** Ego vehicle ids per slot, in id order. */
export function egoVehicles(s: ResolvedScenario, traffic: Traffic): Array<{ slotIndex: number; ids: number[] }> {
  const ego = s.ego;
  if (ego.kind === 'vehicles') {
    const out = traffic.slots.map((_, slotIndex) => ({ slotIndex, ids: [] as number[] }));
    ego.ids.forEach((id, k) => {
      const slotIndex = traffic.slots.findIndex((t) => t.data.car(id));
      if (slotIndex < 0) throw new UserError(`${scenarioWhere(s, `.ego.ids[${k}]`)}: vehicle ${id} is not in the replayed traffic (${traffic.source})`);
      out[slotIndex]!.ids.push(id);
    });
    return out.filter((o) => o.ids.length > 0);
  }
  return traffic.slots.map((t, slotIndex) => {
    const all = t.data.cars.filter((c) => inWindow(s, c.firstFrame)).map((c) => c.id);
    let ids: number[];
    if (ego.split === 'all') ids = all;
    else if (t.split) ids = all.filter((id) => t.split!.get(id) === ego.split);
    else {
      // As `ppuu data dump` splits this store alone: over the cars with a valid frame, by episode id.
      const withEpisode = t.data.cars.filter((c) => {
        const [k0, k1] = validRange(t.data, c);
        return k1 > k0;
      });
      const split = splitEpisodes(
        withEpisode.map((c) => t.episodeIdOf(c.id)),
        ego.splitSeed ?? 0,
      );
      ids = all.filter((id) => split.get(t.episodeIdOf(id)) === ego.split);
    }
    ids.sort((a, b) => a - b);
    return { slotIndex, ids };
  });
}

export function planEpisodes(s: ResolvedScenario, traffic: Traffic): PlannedEpisode[] {
  const perSlot = egoVehicles(s, traffic);
  const limit = s.ego.kind === 'split' ? (s.ego.limit ?? Infinity) : Infinity;
  const out: PlannedEpisode[] = [];
  let taken = 0;
  for (const { slotIndex, ids } of perSlot) {
    for (const id of ids) {
      if (taken++ >= limit) break;
      const slot = traffic.slots[slotIndex]!.slot;
      for (const seed of s.seeds) out.push({ slotIndex, vehicleId: id, seed, label: `car ${id}${slot ? ` (${slot})` : ''}${s.seeds.length > 1 ? `, seed ${seed}` : ''}` });
    }
  }
  if (out.length === 0) throw new UserError(`${scenarioWhere(s, '.ego')}: selects no car of the traffic (${traffic.source})`);
  return out;
}
