/**
 * `ppuu pipeline --preset tiny|small|paper`: the main job end to end on the built-in synthetic
 * traffic: generate traffic, dump the episode dataset, train the deterministic forward model,
 * warm-start and train the VAE + dropout model from it, score the model against its baselines,
 * evaluate the built-in controllers, train and evaluate the learned policies (1-step IL, the
 * paper's MPUR, vg-km and mpur-km through the VAE, mpur-km through the logged future) over policy
 * training seeds, and write the paper's table (results.md / .json / .svg / .png) and the app's
 * suite (app.json). Each step is the documented `ppuu` command run as a child process (so a step
 * here behaves exactly as when typed by hand, and prints the same progress); a finished step's
 * JSON result is kept in OUT/steps/ and a re-run skips it, so an interrupted pipeline resumes.
 * The last step writes OUT/report.json with every step's JSON result.
 */
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { writeFileAtomic } from '../../common/atomic.js';
import { UserError } from '../../common/errors.js';
import { INTERRUPT_EXIT_CODE, Interrupted, onAbort, onInterruptSignal, pollInterrupts } from '../../common/interrupt.js';
import { InvalidFlag, parseNumber, printJson, say } from '../output.js';
import { runPool } from '../../common/pool.js';
import { cliEntry } from '../../common/locate.js';
import { resultRow, resultsMarkdown, resultsTable, type EvalSummary, type ResultRow, type ResultsTable } from '../../policy/results.js';
import { resultsPng, resultsSvg } from '../../policy/results-chart.js';

export interface PipelinePreset {
  /** Synthetic slots and recorded minutes per slot. */
  slot: '0400-0415' | 'all';
  minutes: number;
  fmPreset: 'tiny' | 'small' | 'paper';
  /** Updates of the deterministic model, then of the VAE warm-started from it (docs/method.md section 5: 200k + 200k). */
  deterministicSteps: number;
  vaeSteps: number;
  /** Adam learning rates of the two forward-model runs (docs/method.md section 5: 1e-4; the short presets take larger steps). */
  deterministicLr: number;
  vaeLr: number;
  /** Updates of the MPUR policy (through the VAE) and of the 1-step imitation baseline (docs/method.md section 6: up to ~120k). */
  mpurSteps: number;
  ilSteps: number;
  /** Updates of the km policies (docs/method.md section 9): vg-km and mpur-km through the VAE, mpur-km through the logged future. */
  kmSteps: number;
  kmRealSteps: number;
  /** Policy training seeds per learned method (the table's mean and std). */
  policySeeds: number;
  /** MPC through the VAE (policy/mpc.ts): planned steps, Adam iterations, test episodes driven (0: the whole split; planning costs the world model's unroll per car and step). */
  mpcHorizon: number;
  mpcIters: number;
  mpcEpisodes: number;
  /** Windows scored by eval fm; seeds of the controller evaluation. */
  evalWindows: number;
  evalSeeds: number;
}

export const PIPELINE_PRESETS: Record<'tiny' | 'small' | 'paper', PipelinePreset> = {
  // About 13 minutes on a 2-core CPU: the world model beats copy-last; vg-km, mpur-km (through the VAE) and mpur-km-real learn to drive (README).
  tiny: { slot: '0400-0415', minutes: 3, fmPreset: 'tiny', deterministicSteps: 600, vaeSteps: 300, deterministicLr: 2e-3, vaeLr: 1e-3, mpurSteps: 100, ilSteps: 500, kmSteps: 600, kmRealSteps: 600, policySeeds: 1, mpcHorizon: 10, mpcIters: 5, mpcEpisodes: 10, evalWindows: 32, evalSeeds: 1 },
  // Sized for a 2-core CPU within 100 minutes (README): 15 minutes of traffic, the 32-feature world
  // model, 2500 km updates per policy, 3 policy seeds; MPC on the first 40 test episodes.
  small: { slot: '0400-0415', minutes: 15, fmPreset: 'small', deterministicSteps: 2500, vaeSteps: 1500, deterministicLr: 2e-3, vaeLr: 1e-3, mpurSteps: 300, ilSteps: 3000, kmSteps: 2500, kmRealSteps: 2500, policySeeds: 3, mpcHorizon: 10, mpcIters: 5, mpcEpisodes: 40, evalWindows: 128, evalSeeds: 1 },
  // The paper's schedule on all three slots: days on a CPU, meant for a GPU (tensorflow-gpu backend).
  paper: { slot: 'all', minutes: 15, fmPreset: 'paper', deterministicSteps: 200_000, vaeSteps: 200_000, deterministicLr: 1e-4, vaeLr: 1e-4, mpurSteps: 120_000, ilSteps: 120_000, kmSteps: 120_000, kmRealSteps: 120_000, policySeeds: 3, mpcHorizon: 30, mpcIters: 10, mpcEpisodes: 0, evalWindows: 512, evalSeeds: 1 },
};

