/**
 * Bookkeeping of skipped rows during an import: counts by reason, the first few messages
 * ("FILE:LINE: field NAME: what is wrong") for the summary, and --strict, which turns the
 * first problem into a UserError instead.
 */
import { UserError, where } from '../../common/errors.js';
import { BAD_ROW_REASONS, type BadRowReason } from './row.js';

const MAX_EXAMPLES = 20;

export class RowIssues {
  readonly counts: Record<BadRowReason, number>;
  readonly examples: string[] = [];

  constructor(readonly strict: boolean) {
    this.counts = Object.fromEntries(BAD_ROW_REASONS.map((r) => [r, 0])) as Record<BadRowReason, number>;
  }

  /** Records one skipped row (or throws in strict mode). */
  bad(reason: BadRowReason, file: string, line: number, field: string | undefined, what: string): void {
    const message = `${where(file, line, field)}${what}`;
    if (this.strict) throw new UserError(`${message} (--strict)`);
    this.counts[reason]++;
    if (this.examples.length < MAX_EXAMPLES) this.examples.push(message);
  }

  total(): number {
    return BAD_ROW_REASONS.reduce((s, r) => s + this.counts[r], 0);
  }
}
