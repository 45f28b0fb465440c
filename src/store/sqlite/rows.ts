import type { JobRecord, JobState } from '../store.js';

/** A `jobs` table row as better-sqlite3 returns it. */
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
