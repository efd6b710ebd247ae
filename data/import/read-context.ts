/** What a reader gets for one file: where to send rows, how to report problems and progress. */
import type { RowIssues } from './issues.js';
import type { TrajectoryRow } from './row.js';

export interface ReadContext {
  /** The file as the user named it (used in every message). */
  file: string;
  issues: RowIssues;
  /** Receives each valid row (the object is reused: copy what you keep). */
  onRow(row: TrajectoryRow, line: number): void;
  /** Cumulative bytes of this file read so far. */
  onBytes(bytes: number): void;
  /** Keep only rows whose location column matches this (compared by locationKey); null keeps all. */
  location: string | null;
  /** Counters the reader fills in. */
  counts: { rowsRead: number; filteredLocation: number; locationsSeen: Set<string> };
}
