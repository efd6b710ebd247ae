/** The heads-up display: frame, time, the focused bot's speed and its costs, and the run status. */
import type { SceneInfo, ViewerFrame } from '../protocol/types.js';

const $ = (id: string) => document.getElementById(id)!;

function fmtCost(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(3);
}

/** "i / last" with the episode's last frame, or "i / <= bound" while its length is not known yet. */
export function frameText(index: number, limit: number, known: boolean): string {
  return `${index} / ${known ? '' : '\u2264 '}${limit - 1}`;
}

export class Hud {
  setScene(info: SceneInfo): void {
    const ep = info.episodes[info.episodeIndex];
    const who = info.scenario.controller === info.scenario.name ? info.scenario.name : `${info.scenario.name} - ${info.scenario.controller}`;
    $('hud-title').textContent = `${who}${ep ? ` - ${ep.label}` : ''}`;
  }

  /** The world model's spread for the shown frame (mean image variance over its imagined steps), when known. */
  uncertainty: { index: number; value: number } | null = null;

  /** `limit` is the episode's length when `known`, else the scenario's bound (shown as "<= N"). */
  show(frame: ViewerFrame, info: SceneInfo, limit: number, ended: { atFrame: number; reason: string } | null, known = true): void {
    $('hud-frame').textContent = frameText(frame.index, limit, known);
    $('hud-time').textContent = `${frame.timeS.toFixed(1)} s`;
    const ego = frame.ego;
    $('hud-speed').textContent = ego ? `${((ego.speedPxPerS / info.pxPerM) * 3.6).toFixed(1)} km/h` : '-';
    $('hud-proximity').textContent = fmtCost(ego?.costs.proximity);
    $('hud-lane').textContent = fmtCost(ego?.costs.lane);
    const u = ego?.costs.uncertainty ?? (this.uncertainty && this.uncertainty.index === frame.index ? this.uncertainty.value : undefined);
    $('hud-uncertainty').textContent = u === undefined ? '-' : u.toExponential(2);
    $('hud-status').textContent = ended && frame.index >= ended.atFrame ? `ended: ${ended.reason}` : frame.status;
  }
}
