/**
 * The `ppuu` command line. Each area registers its sub-commands from its own file in
 * cli/commands/; heavy modules (tfjs, three) are imported inside the actions so that
 * `ppuu --help` stays fast.
 */
import { Command, CommanderError } from 'commander';
import { UserError } from '../common/errors.js';
import { fsErrorMessage } from '../common/fs-errors.js';
import { InvalidFlag } from './output.js';
import { ppuuVersion } from '../data/version.js';
import { registerInfo } from './commands/info.js';
import { registerDataImport } from './commands/data-import.js';
import { registerDataSynth } from './commands/data-synth.js';
import { registerDataRealism } from './commands/data-realism.js';
import { registerEbm } from './commands/ebm.js';
import { registerApp } from './commands/app.js';
import { registerTrainFm } from './commands/train-fm.js';
import { registerEvalFm } from './commands/eval-fm.js';
import { registerDataDump } from './commands/data-dump.js';
import { registerDataStats } from './commands/data-stats.js';
import { registerDataVerify } from './commands/data-verify.js';
import { registerEval } from './commands/eval.js';
import { registerEvalSnapshots } from './commands/eval-snapshots.js';
import { registerSimFidelity } from './commands/sim-fidelity.js';
import { registerPipeline } from './commands/pipeline.js';
import { registerTrainPolicy } from './commands/train-policy.js';
import { registerControllers } from '../policy/register-controllers.js';

/** Returns the sub-command `name` of `parent`, creating it on first use (shared command groups). */
export function group(parent: Command, name: string, description: string): Command {
  const existing = parent.commands.find((c) => c.name() === name);
  if (existing) return existing;
  return parent.command(name).description(description);
}

export function buildProgram(): Command {
  // Every command that drives cars (eval, the app, the pipeline's steps) sees the same controllers.
  registerControllers();
  const program = new Command('ppuu')
    .description('Learn to drive in dense highway traffic from observation (PPUU / MPUR).')
    .version(ppuuVersion().replace(/^ppuu /, ''), '--version', 'print the version of ppuu')
    .option('--verbose', 'print stack traces and extra diagnostics')
    .showHelpAfterError('(run with --help for usage)');
  registerInfo(program);
  registerDataImport(program);
  registerDataSynth(program);
  registerDataRealism(program);
  registerEbm(program);
  registerApp(program);
  registerTrainFm(program);
  registerTrainPolicy(program);
  registerEvalFm(program);
  registerDataDump(program);
  registerDataStats(program);
  registerDataVerify(program);
  registerEval(program);
  registerEvalSnapshots(program);
  registerSimFidelity(program);
  registerPipeline(program);
  return program;
}

function applyExitOverride(cmd: Command): void {
  cmd.exitOverride();
  cmd.configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const c of cmd.commands) applyExitOverride(c);
}

/** Runs the CLI on argv and returns the process exit code (0 ok, 2 user error, 1 internal error). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  applyExitOverride(program);
  const verbose = argv.includes('--verbose');
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version requests end here too, with exit code 0.
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof UserError || e instanceof InvalidFlag) {
      process.stderr.write(`ppuu: ${e.message}\n`);
      if (verbose) process.stderr.write(`${e.stack}\n`);
      return e instanceof UserError ? e.exitCode : 2;
    }
    // Failing to read or write a path the user gave (a read-only --out, a full disk) is their error too.
    const fsMessage = fsErrorMessage(e);
    if (fsMessage) {
      process.stderr.write(`ppuu: ${fsMessage}\n`);
      if (verbose) process.stderr.write(`${(e as Error).stack}\n`);
      return 2;
    }
    const err = e as Error;
    process.stderr.write(`ppuu: internal error: ${err?.message ?? String(e)}\n`);
    process.stderr.write(verbose ? `${err?.stack}\n` : '(run with --verbose for the stack trace)\n');
    return 1;
  }
}