interface PipelineFlags {
  preset: string;
  out?: string;
  seed: number;
  workers: number;
  backend?: string;
  minutes?: number;
  steps?: number;
  kmSteps?: number;
  policySeeds?: number;
  mpcEpisodes?: number;
  jobs?: number;
  json?: boolean;
}

/** The CLI the steps run: bin/ppuu.js from the sources, the bundled CLI in the portable build. */
const BIN = cliEntry();

/**
 * Runs `ppuu ARGS --json` as a child process; stderr (progress, logs) passes through; returns its
 * JSON. The child runs in its own process group, so a Ctrl-C reaches it once, forwarded from
 * here (common/interrupt.ts): it saves its state and exits with 130, and so does the pipeline.
 */
function runStep(args: string[], quiet: boolean, forwardProgress: boolean, prefix = '', oneCore = false): Promise<unknown> {
  return new Promise((resolve, reject) => {
    // A step prints its JSON on stdout; with forwardProgress it also prints progress lines on stderr (common/progress.ts).
    const env: NodeJS.ProcessEnv = forwardProgress ? { ...process.env, PPUU_PROGRESS: 'lines' } : { ...process.env };
    // Steps run side by side get one core each: no helper threads for the matrix products
    // (worldmodel/kernels/gemm-pool.ts), which would only contend with the other steps.
    if (oneCore && env.PPUU_THREADS === undefined) env.PPUU_THREADS = '1';
    const child = spawn(process.execPath, [BIN, ...args, '--json'], { stdio: ['ignore', 'pipe', quiet ? 'pipe' : 'inherit'], detached: true, env });
    let received: NodeJS.Signals | null = null;
    const release = pollInterrupts('');
    const unlisten = onInterruptSignal((sig) => {
      received = sig;
      child.kill(sig);
    });
    // Stopped at once (a second signal): the child is told the same.
    const forget = onAbort(() => child.kill(received ?? 'SIGTERM'));
    const done = () => {
      release();
      unlisten();
      forget();
    };
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    // Off a terminal the step's progress lines pass through; its error line becomes the pipeline's.
    let partial = '';
    child.stderr?.on('data', (d: Buffer) => {
      const text = d.toString();
      err += text;
      if (!forwardProgress) return;
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      for (const l of lines) if (l !== '' && !l.startsWith('ppuu:')) process.stderr.write(prefix + l + '\n');
    });
    child.on('error', (e) => {
      done();
      reject(e);
    });
    child.on('close', (code, signal) => {
      done();
      if (received !== null || code === INTERRUPT_EXIT_CODE || signal !== null) {
        const sig = received ?? signal ?? 'a signal';
        reject(new Interrupted(sig, `step 'ppuu ${args.slice(0, 2).join(' ')}' stopped; run the same pipeline command again to resume`));
        return;
      }
      if (code !== 0) {
        const line = err.trim().split('\n').filter((l) => l.startsWith('ppuu:')).pop() ?? `exit code ${code}`;
        reject(new UserError(`pipeline step 'ppuu ${args.join(' ')}' failed: ${line.replace(/^ppuu: /, '')}`, code === 2 ? 2 : 1));
        return;
      }
      try {
        resolve(JSON.parse(out));
      } catch {
        reject(new Error(`pipeline step 'ppuu ${args.join(' ')}' printed no JSON`));
      }
    });
  });
}

