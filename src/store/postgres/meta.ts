import { EVENTS_MAX_LEN, LIBRARY_VERSION } from '../../version.js';
import type { MetaStore, QueueMeta } from '../meta.js';
import type { Session } from './session.js';

interface LimitsRow {
  paused: number;
  concurrency: number | null;
  global_max: number | null;
  global_duration: number | null;
  max_events: number | null;
  rate_limit_until: number;
  limiter_window_end: number;
  limiter_count: number;
}

const LIMITS = `SELECT paused, concurrency, global_max, global_duration, max_events, rate_limit_until, limiter_window_end,
  limiter_count FROM queues WHERE queue = ?`;

/**
 * The meta facet on PostgreSQL, as on SQLite (src/store/sqlite/meta.ts): the schema carries one
 * version as a whole, so a queue reports this Docket's version once a Queue opened it.
 */
export class PostgresMeta implements MetaStore {
  constructor(
    private readonly write: <T>(queue: string, fn: (s: Session) => Promise<T>) => Promise<T>,
    private readonly readOnly: <T>(queue: string, fn: (s: Session) => Promise<T>) => Promise<T>,
  ) {}

  async writeVersion(queue: string, _version: string, maxLenEvents: number): Promise<void> {
    await this.write(queue, async (s) => {
      await s.t.ensureQueue(queue);
      await s.db.stmt('UPDATE queues SET max_events = ? WHERE queue = ?').run(maxLenEvents, queue);
      s.log.caps.note(queue, maxLenEvents);
    });
  }

  async read(queue: string): Promise<QueueMeta> {
    const row = await this.readOnly(queue, async (s) => (await s.db.stmt(LIMITS).get(queue)) as LimitsRow | undefined);
    if (!row) return { paused: false };
    return {
      version: LIBRARY_VERSION,
      maxLenEvents: row.max_events ?? EVENTS_MAX_LEN,
      paused: row.paused === 1,
      ...(row.concurrency !== null ? { concurrency: row.concurrency } : {}),
      ...(row.global_max !== null && row.global_duration !== null
        ? { max: row.global_max, duration: row.global_duration }
        : {}),
    };
  }

  removeRateLimit(queue: string, now: number): Promise<number> {
    return this.write(queue, async (s) => {
      const row = (await s.db.stmt(LIMITS).get(queue)) as LimitsRow | undefined;
      if (!row) return 0;
      const inForce = row.rate_limit_until > now || (row.limiter_count > 0 && row.limiter_window_end > now);
      await s.db
        .stmt('UPDATE queues SET rate_limit_until = 0, limiter_window_end = 0, limiter_count = 0 WHERE queue = ?')
        .run(queue);
      return inForce ? 1 : 0;
    });
  }
}
