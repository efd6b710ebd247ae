/**
 * A mistake in what the user gave us (a file, a flag, a row). The CLI prints `message` on one
 * line to stderr and exits with code 2, without a stack trace unless --verbose is set.
 * Compose messages as "FILE:LINE: field NAME: what is wrong" where those parts are known.
 */
export class UserError extends Error {
  override name = 'UserError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

/** Formats a location prefix "file:line: field name: " from the parts that are known. */
export function where(file?: string, line?: number, field?: string): string {
  let s = '';
  if (file !== undefined) s += file;
  if (line !== undefined) s += `:${line}`;
  if (s) s += ': ';
  if (field !== undefined) s += `field ${field}: `;
  return s;
}
