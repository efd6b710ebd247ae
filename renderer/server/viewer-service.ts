/**
 * The plain functions behind both the HTTP viewer server and Electron's IPC: list the scenario
 * files of the scenario folders, name the scenario given on the command line, load a scenario
 * (from a path or a JSON text the page read) into an episode session, and hand out that
 * session's frames in packed chunks. Every answer is an Envelope: user errors (invalid scenario
 * files) come back as their one-line message, never as exceptions.
 */
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { UserError } from '../../common/errors.js';
import type { Envelope } from '../protocol/api.js';
import { encodeMessage } from '../protocol/codec.js';
import type { EpisodeOutcome, FrameChunk, LoadRequest, ScenarioListing, SceneInfo, ViewerFrame } from '../protocol/types.js';
import { loadScenarioFile, parseScenarioText } from '../../scenarios/validate.js';
import type { ScenarioFile } from '../../scenarios/validate.js';
import type { EpisodeSource, EpisodeSourceFactory } from './episode-source.js';
import { controllerChoices, evaluateChoice } from './controller-choices.js';
import type { ResolvedChoice } from './controller-choices.js';

export interface ViewerServiceOptions {
  /** Folders whose *.json files (recursively, 2 levels) are offered in the page's list. */
  scenarioDirs: string[];
  /** The scenario given on the command line (shown first). */
  initialFile?: string | null;
  /** Paths in listings and requests are relative to this folder (default: the working directory). */
  rootDir?: string;
  createSource: EpisodeSourceFactory;
  /** Most sessions kept at once (the oldest is dropped). */
  maxSessions?: number;
  /** Time budget for producing frames in one request, ms (the page asks again for the rest). */
  frameBudgetMs?: number;
  /**
   * Time a load may spend running the episode to its end, ms (default 10 s), so that the page
   * knows the episode's length from the start; a slower run is finished as the page asks for frames.
   */
  lengthBudgetMs?: number;
  /** Scores a controller choice on an episode (default: controller-choices.ts evaluateChoice, sim/'s evaluate). */
  evaluateChoice?: (choice: ResolvedChoice, choiceIndex: number, episode: number) => Promise<EpisodeOutcome>;
}

interface Session {
  id: string;
  source: EpisodeSource;
  choices: ResolvedChoice[];
  episode: number;
}

const ok = <T>(value: T): Envelope<T> => ({ ok: true, value });
const err = (e: unknown): Envelope<never> => {
  if (e instanceof UserError) return { ok: false, error: e.message };
  const msg = (e as Error)?.message ?? String(e);
  return { ok: false, error: `internal error: ${msg.split('\n')[0]}` };
};

export class ViewerService {
  private sessions = new Map<string, Session>();
  /** Outcomes by controller choice and episode, kept across sessions (switching back does not score again). */
  private outcomes = new Map<string, Promise<EpisodeOutcome>>();
  private nextId = 1;
  readonly rootDir: string;

  constructor(private readonly opts: ViewerServiceOptions) {
    this.rootDir = resolve(opts.rootDir ?? process.cwd());
  }

  private display(p: string): string {
    const rel = relative(this.rootDir, resolve(this.rootDir, p));
    return rel.startsWith('..') || isAbsolute(rel) ? resolve(this.rootDir, p) : rel;
  }

  private scenarioFiles(): string[] {
    const out = new Set<string>();
    const walk = (dir: string, depth: number) => {
      let names: string[];
      try {
        names = readdirSync(dir).sort();
      } catch {
        return;
      }
      for (const n of names) {
        const p = join(dir, n);
        let st;
        try {
          st = statSync(p);
        } catch {
          continue;
        }
        if (st.isDirectory() && depth > 0) walk(p, depth - 1);
        else if (st.isFile() && n.endsWith('.json')) out.add(this.display(p));
      }
    };
    for (const d of this.opts.scenarioDirs) walk(resolve(this.rootDir, d), 2);
    if (this.opts.initialFile) out.add(this.display(this.opts.initialFile));
    return [...out];
  }

  listScenarios(): Envelope<ScenarioListing[]> {
    try {
      return ok(
        this.scenarioFiles().map((file) => {
          try {
            const f = loadScenarioFile(resolve(this.rootDir, file), file);
            return { file, name: f.name, kind: f.kind, scenarios: f.scenarios.map((s) => s.name), error: null };
          } catch (e) {
            return { file, name: file, kind: 'scenario' as const, scenarios: [], error: (e as Error).message };
          }
        }),
      );
    } catch (e) {
      return err(e);
    }
  }

  initial(): Envelope<LoadRequest | null> {
    return ok(this.opts.initialFile ? { file: this.display(this.opts.initialFile), scenario: 0, episode: 0 } : null);
  }

  private readRequest(req: LoadRequest): ScenarioFile {
    if (typeof req.text === 'string') {
      // A file the page read itself: relative paths inside it resolve against the root folder.
      return parseScenarioText(req.text, req.name ?? '(opened file)', this.rootDir);
    }
    if (typeof req.file !== 'string' || req.file.length === 0) throw new UserError('load request: give a scenario file or its text');
    if (!req.file.endsWith('.json')) throw new UserError(`${req.file}: a scenario file must be a .json file`);
    return loadScenarioFile(resolve(this.rootDir, req.file), req.file);
  }

