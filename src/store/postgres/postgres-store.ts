import type {
  AddResult,
  CancelNotice,
  CancelResult,
  CompleteItem,
  Dependencies,
  FailItem,
  FetchRequest,
  FetchResult,
  FlowJob,
  GroupChange,
  GroupInfo,
  JobRecord,
  JobState,
  MetricsRead,
  MoveCode,
  MoveResult,
  NewJob,
  Retention,
  SchedulerIteration,
  SchedulerRecord,
  SchedulerUpsertResult,
  StalledResult,
  Store,
  StoredEvent,
  WorkerInfo,
} from '../store.js';
import { addPlainJobsNow, isPlainJob } from './adding-fast.js';
import { type PgConnection, SharedPool } from './database.js';
import { PostgresMeta } from './meta.js';
import { type PostgresOptions, postgresTarget } from './postgres-options.js';
import { PlainRemoves } from './removing-fast.js';
import { runTransition, Session } from './session.js';
import { COMPLETE_READ, FETCH_META } from './transition-sql.js';
import type { EventLog } from './transitions.js';

/** The event log's cap per queue, as on the other stores. */
const MAX_EVENTS = 10_000;

/**
 * The PostgreSQL store: the `pg` driver, one transaction per transition on one pooled client,
 * wake-ups through LISTEN/NOTIFY (listener.ts). Mirrors the SQLite store method by method; the
 * SQL of each transition lives in the file of the same name as SQLite's.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly meta: PostgresMeta;
  /** The schema holding this store's tables. */
  readonly schema: string;
  onError?: (err: Error) => void;
  private readonly shared: SharedPool;
  private readonly log: EventLog;
  private readonly stopErrors: () => void;
  private readonly removes: PlainRemoves;
  private closed = false;
  private released?: Promise<void>;

  constructor(connection: PgConnection, opts: PostgresOptions = {}) {
    const target = postgresTarget(connection, opts);
    this.schema = target.schema;
    this.shared = SharedPool.acquire(target.connection, target.schema);
    this.log = { sinceTrim: 0, channel: this.shared.channel, sender: this.shared.sender, maxEvents: MAX_EVENTS };
    this.stopErrors = this.shared.onError((err) => this.onError?.(err));
    this.removes = new PlainRemoves(this.shared, this.log);
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

  /** A read, in the queue's call order (`undefined`: a read of no one queue). */
  private read<T>(queue: string | undefined, fn: (s: Session) => Promise<T>): Promise<T> {
    return this.shared.serial(queue, () => this.shared.read((db) => fn(new Session(db, this.log))));
  }

  async addJobs(queue: string, jobs: NewJob[]): Promise<AddResult> {
    if (jobs.length > 0 && jobs.every(isPlainJob)) {
      return this.shared.serial(queue, () => addPlainJobsNow(this.shared, this.log, queue, jobs));
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

  async getDependencies(queue: string, id: string): Promise<Dependencies> {
    return this.read(queue, (s) => s.f.dependencies(queue, id));
  }

  /** Per queue, the notice generation read before this store's last fetch (see waitForWork). */
  private readonly fetchedAt = new Map<string, number>();

  async fetchNext(queue: string, req: FetchRequest): Promise<FetchResult> {
    await this.shared.listener.start();
    this.fetchedAt.set(queue, this.shared.listener.generation(queue));
    // The queue's row is read with BEGIN: one round trip less (FETCH_META).
    return this.shared.serial(queue, () =>
      runTransition(this.shared, this.log, queue, (s) => s.t.fetch(queue, req), [
        { name: 'meta', sql: FETCH_META, values: { queue } },
      ]),
    );
  }

  async waitForWork(queue: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.closed) return;
    // Work added after the last fetch read the queue but before this wait began is not missed.
    const listener = this.shared.listener;
    if (listener.generation(queue) !== (this.fetchedAt.get(queue) ?? listener.generation(queue))) return;
    await listener.waitForChange(queue, timeoutMs, signal);
  }

  async complete(queue: string, items: CompleteItem[], now: number, fetch?: FetchRequest): Promise<MoveResult> {
    // The rows to finish, and the queue's row for the fetch (as in fetchNext), read with BEGIN.
    const finish = {
      name: 'finish',
      sql: COMPLETE_READ,
      values: { queue, ids: JSON.stringify(items.map((i) => i.id)) },
    };
    const prelude = fetch ? [finish, { name: 'meta', sql: FETCH_META, values: { queue } }] : [finish];
    return this.shared.serial(queue, () =>
      runTransition(this.shared, this.log, queue, (s) => s.w.complete(queue, items, now, fetch), prelude),
    );
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
    return this.write(queue, (s) => s.w.recoverStalled(queue, opts));
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
  getGroup(queue: string, id: string): Promise<GroupInfo | undefined> {
    return this.read(queue, (s) => s.g.get(queue, id));
  }
  getGroups(queue: string, start: number, end: number): Promise<GroupInfo[]> {
    return this.read(queue, (s) => s.g.list(queue, start, end));
  }
  getGroupJobIds(queue: string, id: string, start: number, end: number): Promise<string[]> {
    return this.read(queue, (s) => s.g.jobIds(queue, id, start, end));
  }

  async isPaused(queue: string): Promise<boolean> {
    return this.read(queue, (s) => s.r.isPaused(queue));
  }

  async rateLimit(queue: string, ms: number, now: number): Promise<void> {
    await this.write(queue, (s) => s.a.rateLimit(queue, ms, now));
  }

  async getRateLimitTtl(queue: string, now: number, maxJobs = 0): Promise<number> {
    return this.read(queue, (s) => s.r.rateLimitTtl(queue, now, maxJobs));
  }

  async getJob(queue: string, id: string): Promise<JobRecord | undefined> {
    return this.read(queue, (s) => s.r.job(queue, id));
  }

  async getState(queue: string, id: string): Promise<JobState | 'unknown'> {
    return this.read(queue, (s) => s.r.state(queue, id));
  }

  async getCounts(queue: string, types: string[]): Promise<Record<string, number>> {
    return this.read(queue, (s) => s.r.counts(queue, types));
  }

  async getRange(queue: string, types: string[], start: number, end: number, asc: boolean): Promise<string[]> {
    return this.read(queue, (s) => s.r.range(queue, types, start, end, asc));
  }

  async getLogs(
    queue: string,
    id: string,
    start: number,
    end: number,
    asc: boolean,
  ): Promise<{ logs: string[]; count: number }> {
    return this.read(queue, (s) => s.r.logs(queue, id, start, end, asc));
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
    return this.write(queue, (s) => s.t.trimEvents(queue, maxLen));
  }

  upsertScheduler(queue: string, rec: SchedulerRecord, it: SchedulerIteration): Promise<SchedulerUpsertResult> {
    return this.write(queue, (s) => s.s.upsert(queue, rec, it));
  }

  scheduleNext(queue: string, id: string, producerId: string, it: SchedulerIteration): Promise<string | undefined> {
    return this.write(queue, (s) => s.s.scheduleNext(queue, id, producerId, it));
  }

  getScheduler(queue: string, id: string): Promise<SchedulerRecord | undefined> {
    return this.read(queue, (s) => s.s.get(queue, id));
  }

  getSchedulers(queue: string, start: number, end: number, asc: boolean): Promise<SchedulerRecord[]> {
    return this.read(queue, (s) => s.s.list(queue, start, end, asc));
  }

  countSchedulers(queue: string): Promise<number> {
    return this.read(queue, (s) => s.s.count(queue));
  }

  removeScheduler(queue: string, id: string): Promise<boolean> {
    return this.write(queue, (s) => s.s.remove(queue, id));
  }

  getDedupJobId(queue: string, dedupId: string, now: number): Promise<string | undefined> {
    return this.read(queue, async (s) => (await s.p.dedup.live(queue, dedupId, now))?.row.job_id);
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

  getGlobalLimits(queue: string): Promise<{ concurrency?: number; rateLimit?: { max: number; duration: number } }> {
    return this.read(queue, (s) => s.r.globalLimits(queue));
  }

  getMetrics(queue: string, type: 'completed' | 'failed', now: number): Promise<MetricsRead> {
    return this.read(queue, (s) => s.p.getMetrics(queue, type, now));
  }

  countFinishedPerMinute(queue: string, type: 'completed' | 'failed', since: number, minutes: number) {
    return this.read(queue, (s) => s.r.finishedPerMinute(queue, type, since, minutes));
  }

  getCountsPerPriority(queue: string, priorities: number[]): Promise<Record<string, number>> {
    return this.read(queue, (s) => s.p.countsPerPriority(queue, priorities));
  }

  registerWorker(queue: string, info: WorkerInfo, ttlMs: number): Promise<void> {
    return this.tx(queue, (s) => s.p.registerWorker(queue, info, ttlMs));
  }

  unregisterWorker(queue: string, id: string): Promise<void> {
    return this.tx(queue, (s) => s.p.unregisterWorker(queue, id));
  }

  getWorkers(queue: string, now: number): Promise<WorkerInfo[]> {
    return this.read(queue, (s) => s.p.getWorkers(queue, now));
  }

  removeChildDependency(queue: string, id: string, now: number): Promise<number> {
    return this.write(queue, (s) => s.p.removeChildDependency(queue, id, now));
  }

  removeUnprocessedChildren(queue: string, id: string, now: number): Promise<void> {
    return this.write(queue, (s) => s.p.removeUnprocessedChildren(queue, id, now));
  }

  /** A job row always has a state: there are no orphans to remove (as on SQLite). */
  async removeOrphanedJobs(_queue: string, _count: number, _limit: number): Promise<number> {
    return 0;
  }

  /** Names (without the prefix) of the queues stored under `prefix`, sorted. */
  async listQueues(prefix: string): Promise<string[]> {
    return this.read(undefined, (s) => s.r.queueNames(prefix));
  }

  async readEvents(queue: string, afterId: string, blockMs: number, signal: AbortSignal): Promise<StoredEvent[]> {
    const after = Number(afterId === '$' ? await this.lastEventId(queue) : afterId) || 0;
    if (blockMs > 0) await this.shared.listener.start();
    return this.shared.listener.readUntilFound(queue, blockMs, signal, () =>
      this.closed ? Promise.resolve(undefined) : this.read(queue, (s) => s.r.eventsAfter(queue, after)),
    );
  }

  async lastEventId(queue: string): Promise<string> {
    return this.read(queue, (s) => s.r.lastEventId(queue));
  }
}
