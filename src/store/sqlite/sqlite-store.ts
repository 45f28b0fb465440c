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
  MoveCode,
  MoveResult,
  NewJob,
  Retention,
  StalledResult,
  Store,
  StoredEvent,
} from '../store.js';
import { Adding } from './adding.js';
import { SharedDatabase } from './database.js';
import { GroupRecords } from './group-records.js';
import { GroupFetch } from './groups.js';
import { Housekeeping } from './housekeeping.js';
import { SqliteMeta } from './meta.js';
import { SqliteParityStore } from './parity-store.js';
import type { SqliteOptions } from './sqlite-options.js';
import { WorkerPath } from './worker-path.js';

/** The embedded store: better-sqlite3, WAL, one IMMEDIATE transaction per transition. */
export class SqliteStore extends SqliteParityStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly h: Housekeeping;
  private readonly w: WorkerPath;
  private readonly add: Adding;
  private readonly g: GroupRecords;
  readonly meta: SqliteMeta;
  private closed = false;
  private released?: Promise<void>;

  constructor(path: string, opts: SqliteOptions = {}) {
    super(SharedDatabase.acquire(path, opts));
    new GroupFetch(this.sdb, this.t); // hooks the grouped fetch into Transitions
    this.g = new GroupRecords(this.sdb, this.t);
    this.h = new Housekeeping(this.sdb, this.t, this.f);
    this.w = new WorkerPath(this.sdb, this.t, this.f, this.p);
    this.add = new Adding(this.t, this.f, this.p, this.w);
    this.meta = new SqliteMeta(this.sdb, this.t, (queue, fn) => this.write(queue, fn));
  }

  /** Resolves once the file is open, in WAL mode and migrated (retried while another process holds it). */
  ready(): Promise<void> {
    return this.sdb.whenReady();
  }

  /** Resolves once the file is released (see SharedDatabase.release). */
  close(): Promise<void> {
    this.closed = true;
    this.released ??= this.sdb.release();
    return this.released;
  }

  async addJobs(queue: string, jobs: NewJob[]): Promise<AddResult> {
    const now = Date.now();
    return this.write(queue, () => this.add.addJobs(queue, jobs, now));
  }

  async addFlow(nodes: FlowJob[]): Promise<AddResult> {
    const now = Date.now();
    return this.write(nodes[0]?.queue ?? '', () => this.add.addFlow(nodes, now));
  }

  async moveToWaitingChildren(queue: string, id: string, token: string | undefined, now: number): Promise<number> {
    return this.write(queue, () => this.w.moveToWaitingChildren(queue, id, token, now));
  }

  async getDependencies(queue: string, id: string): Promise<Dependencies> {
    return this.sdb.read(() => this.f.dependencies(queue, id));
  }

  /** Per queue, the notice generation read before this store's last fetch (see waitForWork). */
  private readonly fetchedAt = new Map<string, number>();

  async fetchNext(queue: string, req: FetchRequest): Promise<FetchResult> {
    this.fetchedAt.set(queue, this.sdb.generation(queue));
    return this.write(queue, () => this.t.fetching.fetch(queue, req));
  }

  async waitForWork(queue: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.closed) return;
    // Work added after the last fetch read the queue but before this wait began is not missed.
    if (this.sdb.generation(queue) !== (this.fetchedAt.get(queue) ?? this.sdb.generation(queue))) return;
    await this.sdb.waitForChange(queue, timeoutMs, signal);
  }

  async complete(queue: string, items: CompleteItem[], now: number, fetch?: FetchRequest): Promise<MoveResult> {
    return this.write(queue, () => this.w.complete(queue, items, now, fetch));
  }

  async fail(queue: string, items: FailItem[], now: number, fetch?: FetchRequest): Promise<MoveResult> {
    return this.write(queue, () => this.w.fail(queue, items, now, fetch));
  }

  async extendLocks(
    queue: string,
    ids: string[],
    tokens: string[],
    durationMs: number,
    now: number,
  ): Promise<string[]> {
    return this.sdb.transact(() => this.w.extendLocks(queue, ids, tokens, durationMs, now));
  }

  async recoverStalled(
    queue: string,
    opts: { maxStalledCount: number; intervalMs: number; now: number; force?: boolean },
  ): Promise<StalledResult> {
    return this.write(queue, () => this.w.recoverStalled(queue, opts));
  }

  async moveToDelayed(
    queue: string,
    id: string,
    token: string | undefined,
    timestamp: number,
    now: number,
  ): Promise<MoveCode> {
    return this.write(queue, () => this.w.moveToDelayed(queue, id, token, timestamp, now));
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
    return this.write(queue, () => this.w.recordStep(queue, id, token, step, result, now, delayUntil));
  }

  async moveToWait(queue: string, id: string, token: string | undefined, now: number): Promise<MoveCode> {
    return this.write(queue, () => this.w.moveToWait(queue, id, token, now));
  }

  async pause(queue: string, paused: boolean): Promise<void> {
    await this.write(queue, () => this.a.pause(queue, paused));
  }

  async isPaused(queue: string): Promise<boolean> {
    return this.sdb.read(() => this.r.isPaused(queue));
  }

  async rateLimit(queue: string, ms: number, now: number): Promise<void> {
    await this.write(queue, () => this.a.rateLimit(queue, ms, now));
  }

  async getRateLimitTtl(queue: string, now: number, maxJobs = 0): Promise<number> {
    return this.sdb.read(() => this.r.rateLimitTtl(queue, now, maxJobs));
  }

  updateGroup(queue: string, id: string, change: GroupChange): Promise<boolean> {
    return this.write(queue, () => this.g.update(queue, id, change));
  }
  async getGroup(queue: string, id: string): Promise<GroupInfo | undefined> {
    return this.sdb.read(() => this.g.get(queue, id));
  }
  async getGroups(queue: string, start: number, end: number): Promise<GroupInfo[]> {
    return this.sdb.read(() => this.g.list(queue, start, end));
  }
  async getGroupJobIds(queue: string, id: string, start: number, end: number): Promise<string[]> {
    return this.sdb.read(() => this.g.jobIds(queue, id, start, end));
  }

  async getJob(queue: string, id: string): Promise<JobRecord | undefined> {
    return this.sdb.read(() => this.r.job(queue, id));
  }

  async getState(queue: string, id: string): Promise<JobState | 'unknown'> {
    return this.sdb.read(() => this.r.state(queue, id));
  }

  async getCounts(queue: string, types: string[]): Promise<Record<string, number>> {
    return this.sdb.read(() => this.r.counts(queue, types));
  }

  async getRange(queue: string, types: string[], start: number, end: number, asc: boolean): Promise<string[]> {
    return this.sdb.read(() => this.r.range(queue, types, start, end, asc));
  }

  async getLogs(
    queue: string,
    id: string,
    start: number,
    end: number,
    asc: boolean,
  ): Promise<{ logs: string[]; count: number }> {
    return this.sdb.read(() => this.r.logs(queue, id, start, end, asc));
  }

  async updateProgress(queue: string, id: string, progress: string): Promise<MoveCode> {
    return this.write(queue, () => this.a.updateProgress(queue, id, progress));
  }

  async updateData(queue: string, id: string, data: string): Promise<MoveCode> {
    return this.write(queue, () => this.a.updateData(queue, id, data));
  }

  async addLog(queue: string, id: string, row: string, keepLogs?: number): Promise<number> {
    return this.write(queue, () => this.a.addLog(queue, id, row, keepLogs));
  }

  async clearLogs(queue: string, id: string, keep: number): Promise<void> {
    await this.write(queue, () => this.a.trimLogs(queue, id, keep));
  }

  async remove(queue: string, id: string, now: number, removeChildren = false): Promise<number> {
    return this.write(queue, () => this.p.removeJob(queue, id, now, removeChildren));
  }

  promote(queue: string, id: string): Promise<MoveCode> {
    return this.write(queue, () => this.h.promote(queue, id));
  }

  promoteJobs(queue: string, count: number): Promise<number> {
    return this.write(queue, () => this.h.promoteJobs(queue, count));
  }

  retryJob(
    queue: string,
    id: string,
    state: 'completed' | 'failed',
    reset: { attemptsMade?: boolean; attemptsStarted?: boolean },
  ): Promise<MoveCode> {
    return this.write(queue, () => this.h.retryJob(queue, id, state, reset));
  }

  retryJobs(queue: string, state: 'completed' | 'failed', count: number, timestamp: number): Promise<number> {
    return this.write(queue, () => this.h.retryJobs(queue, state, count, timestamp));
  }

  changeDelay(queue: string, id: string, delay: number, now: number): Promise<MoveCode> {
    return this.write(queue, () => this.h.changeDelay(queue, id, delay, now));
  }

  changePriority(queue: string, id: string, priority: number, lifo: boolean): Promise<MoveCode> {
    return this.write(queue, () => this.h.changePriority(queue, id, priority, lifo));
  }

  clean(queue: string, graceMs: number, limit: number, type: string, now: number): Promise<string[]> {
    return this.write(queue, () => this.h.clean(queue, graceMs, limit, type, now));
  }

  drain(queue: string, delayed: boolean): Promise<void> {
    return this.write(queue, () => this.h.drain(queue, delayed, Date.now()));
  }

  obliterate(queue: string, force: boolean, count: number): Promise<number> {
    return this.write(queue, () => this.h.obliterate(queue, force, count, Date.now()));
  }

  trimEvents(queue: string, maxLen: number): Promise<number> {
    return this.write(queue, () => this.t.trimEvents(queue, maxLen));
  }

  /** The event is written as the transaction commits, after the trim: the newest `maxEvents` stay. */
  publishEvent(queue: string, event: string, fields: Record<string, string>, maxEvents: number): Promise<void> {
    return this.write(queue, () => {
      this.t.trimEvents(queue, maxEvents - 1);
      this.t.emit(queue, event, fields);
    });
  }

  /** A job row always has a state: there are no orphans to remove. */
  async removeOrphanedJobs(_queue: string, _count: number, _limit: number): Promise<number> {
    return 0;
  }

  /** Names (without the prefix) of the queues stored under `prefix`, sorted. */
  async listQueues(prefix: string): Promise<string[]> {
    return this.sdb.read(() => this.r.queueNames(prefix));
  }

  async cancelJob(
    queue: string,
    id: string,
    failedReason: string,
    now: number,
    retention: Retention,
    metrics?: number,
  ): Promise<CancelResult> {
    const result = await this.write(queue, () => this.w.cancel(queue, id, failedReason, now, retention, metrics));
    if (result.code === 0 && result.prev === 'active') this.sdb.cancels.cancelled();
    return result;
  }

  watchCancels(queue: string, listener: (notice: CancelNotice) => void): () => void {
    return this.sdb.cancels.watch(queue, listener);
  }

  async readEvents(queue: string, afterId: string, blockMs: number, signal: AbortSignal): Promise<StoredEvent[]> {
    const after = Number(afterId === '$' ? await this.lastEventId(queue) : afterId) || 0;
    const deadline = Date.now() + blockMs;
    for (;;) {
      // A commit of this process between the read and the wait would wake nobody: the wait only hears
      // notices that come after it began (other processes are polled). Such a commit is read at once.
      const seen = this.sdb.generation(queue);
      const events = await this.sdb.read(() => this.r.eventsAfter(queue, after));
      if (events.length > 0 || signal.aborted || this.closed) return events;
      const left = deadline - Date.now();
      if (left <= 0) return [];
      if (this.sdb.generation(queue) === seen) await this.sdb.waitForChange(queue, left, signal);
    }
  }

  async lastEventId(queue: string): Promise<string> {
    return this.sdb.read(() => this.r.lastEventId(queue));
  }
}
