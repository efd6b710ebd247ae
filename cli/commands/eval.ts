/**
 * `ppuu eval --data DATASET --policy NAME|DIR`: drives one episode per car of a dataset split
 * with a controller, all episodes of a slot in lockstep, over seeds, and reports success rate,
 * mean distance, collision and off-road rates as mean and std over seeds
 * (sim/io/eval-dataset.ts). Built-in policies: replay, no-action, idm; a folder holding a
 * trained policy through the directory loader that policy/register-controllers.ts adds to the
 * controller registry at start-up (cli/main.ts).
 *
 * `eval` is also the group of `ppuu eval fm`; its own flags are parsed here from the arguments so
 * that they never take the flags of its sub-commands.
 */
import { Command } from 'commander';
import { writeFileAtomic } from '../../common/atomic.js';
import { createProgress } from '../../common/progress.js';
import { group } from '../main.js';
import { InvalidFlag, parseNumber, printJson, say } from '../output.js';

interface EvalFlags {
  data?: string;
  scenarios?: string;
  split: string;
  policy?: string;
  seeds: number;
  seed: number;
  out?: string;
  trajectories?: string;
  maxSteps: number;
  limit?: number;
  records: boolean;
  model?: string;
  horizon?: number;
  iters?: number;
  warmStart?: string;
  json?: boolean;
}

const HELP = `
Evaluate a driving policy (when no sub-command is given):
  --scenarios <file>    evaluate a scenario or suite file instead (its own traffic, egos,
                        controller and seeds); one report per scenario
  --data <dir>          episode dataset folder (ppuu data dump)            [required]
  --policy <name|dir>   replay | no-action | idm | mpc, or a trained policy folder [required]
  --model <dir>         mpc: the world model it plans through (ppuu train fm)
  --horizon <n>         mpc: planned steps                                     (default: 10)
  --iters <n>           mpc: Adam iterations per step                          (default: 5)
  --warm-start <dir>    mpc: a trained policy whose action starts a new car's plan
  --split <name>        train | val | test                                   (default: test)
  --seeds <n>           number of seeds; mean and std over them               (default: 1)
  --seed <n>            first seed                                            (default: 0)
  --out <file>          also write the report (with per-episode records) as JSON
  --trajectories <dir>  track stores to replay instead of the dataset's recorded sources
  --max-steps <n>       longest drive per episode, steps of 0.1 s             (default: 2000)
  --limit <n>           evaluate only the first n episodes of the split
  --no-records          leave per-episode records out of the printed JSON
  --json                print the report as one JSON object
Example: ppuu eval --data ds --policy no-action --seeds 3 --json`;

function evalParser(): Command {
  return new Command('ppuu eval')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .option('--data <dir>')
    .option('--scenarios <file>')
    .option('--policy <name>')
    .option('--split <name>', '', 'test')
    .option('--seeds <n>', '', parseNumber('--seeds', true, 1), 1)
    .option('--seed <n>', '', parseNumber('--seed', true, 0), 0)
    .option('--out <file>')
    .option('--trajectories <dir>')
    .option('--max-steps <n>', '', parseNumber('--max-steps', true, 1), 2000)
    .option('--limit <n>', '', parseNumber('--limit', true, 1))
    .option('--no-records')
    .option('--model <dir>')
    .option('--horizon <n>', '', parseNumber('--horizon', true, 1))
    .option('--iters <n>', '', parseNumber('--iters', true, 1))
    .option('--warm-start <dir>')
    .option('--json');
}