export function registerPipeline(program: Command): void {
  program
    .command('pipeline')
    .description('run the main job end to end on synthetic I-80 traffic: synth, dump, train fm (deterministic, then VAE), eval fm, train policies (MPUR, IL), eval controllers and policies')
    .option('--preset <name>', 'tiny (minutes) | small (an hour or two) | paper (GPU)', 'tiny')
    .option('--out <dir>', 'working folder: synth/, dataset/, fm-det/, fm-vae/, policy-METHOD/seed-S/, steps/ (finished steps), pipeline.json, results.{md,json,svg,png}, report.json (re-running with the same settings resumes; default runs/<preset>)')
    .option('--seed <n>', 'seed of the traffic, the split and the training', parseNumber('--seed', true, 0), 1)
    .option('--workers <n>', 'worker threads for the dump and data-parallel training (1 or 2)', parseNumber('--workers', true, 1), 2)
    .option('--backend <name>', 'tfjs backend for training and model evaluation')
    .option('--minutes <m>', "recorded minutes of traffic per slot (overrides the preset's)", parseNumber('--minutes', false, 0.1))
    .option('--steps <n>', "training updates of each model (overrides the preset's)", parseNumber('--steps', true, 1))
    .option('--km-steps <n>', "updates of the km policies through the world model, vg-km and mpur-km (overrides the preset's and --steps; tiny: 600, which make them drive; fewer shorten the run: README)", parseNumber('--km-steps', true, 1))
    .option('--mpc-episodes <n>', "test episodes MPC drives (overrides the preset's: 10 tiny, every episode small and paper; 0: every episode)", parseNumber('--mpc-episodes', true, 0))
    .option('--policy-seeds <n>', "policy training seeds per learned method (overrides the preset's: 1 tiny, 3 small and paper)", parseNumber('--policy-seeds', true, 1))
    .option('--jobs <n>', 'steps run at once once the world model is trained (the evaluations, the policies\' trainings, MPC; each uses one core): default the cores, at most 4; 1 runs them one after another (their results are the same)', parseNumber('--jobs', true, 1))
    .option('--json', 'print the final report as one JSON object')
    .action(async (opts: PipelineFlags) => {
      const base = PIPELINE_PRESETS[opts.preset as keyof typeof PIPELINE_PRESETS];
      if (!base) throw new InvalidFlag(`--preset must be tiny, small or paper, got '${opts.preset}'`);
      // Every flag the steps take is checked here, before any step runs.
      if (opts.workers > 2) throw new InvalidFlag(`--workers must be 1 or 2, got ${opts.workers}`);
      if (opts.backend !== undefined && !['tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'].includes(opts.backend)) {
        throw new InvalidFlag(`--backend must be tensorflow-gpu, tensorflow, webgpu, wasm or cpu, got '${opts.backend}'`);
      }
      const preset: PipelinePreset = {
        ...base,
        minutes: opts.minutes ?? base.minutes,
        deterministicSteps: opts.steps ?? base.deterministicSteps,
        vaeSteps: opts.steps ?? base.vaeSteps,
        mpurSteps: opts.steps ?? base.mpurSteps,
        ilSteps: opts.steps ?? base.ilSteps,
        kmSteps: opts.kmSteps ?? opts.steps ?? base.kmSteps,
        kmRealSteps: opts.steps ?? base.kmRealSteps,
        policySeeds: opts.policySeeds ?? base.policySeeds,
        mpcEpisodes: opts.mpcEpisodes ?? base.mpcEpisodes,
      };
      const out = opts.out ?? join('runs', opts.preset);
      const dir = (p: string) => join(out, p);
      const backend = opts.backend ? ['--backend', opts.backend] : [];
      const quiet = Boolean(opts.json) || !process.stderr.isTTY;
      const log = (line: string) => (opts.json ? process.stderr.write(line + '\n') : say(line));
      const steps: Record<string, unknown> = {};
      const seconds: Record<string, number> = {};
      const started = Date.now();
      checkSettings(dir('pipeline.json'), { preset: opts.preset, seed: opts.seed, settings: preset });
      // A finished step leaves its JSON result in OUT/steps/NAME.json; a re-run reads it instead of running the step again.
      const step = async (name: string, args: string[], concurrent = false): Promise<unknown> => {
        const record = join(out, 'steps', `${name}.json`);
        if (existsSync(record)) {
          const had = JSON.parse(readFileSync(record, 'utf8')) as { result: unknown; seconds: number };
          log(`[${name}] already done; skipped`);
          steps[name] = { ...(had.result as object), skipped: true };
          seconds[name] = had.seconds;
          return had.result;
        }
        log(`[${name}] ppuu ${args.join(' ')}`);
        const t0 = Date.now();
        // Steps run side by side pipe their output: progress lines come through prefixed with the step's name.
        const result = concurrent ? await runStep(args, true, !opts.json, `[${name}] `, true) : await runStep(args, quiet, quiet && !opts.json);
        const s = (Date.now() - t0) / 1000;
        steps[name] = result;
        seconds[name] = s;
        mkdirSync(join(out, 'steps'), { recursive: true });
        writeFileAtomic(record, JSON.stringify({ result, seconds: s }) + '\n');
        log(`[${name}] done in ${s.toFixed(1)} s`);
        return result;
      };

      await step('synth', ['data', 'synth', '--slot', preset.slot, '--minutes', String(preset.minutes), '--seed', String(opts.seed), '--out', dir('synth')]);
      await step('dump', ['data', 'dump', '--trajectories', dir('synth'), '--out', dir('dataset'), '--workers', String(opts.workers), '--split-seed', String(opts.seed)]);
      const resume = (folder: string) => (existsSync(join(folder, 'checkpoint')) ? ['--resume'] : []);
      const train = (kind: string, folder: string, n: number, lr: number, extra: string[]) =>
        ['train', 'fm', '--data', dir('dataset'), '--out', folder, '--preset', preset.fmPreset, '--model', kind, '--steps', String(n), '--lr', String(lr), '--seed', String(opts.seed), '--workers', String(opts.workers), ...backend, ...extra, ...resume(folder)];
      await step('train-deterministic', train('deterministic', dir('fm-det'), preset.deterministicSteps, preset.deterministicLr, []));
      await step('train-vae', train('vae', dir('fm-vae'), preset.vaeSteps, preset.vaeLr, existsSync(join(dir('fm-vae'), 'checkpoint')) ? [] : ['--init', dir('fm-det')]));
      await step('eval-fm', ['eval', 'fm', '--model', dir('fm-vae'), '--data', dir('dataset'), '--split', 'val', '--windows', String(preset.evalWindows), '--frames', dir('fm-vae/frames.png'), ...backend]);

      const evalArgs = (policy: string) => ['eval', '--data', dir('dataset'), '--policy', policy, '--seeds', String(preset.evalSeeds), '--no-records'];
      // From here every step reads only the dataset and the VAE: they run --jobs at a time, the
      // longest first; the table is assembled in its own order afterwards.
      const jobCount = opts.jobs ?? Math.min(4, availableParallelism());
      const concurrent = jobCount > 1;
      const jobs: Array<() => Promise<void>> = [];
      const evalsOf = new Map<string, EvalSummary[]>();
      const dirsOf = new Map<string, string[]>();
      const rowsToTrain = policyRows(preset);
      for (const m of [...rowsToTrain].sort((a, b) => b.cost * b.steps - a.cost * a.steps)) {
        evalsOf.set(m.name, []);
        dirsOf.set(m.name, []);
        for (let k = 0; k < preset.policySeeds; k++) {
          const seed = opts.seed + k;
          const folder = dir(join(`policy-${m.name}`, `seed-${seed}`));
          const suffix = preset.policySeeds > 1 ? `-seed-${seed}` : '';
          dirsOf.get(m.name)![k] = folder;
          jobs.push(async () => {
            await step(`train-policy-${m.name}${suffix}`, ['train', 'policy', '--model', dir('fm-vae'), '--data', dir('dataset'), '--out', folder, ...m.args, '--steps', String(m.steps), '--seed', String(seed), ...backend, ...resume(folder)], concurrent);
            evalsOf.get(m.name)![k] = (await step(`eval-${m.name}${suffix}`, evalArgs(folder), concurrent)) as EvalSummary;
          });
        }
      }
      // Planning at run time through the same VAE and km costs (not trained: no seeds).
      const mpcArgs = ['--model', dir('fm-vae'), '--horizon', String(preset.mpcHorizon), '--iters', String(preset.mpcIters), ...(preset.mpcEpisodes > 0 ? ['--limit', String(preset.mpcEpisodes)] : [])];
      let mpcEval: EvalSummary | null = null;
      jobs.push(async () => {
        mpcEval = (await step('eval-mpc', [...evalArgs('mpc'), ...mpcArgs], concurrent)) as EvalSummary;
      });
      const builtin = new Map<string, EvalSummary>();
      for (const c of BUILTIN_ROWS) {
        jobs.push(async () => {
          builtin.set(c.name, (await step(`eval-${c.name}`, evalArgs(c.name), concurrent)) as EvalSummary);
        });
      }
      await runPool(jobs, jobCount);

      const rows: ResultRow[] = BUILTIN_ROWS.map((c) => resultRow(c.name, c.label, false, [], [builtin.get(c.name)!]));
      for (const m of rowsToTrain) {
        const suffix = (k: number) => (preset.policySeeds > 1 ? `-seed-${opts.seed + k}` : '');
        const trainS = dirsOf.get(m.name)!.map((_, k) => seconds[`train-policy-${m.name}${suffix(k)}`] ?? 0);
        rows.push(resultRow(m.name, m.label, true, dirsOf.get(m.name)!, evalsOf.get(m.name)!, trainS));
      }
      rows.push(resultRow('mpc', `MPC-KM, VAE (H ${preset.mpcHorizon}, ${preset.mpcIters} iterations${preset.mpcEpisodes > 0 ? `, first ${preset.mpcEpisodes} test episodes` : ''})`, false, [], [mpcEval!]));
      const episodes = (steps['eval-replay'] as { episodes?: number } | undefined)?.episodes ?? null;
      const table = resultsTable(opts.preset, rows, episodes);
      writeFileAtomic(dir('results.json'), JSON.stringify(table, null, 1) + '\n');
      writeFileAtomic(dir('results.md'), resultsMarkdown(table));
      writeFileAtomic(dir('results.svg'), resultsSvg(table));
      writeFileAtomic(dir('results.png'), resultsPng(table));
      writeFileAtomic(dir(APP_SUITE), JSON.stringify(appSuite(opts.preset, out, table, preset), null, 1) + '\n');

      const report = { preset: opts.preset, settings: preset, out, seconds: (Date.now() - started) / 1000, steps, results: table };
      writeFileAtomic(dir('report.json'), JSON.stringify(report, null, 1) + '\n');
      if (opts.json) return printJson(report);
      say(`pipeline '${opts.preset}' finished in ${report.seconds.toFixed(0)} s; report: ${dir('report.json')}, table: ${dir('results.md')}, chart: ${dir('results.png')}`);
      say(summaryLines(steps, table).join('\n'));
    });
}

