/**
 * The side-by-side table of the shown episode's outcome under each controller the scenario offers
 * (SceneInfo.controllers): one row per controller, filled as the Node side finishes scoring each
 * one (ViewerApi.outcome, sim/'s evaluate as in `ppuu eval`), the controller on screen first and
 * highlighted. One request at a time; a newer episode or controller stops the old round.
 */
import type { EpisodeOutcome, SceneInfo, ViewerApi } from '../protocol/types.js';

const OUTCOME_WORDS: Record<string, string> = {
  arrived: 'arrived',
  collision: 'collided',
  offroad: 'off-road',
  timeout: 'timed out',
  'end-of-data': 'end of data',
  'too-short': 'not driven (log too short)',
  'incomplete-log': 'not driven (log ends early)',
};

export function outcomeWords(outcome: string): string {
  return OUTCOME_WORDS[outcome] ?? outcome;
}

export class OutcomeTable {
  private round = 0;
  /** Outcomes known for the scene on screen, by controller index (tests read them). */
  readonly known = new Map<number, EpisodeOutcome>();

  constructor(private readonly body: HTMLElement) {}

  private row(info: SceneInfo, k: number): HTMLTableRowElement {
    return this.body.querySelector(`tr[data-controller="${k}"]`) ?? this.body.appendChild(document.createElement('tr'));
  }

  /** Lists the scene's controllers (pending) and scores them one after the other, the shown one first. */
  async fill(info: SceneInfo, api: Pick<ViewerApi, 'outcome'>, onError: (msg: string) => void): Promise<void> {
    const round = ++this.round;
    this.known.clear();
    this.body.replaceChildren(
      ...info.controllers.map((c, k) => {
        const tr = document.createElement('tr');
        tr.dataset.controller = String(k);
        tr.className = `pending${k === info.controllerIndex ? ' shown' : ''}`;
        for (const text of [c.label, 'scoring\u2026', '', '']) tr.appendChild(document.createElement('td')).textContent = text;
        return tr;
      }),
    );
    const order = [info.controllerIndex, ...info.controllers.map((_, k) => k).filter((k) => k !== info.controllerIndex)];
    for (const k of order) {
      if (round !== this.round) return;
      let o: EpisodeOutcome;
      try {
        o = await api.outcome(info.sessionId, k);
      } catch (e) {
        if (round !== this.round) return;
        const tds = this.row(info, k).querySelectorAll('td');
        tds[1]!.textContent = 'could not score';
        tds[1]!.title = (e as Error).message;
        onError((e as Error).message);
        continue;
      }
      if (round !== this.round) return;
      this.known.set(k, o);
      const tr = this.row(info, k);
      tr.classList.remove('pending');
      const tds = tr.querySelectorAll('td');
      tds[1]!.textContent = outcomeWords(o.outcome);
      tds[1]!.className = o.outcome;
      tds[2]!.textContent = `${o.distanceM.toFixed(0)} m`;
      tds[3]!.textContent = String(o.steps);
      tr.title = `scored in ${(o.ms / 1000).toFixed(1)} s; ended at data frame ${o.endFrame}`;
    }
  }
}
