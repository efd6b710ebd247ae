/**
 * Runs the `ppuu` command line in the test's own process (cli/main.ts main(), the function
 * bin/ppuu.js calls), for checks of flag parsing and input errors without starting a process per
 * case. stderr is captured (not shown). stdout is left alone: node's test runner reports on the
 * process's stdout, so what a command prints there cannot be told apart; check a command's
 * stdout through a real process instead. ppuuHelpTexts gives every command's --help text.
 */
import type { Command } from 'commander';
import { buildProgram, main } from '../../cli/main.js';

export interface CliResult {
  status: number;
  stderr: string;
}

export async function ppuuInProcess(args: string[]): Promise<CliResult> {
  const err = process.stderr.write.bind(process.stderr);
  let stderr = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    return { status: await main(['node', 'ppuu', ...args]), stderr };
  } finally {
    process.stderr.write = err;
  }
}

export interface CommandHelp {
  /** The words after `ppuu` ([] for ppuu itself, ['data', 'synth'], ...). */
  path: string[];
  /** What `ppuu PATH --help` prints. */
  help: string;
  /** The flags `--help` lists (as `--name`; `-h, --help` left out), in order. */
  flags: string[];
  /** The defaults the help gives: commander's for its options; for flags in help text added after them, their `(default: X)`. */
  defaults: Map<string, string>;
  /** Whether the command has sub-commands. */
  group: boolean;
}

/**
 * The help of every registered command, as `ppuu PATH --help` prints it, built in process:
 * commander writes it through a writer given here, so the process's stdout is left alone.
 */
export function ppuuHelpTexts(): CommandHelp[] {
  const out: CommandHelp[] = [];
  const walk = (cmd: Command, path: string[]) => {
    let help = '';
    cmd.configureOutput({ writeOut: (s) => (help += s), writeErr: (s) => (help += s) });
    cmd.outputHelp();
    const flags: string[] = [];
    const defaults = new Map<string, string>();
    for (const line of help.split('\n')) {
      const m = /^ {2}(?:-\w, )?(--[a-z][\w-]*)/.exec(line);
      if (!m || m[1] === '--help' || flags.includes(m[1]!)) continue;
      flags.push(m[1]!);
      const d = /\(default: ([^)]+)\)/.exec(line);
      if (d) defaults.set(m[1]!, d[1]!.replace(/^"(.*)"$/, '$1'));
    }
    // Commander's own options: their declared default (a description's "(default: ...)" is prose).
    for (const o of cmd.options) {
      if (!o.long) continue;
      defaults.delete(o.long);
      if (o.defaultValue !== undefined && typeof o.defaultValue !== 'boolean') defaults.set(o.long, String(o.defaultValue));
    }
    out.push({ path, help, flags, defaults, group: cmd.commands.length > 0 });
    for (const c of cmd.commands) walk(c, [...path, c.name()]);
  };
  walk(buildProgram(), []);
  return out;
}