/** The suite `ppuu app` opens by default after a run (renderer/server/default-scenario.ts). */
export const APP_SUITE = 'app.json';

/**
 * The app's suite for a finished run: the same test-split episodes driven by the best learned
 * policy first, then every other learned policy (first seed) and the built-in controllers, so
 * the app can switch the bot's controller for one episode; the VAE shows its imagined frames.
 * Paths are relative to the run folder (where the file is written).
 */
function appSuite(presetName: string, out: string, table: ResultsTable, p: PipelinePreset): unknown {
  const rel = (d: string) => relative(out, d) || '.';
  const ordered = [...table.rows.filter((r) => r.learned && r.name === table.best?.name), ...table.rows.filter((r) => r.learned && r.name !== table.best?.name)];
  const base = {
    map: 'i80',
    dataset: { kind: 'episodes', path: 'dataset' },
    ego: { kind: 'split', split: 'test', limit: 20 },
    worldModel: { path: 'fm-vae', horizon: 10, samples: 8 },
    seeds: [0],
    display: { camera: 'follow', showGhost: true, showObservation: true, showImagined: true, playbackSpeed: 1 },
  };
  const scenario = (name: string, description: string, controller: unknown) => ({ name, description, ...base, controller });
  return {
    format: 'ppuu-suite',
    name: `pipeline ${presetName}: the learned policies and the baselines on the test split`,
    description: `Written by ppuu pipeline (${p.minutes} min of synthetic traffic per slot). The first scenario is the best learned policy of the run (results.md).`,
    scenarios: [
      ...ordered.map((r) => scenario(`${r.name}${r.name === table.best?.name ? ' (best)' : ''}`, `${r.label}: success ${r.successPct.mean.toFixed(0)} % on the test split`, { kind: 'policy', path: rel(r.dirs[0]!) })),
      scenario('mpc', `MPC through the world model (H ${p.mpcHorizon}, ${p.mpcIters} iterations)`, { kind: 'mpc', model: 'fm-vae', horizon: p.mpcHorizon, iters: p.mpcIters }),
      scenario('idm', 'IDM car following (built in)', { kind: 'idm' }),
      scenario('no-action', 'no action: keeps speed and heading', { kind: 'no-action' }),
    ],
  };
}

