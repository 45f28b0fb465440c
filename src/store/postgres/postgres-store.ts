import { EventCaps } from '../event-caps.js';
import type {
  AddResult,
  CancelNotice,
  CancelResult,
  CompleteItem,
  FailItem,
  FetchRequest,
  FetchResult,
  FlowJob,
  GroupChange,
  MoveCode,
  MoveResult,
  NewJob,
  Retention,
  SchedulerIteration,
  SchedulerRecord,
  SchedulerUpsertResult,
  StalledResult,
  Store,
  WorkerInfo,
} from '../store.js';
import { addPlainJobsNow, isPlainJob } from './adding-fast.js';
import { SharedPool } from './database.js';
import { trimEvents, trimToCap } from './event-trim.js';
import { FunctionCalls } from './function-calls.js';
import { PostgresMeta } from './meta.js';
import { type PgConnection, type PostgresOptions, postgresTarget } from './postgres-options.js';
import { PlainRemoves } from './removing-fast.js';
import { runTransition, Session } from './session.js';
import { PostgresReads } from './store-reads.js';
import { COMPLETE_READ, FETCH_META, FOLDED_HEARTBEATS } from './transition-sql.js';

/** The event log's cap per queue, as on the other stores. */
const MAX_EVENTS = 10_000;

/**
 * The PostgreSQL store: the `pg` driver, one transaction per transition on one pooled client,
 * wake-ups through LISTEN/NOTIFY (listener.ts). Mirrors the SQLite store method by method; the
 * SQL of each transition lives in the file of the same name as SQLite's.
 */
export class PostgresStore extends PostgresReads implements Store {
  readonly kind = 'postgres' as const;
  readonly meta: PostgresMeta;
  /** The schema holding this store's tables. */
  readonly schema: string;
  onError?: (err: Error) => void;
  private readonly stopErrors: () => void;
  private readonly removes: PlainRemoves;
  private readonly calls: FunctionCalls;
  /** `[queue, id]` (as JSON) of the heartbeats this store registered: forgotten when it closes. */
  private readonly beating = new Set<string>();
  private released?: Promise<void>;

  constructor(connection: PgConnection, opts: PostgresOptions = {}) {
    const target = postgresTarget(connection, opts);
    const shared = SharedPool.acquire(target.connection, target.schema, target.synchronousCommit);
    super(shared, {
      sinceTrim: 0,
      channel: shared.channel,
      sender: shared.sender,
      maxEvents: MAX_EVENTS,
      caps: new EventCaps(MAX_EVENTS),
    });
    this.schema = target.schema;
    this.stopErrors = this.shared.onError((err) => this.onError?.(err));
    this.removes = new PlainRemoves(this.shared, this.log);
    this.calls = new FunctionCalls(this.shared, this.log);
    this.meta = new PostgresMeta(
      (queue, fn) => this.write(queue, fn),
      (queue, fn) => this.read(queue, fn),
    );
  }

  /** Migrates the schema (once per pool); a waiter (Worker, QueueEvents) also gets LISTEN going. */
  async ready(_queue?: string, opts?: { waiter?: boolean }): Promise<void> {
    await this.shared.whenReady();
    if (opts?.waiter) await this.shared.listener.start();
  }

  /** While LISTEN is up, every transition that makes work ready wakes waiters (listener.ts). */
  get wakesForAllWork(): boolean {
    return this.shared.listener.listening;
  }

  /** The listening connection's backend pid, while connected (fault tests end it). */
  get listenerPid(): number | undefined {
    return this.shared.listener.pid;
  }

  /** Resolves once this store let go of the shared pool (ended when it was the last user). */
  close(): Promise<void> {
    this.closed = true;
    for (const key of this.beating) this.shared.heartbeats.forget(...(JSON.parse(key) as [string, string]));
    this.stopErrors();
    this.released ??= this.shared.release();
    return this.released;
  }

