import type { JobRecord, JobState } from '../store.js';

/** A `jobs` table row, as better-sqlite3 and pg return it (PostgreSQL: conn.ts turns bigint into numbers). */
export interface JobRow {
  rowid: number;
  queue: string;
  id: string;
  state: string;
  lane: number;
  sort: number;
  name: string;
  data: string;
  opts: string;
  progress: string;
  timestamp: number;
  delay: number;
  priority: number;
  lifo: number;
  attempts_made: number;
  attempts_started: number;
  stalled_counter: number;
  processed_on: number | null;
  finished_on: number | null;
  returnvalue: string | null;
  failed_reason: string | null;
  stacktrace: string | null;
  processed_by: string | null;
  parent: string | null;
  token: string | null;
  deferred_failure: string | null;
  steps: string | null;
  /** The job's group (issue 22), or null. */
  grp: string | null;
}

export function toRecord(row: JobRow): JobRecord {
  return {
    id: row.id,
    name: row.name,
    data: row.data,
    opts: row.opts,
    progress: row.progress,
    timestamp: row.timestamp,
    delay: row.delay,
    priority: row.priority,
    attemptsMade: row.attempts_made,
    attemptsStarted: row.attempts_started,
    stalledCounter: row.stalled_counter,
    processedOn: row.processed_on ?? undefined,
    finishedOn: row.finished_on ?? undefined,
    returnvalue: row.returnvalue ?? undefined,
    failedReason: row.failed_reason ?? undefined,
    stacktrace: row.stacktrace ?? undefined,
    processedBy: row.processed_by ?? undefined,
    parent: row.parent ?? undefined,
    token: row.token ?? undefined,
    deferredFailure: row.deferred_failure ?? undefined,
    steps: row.steps ?? undefined,
  };
}

/**
 * The columns a fetched job's record needs, in the order `fetchedRecord` reads them. Read in raw
 * (array) mode: better-sqlite3 builds a row object property by property, and for a row this wide
 * that cost more than the UPDATE moving the job.
 */
export const FETCHED_COLUMNS =
  'rowid, id, name, data, opts, progress, timestamp, delay, priority, attempts_made, attempts_started, ' +
  'stalled_counter, finished_on, returnvalue, failed_reason, stacktrace, processed_by, parent, deferred_failure, steps';

/** What a fetch writes into every job it moves to active (see `Transitions.take`). */
export interface FetchStamp {
  token: string;
  processedOn: number;
  processedBy: string | undefined;
}

/**
 * The record of a job a fetch moved to active, from its raw `FETCHED_COLUMNS` row as read before
 * the fetch's UPDATE, with that UPDATE's changes applied (which saves reading the row back).
 */
export function fetchedRecord(r: unknown[], stamp: FetchStamp): JobRecord {
  return {
    id: r[1] as string,
    name: r[2] as string,
    data: r[3] as string,
    opts: r[4] as string,
    progress: r[5] as string,
    timestamp: r[6] as number,
    delay: r[7] as number,
    priority: r[8] as number,
    attemptsMade: r[9] as number,
    attemptsStarted: (r[10] as number) + 1,
    stalledCounter: r[11] as number,
    processedOn: stamp.processedOn,
    finishedOn: (r[12] as number | null) ?? undefined,
    returnvalue: (r[13] as string | null) ?? undefined,
    failedReason: (r[14] as string | null) ?? undefined,
    stacktrace: (r[15] as string | null) ?? undefined,
    processedBy: stamp.processedBy ?? (r[16] as string | null) ?? undefined,
    parent: (r[17] as string | null) ?? undefined,
    token: stamp.token,
    deferredFailure: (r[18] as string | null) ?? undefined,
    steps: (r[19] as string | null) ?? undefined,
  };
}

export function stateOf(row: Pick<JobRow, 'state' | 'lane'>): JobState {
  if (row.state === 'waiting' && row.lane > 0) return 'prioritized';
  return row.state as JobState;
}

/** (state, lane) filter of a list type as getCounts/getRange name it. */
export function listFilter(type: string): { state: string; prioritized?: boolean } | undefined {
  switch (type) {
    case 'wait':
    case 'waiting':
      return { state: 'waiting', prioritized: false };
    case 'prioritized':
      return { state: 'waiting', prioritized: true };
    case 'active':
    case 'delayed':
    case 'completed':
    case 'failed':
    case 'waiting-children':
      return { state: type };
    default:
      return undefined;
  }
}

/** A `queues` table row. */
export interface QueueRow {
  queue: string;
  paused: number;
  next_id: number;
  seq: number;
  rate_limit_until: number;
  limiter_window_end: number;
  limiter_count: number;
  stalled_check_until: number;
  concurrency: number | null;
  global_max: number | null;
  global_duration: number | null;
}
