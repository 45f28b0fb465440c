import type { Queue } from '../queue.js';

const HOUR = 3_600_000;

/** Stalled jobs of one queue in the last hour, as the overview shows them (overview.ts puts in the exact count). */
export interface StalledSummary {
  /** Stalls seen in the event log (the overview replaces it with the store's per-minute count). */
  count: number;
  /** The newest stalled job ids (at most 20). */
  jobIds: string[];
  /** Since when these ids are known: an hour ago, or when the dashboard started to read (SQLite, PostgreSQL). */
  since: number;
}

interface Tail {
  cursor: string;
  startedAt: number;
  seen: { jobId: string; at: number }[];
}

/**
 * Reads each queue's event log on from where it stopped and keeps the `stalled` events of the last
 * hour. Redis's event ids carry their time, so the past hour is read at once; the SQL stores' events
 * carry none, so there the count starts when the dashboard first reads the queue (and says so).
 */
export class StalledTracker {
  private readonly tails = new Map<string, Tail>();
  private readonly abort = new AbortController();

  async read(queue: Queue, now = Date.now()): Promise<StalledSummary> {
    const key = queue.qualifiedName;
    let tail = this.tails.get(key);
    const timed = queue.store.kind === 'redis';
    if (!tail) {
      const cursor = timed ? `${now - HOUR}-0` : await queue.store.lastEventId(key);
      tail = { cursor, startedAt: timed ? now - HOUR : now, seen: [] };
      this.tails.set(key, tail);
    }
    // At most 10 pages a call: the log is capped (10 000 entries), a busy queue catches up over calls.
    for (let page = 0; page < 10; page++) {
      const events = await queue.store.readEvents(key, tail.cursor, 0, this.abort.signal);
      if (events.length === 0) break;
      for (const e of events) {
        if (e.event === 'stalled') tail.seen.push({ jobId: e.jobId, at: timed ? Number(e.id.split('-')[0]) : now });
      }
      tail.cursor = events[events.length - 1].id;
      if (timed) break; // XREAD without COUNT answered every entry at once
    }
    tail.seen = tail.seen.filter((s) => s.at > now - HOUR);
    return {
      count: tail.seen.length,
      jobIds: tail.seen
        .slice(-20)
        .map((s) => s.jobId)
        .reverse(),
      since: Math.max(tail.startedAt, now - HOUR),
    };
  }

  close(): void {
    this.abort.abort();
  }
}
