import { type JobRow, listFilter, stateOf, toRecord } from '../sql/rows.js';
import type { JobRecord, JobState, StoredEvent } from '../store.js';
import type { SharedDatabase } from './database.js';
import type { Transitions } from './transitions.js';

/** The store's reads; each runs inside the caller's read transaction (one consistent snapshot). */
export class Reads {
  constructor(
    private readonly sdb: SharedDatabase,
    private readonly t: Transitions,
  ) {}

  isPaused(queue: string): boolean {
    const row = this.sdb.stmt('SELECT paused FROM queues WHERE queue = ?').get(queue) as { paused: number } | undefined;
    return row?.paused === 1;
  }

  /** BullMQ's getRateLimitTtl (see the Store contract); the Redis store answers the same. */
  rateLimitTtl(queue: string, now: number, maxJobs: number): number {
    const row = this.sdb
      .stmt('SELECT rate_limit_until, limiter_window_end, limiter_count, global_max FROM queues WHERE queue = ?')
      .get(queue) as
      | { rate_limit_until: number; limiter_window_end: number; limiter_count: number; global_max: number | null }
      | undefined;
    // BullMQ's one limiter key: a counter living as long as the window; a manual limit fills it.
    let count = 0;
    let ttl = -2;
    if (row && row.rate_limit_until > now) {
      count = Number.POSITIVE_INFINITY;
      ttl = row.rate_limit_until - now;
    } else if (row && row.limiter_count > 0 && row.limiter_window_end > now) {
      count = row.limiter_count;
      ttl = row.limiter_window_end - now;
    }
    const max = maxJobs > 0 ? maxJobs : (row?.global_max ?? 0);
    if (max > 0) return ttl > 0 && count >= max ? ttl : 0;
    return ttl;
  }

  job(queue: string, id: string): JobRecord | undefined {
    const row = this.t.row(queue, id);
    return row ? toRecord(row) : undefined;
  }

  state(queue: string, id: string): JobState | 'unknown' {
    const row = this.sdb.stmt('SELECT state, lane FROM jobs WHERE queue = ? AND id = ?').get(queue, id) as
      | Pick<JobRow, 'state' | 'lane'>
      | undefined;
    return row ? stateOf(row) : 'unknown';
  }

  counts(queue: string, types: string[]): Record<string, number> {
    const byState = this.sdb
      .stmt(
        // Kept by triggers (state-counts.ts). Waiting grouped jobs (sgn -1) are counted per group
        // (getGroupsJobsCount), as in BullMQ Pro.
        'SELECT state, sgn > 0 AS prioritized, n FROM state_counts WHERE queue = ? AND sgn >= 0',
      )
      .all(queue) as { state: string; prioritized: number; n: number }[];
    const count = (state: string, prioritized?: boolean) =>
      byState
        .filter((r) => r.state === state && (prioritized === undefined || !!r.prioritized === prioritized))
        .reduce((sum, r) => sum + r.n, 0);
    const paused = this.isPaused(queue);
    const out: Record<string, number> = {};
    for (const type of types) {
      if (type === 'paused') out[type] = paused ? count('waiting') : 0;
      else {
        const f = listFilter(type);
        out[type] = f ? count(f.state, f.prioritized) : 0;
      }
    }
    return out;
  }

