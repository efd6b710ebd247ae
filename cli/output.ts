/** Output helpers shared by commands: JSON for scripts, plain lines for people. */

/** Prints one JSON document on stdout (the only thing a --json command writes there). */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** Prints a human-readable line on stdout. */
export function say(line: string): void {
  process.stdout.write(line + '\n');
}

/** Parses a numeric flag, naming the flag in the error. */
export function parseNumber(flag: string, integer = false, min?: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || (min !== undefined && n < min)) {
      throw new InvalidFlag(`${flag} must be ${integer ? 'an integer' : 'a number'}${min !== undefined ? ` >= ${min}` : ''}, got '${value}'`);
    }
    return n;
  };
}

export class InvalidFlag extends Error {
  override name = 'InvalidFlag';
}