/** The built-in controllers of the table (not trained). */
const BUILTIN_ROWS = [
  { name: 'replay', label: 'human (replay)' },
  { name: 'no-action', label: 'no action' },
  { name: 'idm', label: 'IDM (car following)' },
];

/** The learned methods of the table: `ppuu train policy` flags and updates. */
/**
 * The learned methods of the table: `ppuu train policy` flags and updates, and a rough cost of
 * one update relative to the others (seconds on one core at the tiny preset; it only orders the
 * jobs, longest first).
 */
function policyRows(p: PipelinePreset): Array<{ name: string; label: string; args: string[]; steps: number; cost: number }> {
  return [
    { name: 'il', label: '1-step IL', args: ['--method', 'il'], steps: p.ilSteps, cost: 0.006 },
    { name: 'mpur', label: 'MPUR (paper), VAE', args: ['--method', 'mpur'], steps: p.mpurSteps, cost: 0.24 },
    { name: 'vg-km', label: 'VG-KM (no U), VAE', args: ['--method', 'vg-km'], steps: p.kmSteps, cost: 0.32 },
    { name: 'mpur-km', label: 'MPUR-KM, VAE', args: ['--method', 'mpur-km'], steps: p.kmSteps, cost: 0.57 },
    // The upper bound: the same method through the logged future instead of the model's (its U still reads the VAE).
    { name: 'mpur-km-real', label: 'MPUR-KM, real future', args: ['--method', 'mpur-km', '--future', 'real'], steps: p.kmRealSteps, cost: 0.4 },
  ];
}

