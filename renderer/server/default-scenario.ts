/**
 * What `ppuu app` shows when no scenario is named: the newest pipeline run under ./runs (its
 * app.json suite, whose first scenario is the run's best learned policy: cli/commands/pipeline.ts),
 * else the shipped IDM demo with a line saying how to train a policy.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export interface DefaultScenario {
  /** The scenario or suite file to open first. */
  file: string;
  /** The run folder it comes from, or null for the demo. */
  run: string | null;
  /** One line for the user. */
  message: string;
}

/** The newest `RUNS/<name>/app.json` (by modification time), or null. */
export function newestRunSuite(runsDir: string): string | null {
  if (!existsSync(runsDir)) return null;
  let best: { file: string; mtime: number } | null = null;
  for (const name of readdirSync(runsDir)) {
    const file = join(runsDir, name, 'app.json');
    if (!existsSync(file)) continue;
    const mtime = statSync(file).mtimeMs;
    if (!best || mtime > best.mtime) best = { file, mtime };
  }
  return best?.file ?? null;
}

export function defaultScenario(rootDir: string, demoFile: string): DefaultScenario {
  const suite = newestRunSuite(resolve(rootDir, 'runs'));
  if (suite) {
    const run = resolve(suite, '..');
    return { file: suite, run, message: `showing the best learned policy of ${relative(rootDir, run) || run} (${relative(rootDir, suite)}; its other scenarios are the run's other policies and the baselines)` };
  }
  return { file: demoFile, run: null, message: 'no trained policy yet (run `npx ppuu pipeline --preset tiny` first); showing the IDM demo' };
}
