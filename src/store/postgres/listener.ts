import { EventEmitter } from 'node:events';
import type pg from 'pg';
import type { CancelNotice } from '../store.js';
import { CANCEL_NOTICE } from './event-log.js';

/** Waits between attempts to get the LISTEN connection back, doubling up to the last. */
const RECONNECT_MS = [50, 100, 250, 500, 1000, 2000];

/** Shown in pg_stat_activity, so an operator (or a fault test) can tell the listening connection. */
export const LISTENER_APPLICATION_NAME = 'docket-listener';

/**
 * The one LISTEN connection of a pool (per process, per database and schema). Transactions that
 * add, promote or finish jobs, or write events, send `pg_notify(channel, '<sender> <queue>')` before
 * they commit; PostgreSQL delivers it after the commit, and this wakes the process's waiters of that
 * queue (workers in waitForWork, QueueEvents in readEvents) within milliseconds, with no polling.
 * A notice of this process's own pool is skipped: the store woke its waiters right after the commit.
 *
 * The connection is a dedicated client, not a pooled one: a pool would hand it to queries. When it
 * drops (server restart, pg_terminate_backend, network), it is opened and LISTENed again with a
 * backoff, and every waiter is woken at each step, since notices sent meanwhile are lost: waiters
 * then read the store again instead of missing work.
 */
export class Listener {
  private client?: pg.Client;
  private starting?: Promise<void>;
  private closed = false;
  private failures = 0;
  private retry?: NodeJS.Timeout;
  private readonly changes = new EventEmitter();
  private readonly generations = new Map<string, number>();

  constructor(
    private readonly makeClient: () => pg.Client,
    private readonly channel: string,
    /** This pool's notices come as `<sender> <queue>`: skipped, as the pool woke its waiters at commit. */
    private readonly sender: string,
    private readonly onError: (err: Error) => void,
  ) {
    this.changes.setMaxListeners(0);
  }

  /** Resolves once LISTEN is active (or the first attempt failed: it is retried in the background). */
  start(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.starting ??= this.connect().catch((err) => {
      this.onError(err as Error);
      this.reconnectLater();
    });
    return this.starting;
  }

  /** The listening connection's backend pid, while connected. */
  get pid(): number | undefined {
    return (this.client as unknown as { processID?: number } | undefined)?.processID ?? undefined;
  }

  get listening(): boolean {
    return this.client !== undefined;
  }

  private async connect(): Promise<void> {
    const client = this.makeClient();
    client.on('error', (err) => this.dropped(client, err));
    client.on('end', () => this.dropped(client));
    client.on('notification', (msg) => {
      if (msg.channel !== this.channel || !msg.payload) return;
      if (msg.payload.startsWith(CANCEL_NOTICE)) return this.cancelled(msg.payload.slice(CANCEL_NOTICE.length));
      const at = msg.payload.indexOf(' ');
      if (at > 0 && msg.payload.slice(0, at) !== this.sender) this.notify(msg.payload.slice(at + 1));
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.channel.replaceAll('"', '""')}"`);
    } catch (err) {
      client.end().catch(() => undefined);
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.failures = 0;
    this.wakeAll(); // whatever was sent before this LISTEN is not missed: waiters look again
  }

  private dropped(client: pg.Client, err?: Error): void {
    if (this.closed || this.client !== client) return; // one still connecting fails in connect()
    this.client = undefined;
    client.end().catch(() => undefined);
    if (err) this.onError(err);
    this.wakeAll();
    this.reconnectLater();
  }

  private reconnectLater(): void {
    if (this.closed || this.retry) return;
    const delay = RECONNECT_MS[Math.min(this.failures++, RECONNECT_MS.length - 1)];
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.starting = this.connect().catch((err) => {
        this.onError(err as Error);
        this.reconnectLater();
      });
    }, delay);
    this.retry.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    this.retry = undefined;
    this.wakeAll();
    await this.starting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private readonly cancelWatchers = new Map<string, Set<(notice: CancelNotice) => void>>();

  /**
   * Store.watchCancels: `listener` hears the cancel notices of `queue` (Transitions.notifyCancel), from
   * every process this one included, while LISTEN is up; notices sent while it is down are lost (the
   * worker sees the cancel at its next lock renewal). Costs nothing while no notice comes.
   */
  watchCancels(queue: string, listener: (notice: CancelNotice) => void): () => void {
    let set = this.cancelWatchers.get(queue);
    if (!set) {
      set = new Set();
      this.cancelWatchers.set(queue, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.cancelWatchers.get(queue) === set) this.cancelWatchers.delete(queue);
    };
  }

  private cancelled(json: string): void {
    let queue: string;
    let notice: CancelNotice;
    try {
      const [q, id, token, failedReason] = JSON.parse(json) as string[];
      queue = String(q);
      notice = { id: String(id), token: String(token), failedReason: String(failedReason) };
    } catch {
      return;
    }
    for (const listener of [...(this.cancelWatchers.get(queue) ?? [])]) listener(notice);
  }

  /** Tells this process's waiters of `queue` that it changed. */
  notify(queue: string): void {
    this.generations.set(queue, this.generation(queue) + 1);
    this.changes.emit(queue);
  }

  private wakeAll(): void {
    for (const queue of this.generations.keys()) this.generations.set(queue, this.generation(queue) + 1);
    this.changes.emit('*');
  }

  /** How many notices `queue` had: a waiter that read it before its fetch and finds it changed does not wait. */
  generation(queue: string): number {
    return this.generations.get(queue) ?? 0;
  }

  /**
   * Calls `read` until it finds something (an empty array: nothing yet; undefined: stop), waiting
   * for notices of `queue` in between, for up to `blockMs`. A notice during a read is not missed.
   */
  async readUntilFound<T>(
    queue: string,
    blockMs: number,
    signal: AbortSignal,
    read: () => Promise<T[] | undefined>,
  ): Promise<T[]> {
    const deadline = Date.now() + blockMs;
    for (;;) {
      const seen = this.generation(queue);
      const found = await read();
      if (found === undefined) return [];
      if (found.length > 0 || signal.aborted) return found;
      const left = deadline - Date.now();
      if (left <= 0) return [];
      if (this.generation(queue) === seen) await this.waitForChange(queue, left, signal);
    }
  }

  /** Resolves when `queue` is notified, the connection drops or comes back, `timeoutMs` passes or `signal` aborts. */
  waitForChange(queue: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted || timeoutMs <= 0 || this.closed) return Promise.resolve();
    if (!this.generations.has(queue)) this.generations.set(queue, 0);
    return new Promise((done) => {
      const finish = () => {
        clearTimeout(timer);
        this.changes.off(queue, finish);
        this.changes.off('*', finish);
        signal.removeEventListener('abort', finish);
        done();
      };
      const timer = setTimeout(finish, timeoutMs);
      this.changes.on(queue, finish);
      this.changes.on('*', finish);
      signal.addEventListener('abort', finish);
    });
  }
}