/**
 * Resuming is only right for the same settings: the first run records them in OUT/pipeline.json,
 * and a later run with other settings is refused rather than mixing old data with new steps.
 */
function checkSettings(file: string, settings: { preset: string; seed: number; settings: PipelinePreset }): void {
  const want = JSON.stringify(settings);
  if (existsSync(file)) {
    let had: unknown;
    try {
      had = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw new UserError(`${file}: not valid JSON; remove it (or the whole folder) to start the pipeline afresh`);
    }
    if (JSON.stringify(had) !== want) {
      const diff = settingsDiff(had, JSON.parse(want) as unknown);
      throw new UserError(`${dirname(file)} holds a pipeline run with other settings (${file}: ${diff}); use another --out, or remove the folder to start afresh`);
    }
    return;
  }
  // Like data synth, dump and the trainers: an unrelated non-empty folder is not written into.
  const out = dirname(file);
  if (existsSync(out) && readdirSync(out).length > 0) {
    throw new UserError(`${out}: exists, is not empty and holds no pipeline run (no pipeline.json); choose another --out`);
  }
  writeFileAtomic(file, JSON.stringify(settings, null, 1) + '\n');
}

/** The settings that differ between a recorded run and this one, as 'name: recorded -> now' (at most 4). */
export function settingsDiff(had: unknown, now: unknown): string {
  const out: string[] = [];
  const walk = (a: unknown, b: unknown, path: string) => {
    if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
      const ao = a as Record<string, unknown>;
      const bo = b as Record<string, unknown>;
      for (const k of new Set([...Object.keys(ao), ...Object.keys(bo)])) walk(ao[k], bo[k], path ? `${path}.${k}` : k);
    } else if (JSON.stringify(a) !== JSON.stringify(b)) {
      out.push(`${path.replace(/^settings\./, '')}: ${JSON.stringify(a) ?? 'absent'} -> ${JSON.stringify(b) ?? 'absent'}`);
    }
  };
  walk(had, now, '');
  return out.length === 0 ? 'the same values in another order' : out.slice(0, 4).join(', ') + (out.length > 4 ? `, and ${out.length - 4} more` : '');
}