  range(queue: string, types: string[], start: number, end: number, asc: boolean): string[] {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const type of types) {
      const f = type === 'paused' ? { state: 'waiting' } : listFilter(type);
      if (!f) continue;
      const lane = f.prioritized === undefined ? 'AND lane >= 0' : f.prioritized ? 'AND lane > 0' : 'AND lane = 0';
      const dir = asc ? 'ASC' : 'DESC';
      const limit = end < 0 ? -1 : end - start + 1;
      const ids = this.sdb
        .stmt(
          `SELECT id FROM jobs WHERE queue = ? AND state = ? ${lane} ORDER BY lane ${dir}, sort ${dir}, rowid ${dir} LIMIT ? OFFSET ?`,
        )
        .all(queue, f.state, limit, start) as { id: string }[];
      for (const { id } of ids) {
        if (!seen.has(id)) {
          seen.add(id);
          out.push(id);
        }
      }
    }
    return out;
  }

  logs(queue: string, id: string, start: number, end: number, asc: boolean): { logs: string[]; count: number } {
    const limit = end < 0 ? -1 : end - start + 1;
    const rows = this.sdb
      .stmt(`SELECT row FROM logs WHERE queue = ? AND job_id = ? ORDER BY seq ${asc ? 'ASC' : 'DESC'} LIMIT ? OFFSET ?`)
      .all(queue, id, limit, start) as { row: string }[];
    return { logs: rows.map((r) => r.row), count: this.logCount(queue, id) };
  }

  logCount(queue: string, id: string): number {
    return (
      this.sdb.stmt('SELECT count(*) AS n FROM logs WHERE queue = ? AND job_id = ?').get(queue, id) as { n: number }
    ).n;
  }

  globalLimits(queue: string): { concurrency?: number; rateLimit?: { max: number; duration: number } } {
    const row = this.sdb
      .stmt('SELECT concurrency, global_max, global_duration FROM queues WHERE queue = ?')
      .get(queue) as
      | { concurrency: number | null; global_max: number | null; global_duration: number | null }
      | undefined;
    const out: { concurrency?: number; rateLimit?: { max: number; duration: number } } = {};
    if (row?.concurrency != null) out.concurrency = row.concurrency;
    if (row?.global_max != null && row.global_duration != null) {
      out.rateLimit = { max: row.global_max, duration: row.global_duration };
    }
    return out;
  }

  /** Names (without the prefix) of the queues stored under `prefix`, sorted. */
  queueNames(prefix: string): string[] {
    const head = `${prefix}:`;
    const rows = this.sdb
      .stmt('SELECT queue FROM queues WHERE substr(queue, 1, ?) = ? ORDER BY queue')
      .all(head.length, head) as { queue: string }[];
    return rows.map((r) => r.queue.slice(head.length)).filter((name) => name.length > 0 && !name.includes(':'));
  }

  /** Store.countFinishedPerMinute: one range of the state index (a finished job's sort is its finish time). */
  finishedPerMinute(queue: string, type: 'completed' | 'failed', since: number, minutes: number): number[] {
    const rows = this.sdb
      .stmt(
        `SELECT CAST((sort - ?) / 60000 AS INTEGER) AS m, count(*) AS n FROM jobs
         WHERE queue = ? AND state = ? AND lane = 0 AND sort >= ? AND sort < ? GROUP BY m`,
      )
      .all(since, queue, type, since, since + minutes * 60_000) as { m: number; n: number }[];
    return perMinute(rows, minutes);
  }

  lastEventId(queue: string): string {
    const row = this.sdb.stmt('SELECT max(id) AS id FROM events WHERE queue = ?').get(queue) as { id: number | null };
    return String(row.id ?? 0);
  }

  /** Up to 1000 events after `after`, oldest first. */
  eventsAfter(queue: string, after: number): StoredEvent[] {
    const rows = this.sdb
      .stmt('SELECT id, event, fields FROM events WHERE queue = ? AND id > ? ORDER BY id LIMIT 1000')
      .all(queue, after) as { id: number; event: string; fields: string }[];
    return rows.map((r) => ({ ...JSON.parse(r.fields), id: String(r.id), event: r.event }) as StoredEvent);
  }
}

/** Per-minute rows (minute index, count) as one count per minute, zeros where none. */
export function perMinute(rows: { m: number | string; n: number | string }[], minutes: number): number[] {
  const out = new Array<number>(minutes).fill(0);
  for (const r of rows) {
    const m = Number(r.m);
    if (m >= 0 && m < minutes) out[m] += Number(r.n);
  }
  return out;
}
