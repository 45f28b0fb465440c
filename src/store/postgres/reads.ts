import { toMinuteCounts } from '../minute-counts.js';
import { type JobRow, listFilter, stateOf, toRecord } from '../sql/rows.js';
import { perMinute } from '../sqlite/reads.js';
import type { JobRecord, JobState, MinuteCount, StoredEvent } from '../store.js';
import type { Conn } from './conn.js';
import type { Transitions } from './transitions.js';

/** The store's reads (mirrors src/store/sqlite/reads.ts). */
export class Reads {
  constructor(
    private readonly db: Conn,
    private readonly t: Transitions,
  ) {}

  async isPaused(queue: string): Promise<boolean> {
    const row = (await this.db.stmt('SELECT paused FROM queues WHERE queue = ?').get(queue)) as
      | { paused: number }
      | undefined;
    return row?.paused === 1;
  }

  /** BullMQ's getRateLimitTtl (see the Store contract); the other stores answer the same. */
  async rateLimitTtl(queue: string, now: number, maxJobs: number): Promise<number> {
    const row = (await this.db
      .stmt('SELECT rate_limit_until, limiter_window_end, limiter_count, global_max FROM queues WHERE queue = ?')
      .get(queue)) as
      | { rate_limit_until: number; limiter_window_end: number; limiter_count: number; global_max: number | null }
      | undefined;
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

  async job(queue: string, id: string): Promise<JobRecord | undefined> {
    const row = await this.t.row(queue, id);
    return row ? toRecord(row) : undefined;
  }

  async state(queue: string, id: string): Promise<JobState | 'unknown'> {
    const row = (await this.db.stmt('SELECT state, lane FROM jobs WHERE queue = ? AND id = ?').get(queue, id)) as
      | Pick<JobRow, 'state' | 'lane'>
      | undefined;
    return row ? stateOf(row) : 'unknown';
  }

  async counts(queue: string, types: string[]): Promise<Record<string, number>> {
    const byState = (await this.db
      .stmt(
        // Kept by triggers (state-counts.ts); grouped waiting jobs (sgn -1) are read per group.
        `SELECT state, sgn > 0 AS prioritized, n, (SELECT paused FROM queues WHERE queue = ?) AS paused
         FROM state_counts WHERE queue = ? AND sgn >= 0`,
      )
      .all(queue, queue)) as { state: string; prioritized: boolean; n: number; paused: number | null }[];
    const count = (state: string, prioritized?: boolean) =>
      byState
        .filter((r) => r.state === state && (prioritized === undefined || r.prioritized === prioritized))
        .reduce((sum, r) => sum + r.n, 0);
    const paused = byState.length > 0 ? byState[0].paused === 1 : false;
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

  async range(queue: string, types: string[], start: number, end: number, asc: boolean): Promise<string[]> {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const type of types) {
      const f = type === 'paused' ? { state: 'waiting' } : listFilter(type);
      if (!f) continue;
      const lane = f.prioritized === undefined ? 'AND lane >= 0' : f.prioritized ? 'AND lane > 0' : 'AND lane = 0';
      const dir = asc ? 'ASC' : 'DESC';
      const limit = end < 0 ? null : Math.max(0, end - start + 1);
      const ids = (await this.db
        .stmt(
          `SELECT id FROM jobs WHERE queue = ? AND state = ? ${lane} ORDER BY lane ${dir}, sort ${dir}, rowid ${dir} LIMIT ? OFFSET ?`,
        )
        .all(queue, f.state, limit, Math.max(0, start))) as { id: string }[];
      for (const { id } of ids) {
        if (!seen.has(id)) {
          seen.add(id);
          out.push(id);
        }
      }
    }
    return out;
  }

  async logs(
    queue: string,
    id: string,
    start: number,
    end: number,
    asc: boolean,
  ): Promise<{ logs: string[]; count: number }> {
    const limit = end < 0 ? null : Math.max(0, end - start + 1);
    const rows = (await this.db
      .stmt(
        `SELECT line FROM logs WHERE queue = ? AND job_id = ? ORDER BY seq ${asc ? 'ASC' : 'DESC'} LIMIT ? OFFSET ?`,
      )
      .all(queue, id, limit, Math.max(0, start))) as { line: string }[];
    return { logs: rows.map((r) => r.line), count: await this.logCount(queue, id) };
  }

  async logCount(queue: string, id: string): Promise<number> {
    return (
      (await this.db.stmt('SELECT count(*) AS n FROM logs WHERE queue = ? AND job_id = ?').get(queue, id)) as {
        n: number;
      }
    ).n;
  }

  async globalLimits(queue: string): Promise<{ concurrency?: number; rateLimit?: { max: number; duration: number } }> {
    const row = (await this.db
      .stmt('SELECT concurrency, global_max, global_duration FROM queues WHERE queue = ?')
      .get(queue)) as
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
  async queueNames(prefix: string): Promise<string[]> {
    const head = `${prefix}:`;
    const rows = (await this.db
      .stmt('SELECT queue FROM queues WHERE substr(queue, 1, ?) = ? ORDER BY queue COLLATE "C"')
      .all(head.length, head)) as { queue: string }[];
    return rows.map((r) => r.queue.slice(head.length)).filter((name) => name.length > 0 && !name.includes(':'));
  }

  /** Store.countFinishedPerMinute: one range of the state index (a finished job's sort is its finish time). */
  async finishedPerMinute(queue: string, type: 'completed' | 'failed', since: number, minutes: number) {
    const rows = (await this.db
      .stmt(
        `SELECT floor((sort - ?::double precision) / 60000)::int AS m, count(*)::int AS n FROM jobs
         WHERE queue = ? AND state = ? AND lane = 0 AND sort >= ? AND sort < ? GROUP BY m`,
      )
      .all(since, queue, type, since, since + minutes * 60_000)) as { m: number; n: number }[];
    return perMinute(rows, minutes);
  }

  /** Store.getMinuteCounts: the queue's rows of minute_counts from `sinceMinute`. */
  async minuteCounts(queue: string, sinceMinute: number): Promise<MinuteCount[]> {
    const rows = (await this.db
      .stmt('SELECT minute, kind, n FROM minute_counts WHERE queue = ? AND minute >= ?')
      .all(queue, sinceMinute)) as { minute: number; kind: string; n: number }[];
    return toMinuteCounts(rows, sinceMinute);
  }

  async lastEventId(queue: string): Promise<string> {
    const row = (await this.db.stmt('SELECT max(id) AS id FROM events WHERE queue = ?').get(queue)) as {
      id: number | null;
    };
    return String(row.id ?? 0);
  }

  /**
   * The events of up to 1000 rows after `after`, oldest first. A `batch` row (functions.ts: one row
   * per call for its many events, as Redis keeps one stream entry per script call) holds
   * `[[event, fields], …]`; its events share the row's id.
   */
  async eventsAfter(queue: string, after: number): Promise<StoredEvent[]> {
    const rows = (await this.db
      .stmt('SELECT id, event, fields FROM events WHERE queue = ? AND id > ? ORDER BY id LIMIT 1000')
      .all(queue, after)) as { id: number; event: string; fields: string }[];
    const events: StoredEvent[] = [];
    for (const r of rows) {
      const id = String(r.id);
      if (r.event !== 'batch') events.push({ ...JSON.parse(r.fields), id, event: r.event });
      else
        for (const [event, fields] of JSON.parse(r.fields) as [string, object][]) events.push({ ...fields, id, event });
    }
    return events;
  }
}