/** A few readable lines from the steps' JSON and the table (the full results are in report.json and results.md). */
function summaryLines(steps: Record<string, unknown>, table: ResultsTable): string[] {
  const lines: string[] = [];
  type Horizon = { horizon: number; image: { model: number; copyLast: number }; state: { model: number; constVelocity: number } };
  const fm = steps['eval-fm'] as { horizons?: Horizon[] } | undefined;
  for (const h of fm?.horizons ?? []) {
    lines.push(
      `world model, ${String(h.horizon).padStart(2)} steps ahead: image MSE ${h.image.model.toFixed(4)} (copy-last ${h.image.copyLast.toFixed(4)}), ` +
        `state MSE ${h.state.model.toFixed(4)} (constant velocity ${h.state.constVelocity.toFixed(4)})`,
    );
  }
  const pm = (m: { mean: number; std: number }, d: number, seeds: number) => (seeds > 1 ? `${m.mean.toFixed(d)} ± ${m.std.toFixed(d)}` : m.mean.toFixed(d));
  for (const r of table.rows) {
    const ms = r.msPerStep === null ? '' : `, ${r.msPerStep.toFixed(r.msPerStep < 10 ? 2 : 0)} ms / step (${(r.carsPerStep ?? 0).toFixed(0)} cars)`;
    const n = r.episodes !== null && r.episodes !== table.episodes ? ` [${r.episodes} episodes]` : '';
    lines.push(`${r.name.padEnd(13)} success ${pm(r.successPct, 1, r.seeds).padStart(12)} %, mean distance ${pm(r.distanceM, 1, r.seeds).padStart(12)} m, collisions ${pm(r.collisionPct, 1, r.seeds)} %, off-road ${pm(r.offRoadPct, 1, r.seeds)} %${ms}${n}`);
  }
  if (table.best) lines.push(`best learned policy: ${table.best.name} (${table.best.dir}); the app shows it: ppuu app`);
  return lines;
}

/** Reads a finished pipeline's report (for tests and scripts). */
export function readPipelineReport(out: string): unknown {
  return JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
}
