/** A reader context (data/import/read-context.ts) that collects what a reader reports: its rows (copied, with their line), the byte counts. */
import { RowIssues } from '../../data/import/issues.js';
import type { ReadContext } from '../../data/import/read-context.js';
import type { TrajectoryRow } from '../../data/import/row.js';

export function collectingCtx(file: string, o: { location?: string | null; strict?: boolean } = {}) {
  const rows: (TrajectoryRow & { line: number })[] = [];
  const bytes: number[] = [];
  const ctx: ReadContext = {
    file, issues: new RowIssues(o.strict ?? false), location: o.location ?? null,
    onRow: (r, line) => rows.push({ ...r, line }), onBytes: (b) => bytes.push(b),
    counts: { rowsRead: 0, filteredLocation: 0, locationsSeen: new Set() },
  };
  return { rows, bytes, ctx };
}