  async loadScenario(req: LoadRequest): Promise<Envelope<SceneInfo>> {
    try {
      const file = this.readRequest(req);
      const index = req.scenario ?? 0;
      const scenario = file.scenarios[index];
      if (!scenario) throw new UserError(`${file.file}: has no scenario number ${index} (it has ${file.scenarios.length})`);
      const episode = req.episode ?? 0;
      const { choices, own } = controllerChoices(file, index);
      const controllerIndex = req.controller ?? own;
      const choice = choices[controllerIndex];
      if (!choice) throw new UserError(`${file.file}: scenario '${scenario.name}' offers ${choices.length} controllers; there is no controller number ${controllerIndex}`);
      const source = await this.opts.createSource(choice.scenario, episode);
      // Run the episode to its end (within the budget) so that its length is known from the start.
      const t0 = Date.now();
      const budget = this.opts.lengthBudgetMs ?? 10_000;
      for (let i = 0; source.total === null && Date.now() - t0 < budget; i++) {
        if (!(await source.frame(i))) break;
      }
      const id = `s${this.nextId++}`;
      this.sessions.set(id, { id, source, choices, episode });
      while (this.sessions.size > (this.opts.maxSessions ?? 4)) {
        const oldest = this.sessions.keys().next().value!;
        this.sessions.get(oldest)!.source.dispose?.();
        this.sessions.delete(oldest);
      }
      const d = source.description;
      const display = { ...scenario.display };
      return ok({
        sessionId: id,
        scenario: { name: scenario.name, description: scenario.description, file: file.file, controller: choice.label },
        episodes: d.episodes,
        episodeIndex: episode,
        road: d.road,
        dtS: d.dtS,
        pxPerM: d.pxPerM,
        maxFrames: d.maxFrames,
        length: source.total,
        controllers: choices.map((c) => ({ label: c.label, kind: c.kind, scenarioIndex: c.scenarioIndex })),
        controllerIndex,
        observation: d.observation,
        costNames: d.costNames,
        imagination: d.imagination,
        display,
      });
    } catch (e) {
      return err(e);
    }
  }

  /** Frames [from, from + count) of a session, as a packed FrameChunk (or an error envelope). */
  async frames(sessionId: string, from: number, count: number): Promise<Uint8Array | Envelope<never>> {
    try {
      const s = this.sessions.get(sessionId);
      if (!s) throw new UserError(`no viewer session '${sessionId}' (it was closed; load the scenario again)`);
      if (!Number.isInteger(from) || from < 0 || !Number.isInteger(count) || count < 1) throw new UserError('frames: from must be an integer >= 0 and count >= 1');
      const frames: ViewerFrame[] = [];
      const t0 = Date.now();
      const budget = this.opts.frameBudgetMs ?? 250;
      for (let i = from; i < from + Math.min(count, 512); i++) {
        const f = await s.source.frame(i);
        if (!f) break;
        frames.push(f);
        if (Date.now() - t0 > budget) break;
      }
      const chunk: FrameChunk = { sessionId, from, frames, total: s.source.total, ended: s.source.ended };
      return encodeMessage(chunk);
    } catch (e) {
      return err(e);
    }
  }

  /** The imagined frames of a session's frame `index`, packed as { imagined } (null without a world model or context). */
  async imagine(sessionId: string, index: number): Promise<Uint8Array | Envelope<never>> {
    try {
      const s = this.sessions.get(sessionId);
      if (!s) throw new UserError(`no viewer session '${sessionId}' (it was closed; load the scenario again)`);
      if (!Number.isInteger(index) || index < 0) throw new UserError('imagine: index must be an integer >= 0');
      const imagined = s.source.imagine ? await s.source.imagine(index) : null;
      return encodeMessage({ imagined });
    } catch (e) {
      return err(e);
    }
  }

  /** Controller choice `controller`'s outcome on a session's episode, scored once per choice and episode. */
  async outcome(sessionId: string, controller: number): Promise<Envelope<EpisodeOutcome>> {
    try {
      const s = this.sessions.get(sessionId);
      if (!s) throw new UserError(`no viewer session '${sessionId}' (it was closed; load the scenario again)`);
      const choice = s.choices[controller];
      if (!Number.isInteger(controller) || !choice) throw new UserError(`outcome: controller must be an integer in [0, ${s.choices.length - 1}]`);
      const key = JSON.stringify([choice.scenario, s.episode]);
      let p = this.outcomes.get(key);
      if (!p) {
        p = (this.opts.evaluateChoice ?? evaluateChoice)(choice, controller, s.episode);
        this.outcomes.set(key, p);
        p.catch(() => this.outcomes.delete(key));
      }
      return ok({ ...(await p), controllerIndex: controller });
    } catch (e) {
      return err(e);
    }
  }
}
