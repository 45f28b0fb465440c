import type { CancelNotice } from '../store.js';
import type { SharedDatabase } from './database.js';

/** How often a watched queue looks for cancels made by other processes (ms). */
const POLL_MS = 200;

type Listener = (notice: CancelNotice) => void;

/**
 * Delivers Store.cancelJob's notices on SQLite (see Store.watchCancels). A cancel writes a row to
 * `cancels` in its transaction; this process hears of its own at once (`cancelled`, called after
 * the commit), and of other processes' by polling `PRAGMA data_version` (a counter read, no query)
 * every POLL_MS while some queue is watched, reading `cancels` only when it moved. No watcher: no
 * timer (after at most one more tick), so an idle worker (which watches only while it runs jobs)
 * pays nothing.
 */
export class CancelWatch {
  private readonly listeners = new Map<string, Set<Listener>>();
  /** The newest `cancels` row delivered (or there when the first watch began). */
  private lastSeq = -1;
  private seenVersion = Number.NaN;
  private timer?: NodeJS.Timeout;

  constructor(private readonly sdb: SharedDatabase) {}

  watch(queue: string, listener: Listener): () => void {
    if (!this.timer) this.start();
    let set = this.listeners.get(queue);
    if (!set) {
      set = new Set();
      this.listeners.set(queue, set);
    }
    set.add(listener);
    return () => {
      const mine = this.listeners.get(queue);
      if (!mine?.delete(listener)) return;
      if (mine.size === 0) this.listeners.delete(queue);
      // The timer stops at its next tick if nobody watches again meanwhile: a worker watches while it
      // runs jobs, and one that runs them one after another must not restart it (a query) per job.
    };
  }

  /** A cancel committed in this process: deliver it (and any other new rows) now. */
  cancelled(): void {
    if (this.listeners.size > 0) this.deliver();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private start(): void {
    if (!this.sdb.isOpen) return;
    try {
      this.lastSeq = this.newestSeq();
      this.seenVersion = this.sdb.dataVersion();
    } catch {
      this.lastSeq = -1; // not open yet: the first poll reads from the start of the (tiny) table
    }
    this.timer = setInterval(() => this.poll(), POLL_MS);
    this.timer.unref();
  }

  private newestSeq(): number {
    return (this.sdb.rawStmt('SELECT coalesce(max(seq), 0) FROM cancels', true).get() as number) ?? 0;
  }

  private poll(): void {
    if (!this.sdb.isOpen || this.listeners.size === 0) {
      this.stop();
      return;
    }
    try {
      const version = this.sdb.dataVersion();
      if (version === this.seenVersion) return; // no other process committed since the last look
      this.seenVersion = version;
      this.deliver();
    } catch {
      // Busy or closing: the next tick looks again.
    }
  }

  private deliver(): void {
    if (this.lastSeq < 0) this.lastSeq = 0;
    const rows = this.sdb
      .rawStmt('SELECT seq, queue, job_id, token, reason FROM cancels WHERE seq > ? ORDER BY seq')
      .all(this.lastSeq) as [number, string, string, string, string][];
    for (const [seq, queue, id, token, failedReason] of rows) {
      this.lastSeq = Math.max(this.lastSeq, seq);
      for (const listener of [...(this.listeners.get(queue) ?? [])]) listener({ id, token, failedReason });
    }
  }
}
