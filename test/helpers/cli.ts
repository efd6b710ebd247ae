/**
 * Runs the `ppuu` command line in the test's own process (cli/main.ts main(), the function
 * bin/ppuu.js calls), for checks of flag parsing and input errors without starting a process per
 * case. stderr is captured (not shown). stdout is left alone: node's test runner reports on the
 * process's stdout, so what a command prints there cannot be told apart; check a command's
 * stdout through a real process instead.
 */
import { main } from '../../cli/main.js';

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
