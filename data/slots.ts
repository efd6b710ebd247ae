/**
 * NGSIM recording slots and the per-slot black lists of I-80 vehicles with known tracking or
 * kinematic errors (docs/method.md section 1, from the reference implementation), plus the rules that
 * find a slot and a map from a file name or a location string.
 */
import type { MapName } from './tracks.js';

export const I80_SLOTS = ['0400-0415', '0500-0515', '0515-0530'] as const;
export type I80Slot = (typeof I80_SLOTS)[number];
export const US101_SLOTS = ['0750-0805', '0805-0820', '0820-0835'] as const;

const I80_BLACK_LIST: Record<I80Slot, readonly number[]> = {
  '0400-0415': [1628, 2089, 2834, 2818, 2874, 1383, 1430, 1456, 1589, 1913],
  '0500-0515': [
    537, 1119, 1261, 1215, 1288, 1381, 1382, 1348, 2512, 2462, 2442, 2427, 2407, 2486, 2296, 2552, 2500, 2616, 2555, 2586, 2669,
    876, 882, 953, 1290, 1574, 2053, 2054, 2134, 2332, 2117, 2301, 2488, 2519, 2421, 2788,
  ],
  '0515-0530': [
    269, 567, 722, 790, 860, 1603, 1651, 1734, 1762, 1800, 1722, 1878, 2056, 2075, 2258, 2252, 2285, 2362, 3004, 401, 510, 682, 680,
    815, 827, 1675, 1780, 1751, 1831, 2200, 2080, 2119, 2170, 2369, 2480, 1797,
  ],
};

export function isI80Slot(slot: string | null | undefined): slot is I80Slot {
  return (I80_SLOTS as readonly string[]).includes(slot ?? '');
}

/** The black-listed vehicle ids of one map and slot (empty where none are known). */
export function blackList(map: MapName, slot: string | null): ReadonlySet<number> {
  return map === 'i80' && isI80Slot(slot) ? new Set(I80_BLACK_LIST[slot]) : new Set();
}

/**
 * Finds a slot in a file name: 'trajectories-0400-0415.txt' -> '0400-0415',
 * 'trajectories-0750am-0805am.txt' -> '0750-0805'. Null when there is none.
 */
export function slotFromFileName(path: string): string | null {
  const base = path.split(/[\\/]/).pop() ?? '';
  const m = /(\d{4})(?:am|pm)?-(\d{4})(?:am|pm)?/i.exec(base);
  return m ? `${m[1]}-${m[2]}` : null;
}

/** The map a slot belongs to, where it identifies one. */
export function mapFromSlot(slot: string | null): MapName | null {
  if (isI80Slot(slot)) return 'i80';
  if ((US101_SLOTS as readonly string[]).includes(slot ?? '')) return 'us101';
  return null;
}

/** Normalises a location name ('I-80', 'i80', 'us-101', 'Peachtree') to a map name. */
export function mapFromLocation(location: string): MapName {
  const key = location.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (key === 'i80') return 'i80';
  if (key === 'us101') return 'us101';
  if (key === 'peachtree') return 'peachtree';
  return 'unknown';
}

/** The key used to compare location strings ('I-80' and 'i80' are the same place). */
export function locationKey(location: string): string {
  return location.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/**
 * UTC offset (hours) of the local clock at each NGSIM site on its recording day, used to find
 * the slot of a row from its Global_Time (ms since the epoch): the California sites were
 * recorded in daylight time (UTC-7), Peachtree (Atlanta, November 2006) in standard time (UTC-5).
 */
export function utcOffsetHours(map: MapName | string): number {
  return map === 'peachtree' ? -5 : -7;
}

/** Local clock of the known slots, 24-hour (NGSIM names I-80 slots without their "pm"). */
const SLOT_CLOCK: Record<string, string> = {
  '0400-0415': '1600-1615', '0500-0515': '1700-1715', '0515-0530': '1715-1730',
  '0750-0805': '0750-0805', '0805-0820': '0805-0820', '0820-0835': '0820-0835',
};

/** The known slots of a map (empty for others). */
export function slotsOf(map: MapName): readonly string[] {
  return map === 'i80' ? I80_SLOTS : map === 'us101' ? US101_SLOTS : [];
}

/**
 * Whether a clock time falls in a slot 'HHMM-HHMM'. Known I-80 and US-101 slot names are read
 * on their real (24-hour) clock; other names match either am or pm. `globalTimeMs` is ms since
 * the epoch, `offsetHours` the site's UTC offset.
 */
export function inSlot(globalTimeMs: number, slot: string, offsetHours: number): boolean {
  const clock = SLOT_CLOCK[slot];
  const m = /^(\d{2})(\d{2})-(\d{2})(\d{2})$/.exec(clock ?? slot);
  if (!m) return false;
  const period = clock ? 1440 : 720;
  const from = ((Number(m[1]) * 60) % period) + Number(m[2]);
  let to = ((Number(m[3]) * 60) % period) + Number(m[4]);
  if (to <= from) to += period;
  const minute = ((((globalTimeMs / 60000 + offsetHours * 60) % 1440) + 1440) % 1440) % period;
  return (minute >= from && minute < to) || (minute + period >= from && minute + period < to);
}