/** `ppuu eval --scenarios FILE`: every scenario of a scenario or suite file, one report each. */
async function evalScenarios(file: string, opts: EvalFlags): Promise<void> {
  const { loadScenarioFile } = await import('../../scenarios/validate.js');
  const { evaluateScenario } = await import('../../scenarios/evaluate.js');
  const scenarioFile = loadScenarioFile(file);
  const pct = (m: { mean: number; std: number }) => `${(100 * m.mean).toFixed(1)} +- ${(100 * m.std).toFixed(1)} %`;
  const reports: Awaited<ReturnType<typeof evaluateScenario>>[] = [];
  const n = scenarioFile.scenarios.length;
  // Each scenario's line is printed as soon as it is scored (not all at the end).
  for (const [i, s] of scenarioFile.scenarios.entries()) {
    const bar = createProgress(n > 1 ? `eval ${i + 1}/${n} ${s.name}` : `eval ${s.name}`, 1, { json: opts.json, unit: 'episodes' });
    const r = await evaluateScenario(s, {
      onProgress: (done, total) => {
        bar.setTotal(total);
        bar.update(done);
      },
    });
    bar.stop();
    reports.push(r);
    if (!opts.json) say(`${r.scenario} (${r.controller}, ${r.episodes} episodes): success ${pct(r.successRate)}, distance ${r.meanDistanceM.mean.toFixed(1)} +- ${r.meanDistanceM.std.toFixed(1)} m, collisions ${pct(r.collisionRate)}, off-road ${pct(r.offRoadRate)}`);
  }
  const out = { file, kind: scenarioFile.kind, name: scenarioFile.name, reports };
  if (opts.out) writeFileAtomic(opts.out, JSON.stringify(out, null, 1) + '\n');
  if (opts.json) return printJson(opts.records ? out : { ...out, reports: reports.map((r) => ({ ...r, records: undefined })) });
  if (opts.out) say(`report written to ${opts.out}`);
}

export function registerEval(program: Command): void {
  group(program, 'eval', 'evaluate models')
    .usage('--data <dir> --policy <name|dir> [options]  |  <command> [options]')
    .allowUnknownOption()
    .allowExcessArguments()
    .addHelpText('after', HELP)
    .action(async (_o: unknown, cmd: Command) => {
      const opts = evalParser().parse(cmd.args, { from: 'user' }).opts<EvalFlags>();
      if (opts.scenarios) return evalScenarios(opts.scenarios, opts);
      if (!opts.data) throw new InvalidFlag('ppuu eval needs --data <dir> or --scenarios <file> (or a sub-command; see ppuu eval --help)');
      if (!opts.policy) throw new InvalidFlag('ppuu eval needs --policy <replay|no-action|idm|dir>');
      if (!['train', 'val', 'test'].includes(opts.split)) throw new InvalidFlag(`--split must be train, val or test, got '${opts.split}'`);
      const { resolveController, controllerNames } = await import('../../sim/controllers/registry.js');
      const { evaluateDataset, isDir } = await import('../../sim/io/eval-dataset.js');
          const policy = opts.policy;
      const seeds = Array.from({ length: opts.seeds }, (_, i) => opts.seed + i);
      if (policy !== 'mpc' && (opts.model || opts.horizon || opts.iters || opts.warmStart)) throw new InvalidFlag('--model, --horizon, --iters and --warm-start belong to --policy mpc');
      const params = policy === 'mpc' ? { model: opts.model, horizon: opts.horizon, iters: opts.iters, policy: opts.warmStart } : undefined;
      const first = await resolveController(policy, { seed: seeds[0]!, params }, isDir);
      if (!first) {
        throw new InvalidFlag(`--policy: '${policy}' is neither a built-in policy (${controllerNames().join(', ')}) nor a folder holding a trained policy`);
      }
      const bar = createProgress('eval', 1, { json: opts.json, unit: 'episodes' });
      const report = await evaluateDataset({
        data: opts.data,
        split: opts.split as 'test',
        policyName: policy,
        seeds,
        controllerFor: async (seed) => (seed === seeds[0] ? first : (await resolveController(policy, { seed, params }, isDir))!),
        trajectories: opts.trajectories,
        maxSteps: opts.maxSteps,
        limit: opts.limit,
        onProgress: (done, total) => {
          bar.setTotal(total);
          bar.update(done);
        },
      });
      bar.stop();
      if (opts.out) writeFileAtomic(opts.out, JSON.stringify(report, null, 1) + '\n');
      if (opts.json) return printJson(opts.records ? report : { ...report, records: undefined });
      const pct = (m: { mean: number; std: number }) => `${(100 * m.mean).toFixed(1)} +- ${(100 * m.std).toFixed(1)} %`;
      say(`${policy} on ${report.dataset} (${report.split}, ${report.episodes} episodes, ${seeds.length} seed(s); ${report.tooShort} too short, ${report.incompleteLog} with a cut log left out)`);
      say(`  success ${pct(report.successRate)}, distance ${report.meanDistanceM.mean.toFixed(1)} +- ${report.meanDistanceM.std.toFixed(1)} m, collisions ${pct(report.collisionRate)}, off-road ${pct(report.offRoadRate)}`);
      if (opts.out) say(`  report written to ${opts.out}`);
    });
}