  /** One transition: the queue's lock first (transitions.ts), pending events and counters written last. */
  private write<T>(queue: string, fn: (s: Session) => Promise<T>): Promise<T> {
    return this.shared.serial(queue, () => runTransition(this.shared, this.log, queue, fn));
  }

  /** A transaction that needs no queue lock (lock extension, worker heartbeats), in the queue's call order. */
  private tx<T>(queue: string, fn: (s: Session) => Promise<T>): Promise<T> {
    return this.shared.serial(queue, () => this.shared.transact((db) => fn(new Session(db, this.log))));
  }

  async addJobs(queue: string, jobs: NewJob[]): Promise<AddResult> {
    if (jobs.length > 0 && jobs.every(isPlainJob)) {
      const added = await this.shared.serial(queue, () => addPlainJobsNow(this.shared, this.log, queue, jobs));
      // Two events a job: counted, so that a process that only adds trims the log too.
      this.log.sinceTrim += 2 * jobs.length;
      if (this.log.sinceTrim >= this.log.caps.threshold()) {
        this.log.sinceTrim = 0;
        await this.write(queue, (s) => trimToCap(s.db, s.log, queue));
      }
      return added;
    }
    const now = Date.now();
    return this.write(queue, (s) => s.add.addJobs(queue, jobs, now));
  }

  async addFlow(nodes: FlowJob[]): Promise<AddResult> {
    const now = Date.now();
    return this.write(nodes[0]?.queue ?? '', (s) => s.add.addFlow(nodes, now));
  }

  async moveToWaitingChildren(queue: string, id: string, token: string | undefined, now: number): Promise<number> {
    return this.write(queue, (s) => s.w.moveToWaitingChildren(queue, id, token, now));
  }

  /** Per queue, the notice generation read before this store's last fetch (see waitForWork). */
  private readonly fetchedAt = new Map<string, number>();

  async fetchNext(queue: string, req: FetchRequest): Promise<FetchResult> {
    await this.shared.listener.start();
    this.fetchedAt.set(queue, this.shared.listener.generation(queue));
    const plain = req.tokens.length > 0 && !req.limiter && !req.batch;
    // A plain take is one function call; the general path (the queue's row read with BEGIN,
    // FETCH_META) runs when it is not, in the same turn of the queue's calls.
    return this.shared.serial(queue, async () => {
      const taken = plain ? await this.calls.take(queue, req) : undefined;
      return (
        taken ??
        runTransition(this.shared, this.log, queue, (s) => s.t.fetch(queue, req), [
          { name: 'meta', sql: FETCH_META, values: { queue } },
        ])
      );
    });
  }

