import type pg from 'pg';
import { type JobRow, toRecord } from '../sql/rows.js';
import type { FetchRequest, FetchResult } from '../store.js';
import { MINUTE_COUNTS_KEPT } from '../types.js';
import { DRAINED_AT_COMMIT, MINUTE_COUNT, TAKE_AT_COMMIT, takeValues } from './transition-sql.js';

type Sql = { sql: string; values: Record<string, string> };

/**
 * The steps of a transaction sent in its commit's round trip with the events (Transitions.flushPending),
 * each a round trip saved: writes held back (`defer`, before the events) and complete's next jobs
 * (`takeAtCommit`, after them). Only for steps nothing later in the transaction depends on, except
 * as `finishing` tells.
 */
export class CommitTail {
  private deferred: Sql[] = [];
  private atCommit?: { queue: string; values: Record<string, string>; into: FetchResult };

  /**
   * Active jobs a held-back write completes: still active in the table until it runs, so the reads
   * of active jobs that may follow in the transaction (global concurrency, `hasWaitingOrActive`)
   * leave them out.
   */
  readonly finishing: number[] = [];

  /** Holds `sql` (simple protocol, as Conn.simple) back until the commit; it completes the active jobs `rowids`. */
  defer(sql: string, values: Record<string, string>, rowids: number[]): void {
    this.deferred.push({ sql, values });
    this.finishing.push(...rowids);
  }

  /**
   * Adds `n` jobs of `kind` ('c' completed, 'f' failed for good, 's' stalled) to the queue's minute of
   * `now` (Store.getMinuteCounts): held back to the commit, no round trip of its own; nothing in the
   * transaction reads the counts.
   */
  countMinute(queue: string, kind: 'c' | 'f' | 's', n: number, now: number): void {
    if (n <= 0) return;
    const minute = Math.floor(now / 60_000);
    const values = { queue, kind, n: String(n), minute: String(minute), oldest: String(minute - MINUTE_COUNTS_KEPT) };
    this.defer(MINUTE_COUNT, values, []);
  }

  /**
   * Takes the next jobs for `req` after the events (TAKE_AT_COMMIT, then DRAINED_AT_COMMIT) and puts
   * them into `into` once that ran, before the transition's caller sees it. Only for a fetch that
   * is a plain take (WorkerPath.complete decides it), as the last step of the transaction.
   */
  takeAtCommit(queue: string, req: FetchRequest, into: FetchResult): void {
    this.atCommit = { queue, values: takeValues(queue, req), into };
  }

  /** The statements to send before and after the events, handed out once. */
  take(): { before: Sql[]; after: Sql[] } {
    const before = this.deferred;
    const after: Sql[] = this.atCommit
      ? [
          { sql: TAKE_AT_COMMIT, values: this.atCommit.values },
          { sql: DRAINED_AT_COMMIT, values: { queue: this.atCommit.queue } },
        ]
      : [];
    this.deferred = [];
    return { before, after };
  }

  /** Hands the jobs `after` took to the fetch result; how many events it wrote, at most. */
  ran(afterResults: pg.QueryResult[]): number {
    const atCommit = this.atCommit;
    this.atCommit = undefined;
    if (!atCommit) return 0;
    const rows = afterResults[0].rows as (JobRow & { rank: number })[];
    rows.sort((a, b) => a.rank - b.rank);
    atCommit.into.jobs = rows.map((row) => toRecord(row));
    return rows.length + 1;
  }
}
