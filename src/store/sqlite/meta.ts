import { EVENTS_MAX_LEN, LIBRARY_VERSION } from '../../version.js';
import type { MetaStore, QueueMeta } from '../meta.js';
import type { SharedDatabase } from './database.js';
import type { Transitions } from './transitions.js';

/** The limits `read` and `removeRateLimit` look at, from the queue's row. */
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

/**
 * The meta facet on SQLite. The file's tables carry one schema version as a whole (`user_version`),
 * so no per-queue version is stored: a queue reports this Docket's version once a Queue opened it
 * without `skipMetasUpdate` (which creates the queue's row), as BullMQ's Queue writes its own.
 */
export class SqliteMeta implements MetaStore {
  constructor(
    private readonly sdb: SharedDatabase,
    private readonly t: Transitions,
    private readonly write: <T>(queue: string, fn: () => T) => Promise<T>,
  ) {}

  async writeVersion(queue: string, _version: string, maxLenEvents: number): Promise<void> {
    await this.write(queue, () => this.t.setEventCap(queue, maxLenEvents));
  }

  async read(queue: string): Promise<QueueMeta> {
    const row = await this.sdb.read(() => this.row(queue));
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
    return this.write(queue, () => {
      const row = this.row(queue);
      if (!row) return 0;
      const inForce = row.rate_limit_until > now || (row.limiter_count > 0 && row.limiter_window_end > now);
      this.sdb
        .stmt('UPDATE queues SET rate_limit_until = 0, limiter_window_end = 0, limiter_count = 0 WHERE queue = ?')
        .run(queue);
      return inForce ? 1 : 0;
    });
  }

  private row(queue: string): LimitsRow | undefined {
    return this.sdb
      .stmt(
        `SELECT paused, concurrency, global_max, global_duration, max_events, rate_limit_until, limiter_window_end,
           limiter_count FROM queues WHERE queue = ?`,
      )
      .get(queue) as LimitsRow | undefined;
  }
}