  async waitForWork(queue: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.closed) return;
    // Work added after the last fetch read the queue but before this wait began is not missed.
    const listener = this.shared.listener;
    if (listener.generation(queue) !== (this.fetchedAt.get(queue) ?? listener.generation(queue))) return;
    await listener.waitForChange(queue, timeoutMs, signal);
  }

  async complete(queue: string, items: CompleteItem[], now: number, fetch?: FetchRequest): Promise<MoveResult> {
    // One function call when nothing follows up on the jobs; else the general path, in the same turn,
    // with the rows to finish and the queue's row for the fetch (as in fetchNext) read with BEGIN.
    return this.shared.serial(queue, async () => {
      const called = await this.calls.complete(queue, items, now, fetch);
      if (called) return called;
      const ids = JSON.stringify(items.map((i) => i.id));
      const finish = { name: 'finish', sql: COMPLETE_READ, values: { queue, ids } };
      const prelude = fetch ? [finish, { name: 'meta', sql: FETCH_META, values: { queue } }] : [finish];
      return runTransition(this.shared, this.log, queue, (s) => s.w.complete(queue, items, now, fetch), prelude);
    });
  }

  async fail(queue: string, items: FailItem[], now: number, fetch?: FetchRequest): Promise<MoveResult> {
    return this.write(queue, (s) => s.w.fail(queue, items, now, fetch));
  }

  async cancelJob(
    queue: string,
    id: string,
    failedReason: string,
    now: number,
    retention: Retention,
    metrics?: number,
  ): Promise<CancelResult> {
    return this.write(queue, (s) => s.w.cancel(queue, id, failedReason, now, retention, metrics));
  }

  watchCancels(queue: string, listener: (notice: CancelNotice) => void): () => void {
    return this.shared.listener.watchCancels(queue, listener);
  }

  async extendLocks(
    queue: string,
    ids: string[],
    tokens: string[],
    durationMs: number,
    now: number,
  ): Promise<string[]> {
    return this.tx(queue, (s) => s.w.extendLocks(queue, ids, tokens, durationMs, now));
  }

  async recoverStalled(
    queue: string,
    opts: { maxStalledCount: number; intervalMs: number; now: number; force?: boolean },
  ): Promise<StalledResult> {
    // This process's heartbeats of the queue go in the same transaction, sent with BEGIN (heartbeats.ts).
    const beats = this.shared.heartbeats.forStalledCheck(queue, opts.intervalMs, Date.now());
    const prelude = beats && [{ name: 'heartbeats', sql: FOLDED_HEARTBEATS, values: { queue, ...beats.rows } }];
    const result = await this.shared.serial(queue, () =>
      runTransition(this.shared, this.log, queue, (s) => s.w.recoverStalled(queue, opts), prelude),
    );
    beats?.committed();
    return result;
  }

  async moveToDelayed(
    queue: string,
    id: string,
    token: string | undefined,
    timestamp: number,
    now: number,
  ): Promise<MoveCode> {
    return this.write(queue, (s) => s.w.moveToDelayed(queue, id, token, timestamp, now));
  }

  async recordStep(
    queue: string,
    id: string,
    token: string,
    step: string,
    result: string,
    now: number,
    delayUntil?: number,
  ): Promise<MoveCode> {
    return this.write(queue, (s) => s.w.recordStep(queue, id, token, step, result, now, delayUntil));
  }

  async moveToWait(queue: string, id: string, token: string | undefined, now: number): Promise<MoveCode> {
    return this.write(queue, (s) => s.w.moveToWait(queue, id, token, now));
  }

  async pause(queue: string, paused: boolean): Promise<void> {
    await this.write(queue, (s) => s.a.pause(queue, paused));
  }

  updateGroup(queue: string, id: string, change: GroupChange): Promise<boolean> {
    return this.write(queue, (s) => s.g.update(queue, id, change));
  }
  async rateLimit(queue: string, ms: number, now: number): Promise<void> {
    await this.write(queue, (s) => s.a.rateLimit(queue, ms, now));
  }

  async updateProgress(queue: string, id: string, progress: string): Promise<MoveCode> {
    return this.write(queue, (s) => s.a.updateProgress(queue, id, progress));
  }

  async updateData(queue: string, id: string, data: string): Promise<MoveCode> {
    return this.write(queue, (s) => s.a.updateData(queue, id, data));
  }

  async addLog(queue: string, id: string, row: string, keepLogs?: number): Promise<number> {
    return this.write(queue, (s) => s.a.addLog(queue, id, row, keepLogs));
  }

  async clearLogs(queue: string, id: string, keep: number): Promise<void> {
    await this.write(queue, (s) => s.a.trimLogs(queue, id, keep));
  }

  async remove(queue: string, id: string, now: number, removeChildren = false): Promise<number> {
    // Plain jobs in batches of one round trip (removing-fast.ts); any other in the general transition.
    return this.removes.remove(queue, id, removeChildren, () =>
      runTransition(this.shared, this.log, queue, (s) => s.p.removeJob(queue, id, now, removeChildren)),
    );
  }

  promote(queue: string, id: string): Promise<MoveCode> {
    return this.write(queue, (s) => s.h.promote(queue, id));
  }

  promoteJobs(queue: string, count: number): Promise<number> {
    return this.write(queue, (s) => s.h.promoteJobs(queue, count));
  }

  retryJob(
    queue: string,
    id: string,
    state: 'completed' | 'failed',
    reset: { attemptsMade?: boolean; attemptsStarted?: boolean },
  ): Promise<MoveCode> {
    return this.write(queue, (s) => s.h.retryJob(queue, id, state, reset));
  }

  retryJobs(queue: string, state: 'completed' | 'failed', count: number, timestamp: number): Promise<number> {
    return this.write(queue, (s) => s.h.retryJobs(queue, state, count, timestamp));
  }

  changeDelay(queue: string, id: string, delay: number, now: number): Promise<MoveCode> {
    return this.write(queue, (s) => s.h.changeDelay(queue, id, delay, now));
  }

  changePriority(queue: string, id: string, priority: number, lifo: boolean): Promise<MoveCode> {
    return this.write(queue, (s) => s.h.changePriority(queue, id, priority, lifo));
  }

  clean(queue: string, graceMs: number, limit: number, type: string, now: number): Promise<string[]> {
    return this.write(queue, (s) => s.h.clean(queue, graceMs, limit, type, now));
  }

  drain(queue: string, delayed: boolean): Promise<void> {
    return this.write(queue, (s) => s.h.drain(queue, delayed, Date.now()));
  }

  obliterate(queue: string, force: boolean, count: number): Promise<number> {
    return this.write(queue, (s) => s.h.obliterate(queue, force, count, Date.now()));
  }

  trimEvents(queue: string, maxLen: number): Promise<number> {
    return this.write(queue, (s) => trimEvents(s.db, queue, maxLen));
  }

  /** The event is written as the transaction commits, after the trim: the newest `maxEvents` stay. */
  publishEvent(queue: string, event: string, fields: Record<string, string>, maxEvents: number): Promise<void> {
    return this.write(queue, async (s) => {
      await trimEvents(s.db, queue, maxEvents - 1);
      s.t.emit(queue, event, fields);
    });
  }

  upsertScheduler(queue: string, rec: SchedulerRecord, it: SchedulerIteration): Promise<SchedulerUpsertResult> {
    return this.write(queue, (s) => s.s.upsert(queue, rec, it));
  }

  scheduleNext(queue: string, id: string, producerId: string, it: SchedulerIteration): Promise<string | undefined> {
    return this.write(queue, (s) => s.s.scheduleNext(queue, id, producerId, it));
  }

  removeScheduler(queue: string, id: string): Promise<boolean> {
    return this.write(queue, (s) => s.s.remove(queue, id));
  }

  removeDedupKey(queue: string, dedupId: string, jobId?: string): Promise<number> {
    return this.write(queue, (s) => s.p.dedup.remove(queue, dedupId, jobId, Date.now()));
  }

  setGlobalConcurrency(queue: string, n: number | undefined): Promise<void> {
    return this.write(queue, (s) => s.a.setGlobalConcurrency(queue, n));
  }

  setGlobalRateLimit(queue: string, limit: { max: number; duration: number } | undefined): Promise<void> {
    return this.write(queue, (s) => s.a.setGlobalRateLimit(queue, limit));
  }

  /** Written now only when the stalled checks do not keep the worker listed already (heartbeats.ts). */
  async registerWorker(queue: string, info: WorkerInfo, ttlMs: number): Promise<void> {
    this.beating.add(JSON.stringify([queue, info.id]));
    if (!this.shared.heartbeats.beat(queue, info, ttlMs)) return;
    await this.tx(queue, (s) => s.p.registerWorker(queue, info, ttlMs));
  }

  unregisterWorker(queue: string, id: string): Promise<void> {
    this.beating.delete(JSON.stringify([queue, id]));
    this.shared.heartbeats.forget(queue, id);
    return this.tx(queue, (s) => s.p.unregisterWorker(queue, id));
  }

  removeChildDependency(queue: string, id: string, now: number): Promise<number> {
    return this.write(queue, (s) => s.p.removeChildDependency(queue, id, now));
  }

  removeUnprocessedChildren(queue: string, id: string, now: number): Promise<void> {
    return this.write(queue, (s) => s.p.removeUnprocessedChildren(queue, id, now));
  }
}
