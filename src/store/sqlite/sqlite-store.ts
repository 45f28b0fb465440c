import type {
  AddResult,
  CompleteItem,
  Dependencies,
  FailItem,
  FetchRequest,
  FetchResult,
  FlowJob,
  JobRecord,
  JobState,
  MetricsRead,
  MoveCode,
  MoveResult,
  NewJob,
  SchedulerRecord,
  StalledResult,
  Store,
  StoredEvent,
  WorkerInfo,
} from '../store.js';
import { SharedDatabase, type SqliteOptions } from './database.js';
import { FlowLinks } from './flows.js';
import { Housekeeping } from './housekeeping.js';
import { Parity } from './parity.js';
import { type JobRow, listFilter, stateOf, toRecord } from './rows.js';
import { Transitions } from './transitions.js';

/** The embedded store: better-sqlite3, WAL, one IMMEDIATE transaction per transition. */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly sdb: SharedDatabase;
  private readonly t: Transitions;
  private readonly h: Housekeeping;
  private readonly f: FlowLinks;
  private readonly p: Parity;
  private closed = false;

  constructor(path: string, opts: SqliteOptions = {}) {
    this.sdb = SharedDatabase.acquire(path, opts);
    this.t = new Transitions(this.sdb);
    this.h = new Housekeeping(this.sdb, this.t);
    this.f = new FlowLinks(this.sdb, this.t);
    this.p = new Parity(this.sdb, this.t, this.f);
  }

  async ready(): Promise<void> {}

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sdb.release();
  }

  private async write<T>(queue: string, fn: () => T): Promise<T> {
    this.t.touched.clear();
    const emittedBefore = this.t.emitted;
    let out: T;
    try {
      out = await this.sdb.transact(() => {
        this.t.discardPending(); // left by an attempt that hit a busy file
        const result = fn();
        this.t.flushPending();
        return result;
      });
    } catch (err) {
      this.t.touched.clear();
      this.t.discardPending();
      throw err;
    }
    // Wake waiters only when something happened (an event was written): an empty fetch that woke
    // the other workers would have them fetch and wake each other forever.
    if (this.t.emitted !== emittedBefore) {
      this.sdb.notify(queue);
      for (const other of this.t.touched) if (other !== queue) this.sdb.notify(other);
    }
    this.t.touched.clear();
    return out;
  }

  async addJobs(queue: string, jobs: NewJob[]): Promise<AddResult> {
    const now = Date.now();
    return this.write(queue, () => {
      this.t.ensureQueue(queue);
      const ids: string[] = [];
      const duplicated: boolean[] = [];
      for (const job of jobs) {
        const existing = this.p.dedupBeforeAdd(queue, job, now);
        if (existing !== undefined) {
          ids.push(existing);
          duplicated.push(true);
          continue;
        }
        if (job.id !== undefined && this.t.exists(queue, job.id)) {
          this.t.emit(queue, 'duplicated', { jobId: job.id });
          ids.push(job.id);
          duplicated.push(true);
          continue;
        }
        ids.push(this.insertJob(queue, job, now));
        duplicated.push(false);
      }
      return { ids, duplicated };
    });
  }

  /** Inserts one job (auto id when it has none), links its parent and claims its dedup id. */
  private insertJob(queue: string, job: NewJob, now: number): string {
    const id = job.id ?? String(this.t.nextId(queue));
    this.t.insert(queue, id, job);
    if (job.parent) this.f.link(queue, id, job.parent);
    this.p.claimDedup(queue, job, id, now);
    return id;
  }

  /** Bookkeeping every job finishing for good needs: its dedup id and, when asked, metrics. */
  private afterFinish(
    queue: string,
    row: Pick<JobRow, 'id' | 'opts'>,
    type: 'completed' | 'failed',
    now: number,
    metrics?: number,
  ): void {
    this.p.dedupAfterFinish(queue, row, now, (job) => this.insertJob(queue, job, now));
    if (metrics) this.p.recordMetric(queue, type, now, metrics);
  }

  async addFlow(nodes: FlowJob[]): Promise<{ duplicated: boolean[] }> {
    return this.write(nodes[0]?.queue ?? '', () => {
      const duplicated = nodes.map((node) => {
        this.t.ensureQueue(node.queue);
        this.t.touched.add(node.queue);
        if (this.t.exists(node.queue, node.id)) {
          this.t.emit(node.queue, 'duplicated', { jobId: node.id });
          return true;
        }
        this.t.insert(node.queue, node.id, node, node.hasChildren);
        if (node.parent) this.f.link(node.queue, node.id, node.parent);
        return false;
      });
      return { duplicated };
    });
  }

  async moveToWaitingChildren(queue: string, id: string, token: string | undefined, now: number): Promise<number> {
    return this.write(queue, () => {
      const row = this.t.row(queue, id);
      const code = this.t.lockCode(row, token, now);
      if (code !== 0 || !row) return code;
      return this.f.toWaitingChildren(queue, row, now);
    });
  }

  async getDependencies(queue: string, id: string): Promise<Dependencies> {
    return this.sdb.read(() => this.f.dependencies(queue, id));
  }

  async fetchNext(queue: string, req: FetchRequest): Promise<FetchResult> {
    return this.write(queue, () => this.t.fetch(queue, req));
  }

  async waitForWork(queue: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (this.closed) return;
    await this.sdb.waitForChange(queue, timeoutMs, signal);
  }

  async complete(queue: string, items: CompleteItem[], now: number, fetch?: FetchRequest): Promise<MoveResult> {
    return this.write(queue, () => {
      const codes = items.map((item) => {
        // The narrow read: the lock and what the follow-ups below read, not the whole row.
        const row = this.t.finishRow(queue, item.id);
        const code = this.t.lockCode(row, item.token, now);
        if (code !== 0 || !row) return code;
        this.sdb
          .stmt(
            `UPDATE jobs SET state = 'completed', lane = 0, sort = ?, finished_on = ?, returnvalue = ?, token = NULL,
               attempts_made = attempts_made + 1 WHERE rowid = ?`,
          )
          .run(now, now, item.returnvalue, row.rowid);
        this.t.emit(queue, 'completed', { jobId: item.id, returnvalue: item.returnvalue, prev: 'active' });
        this.f.childCompleted(queue, row, item.returnvalue, now);
        this.afterFinish(queue, row, 'completed', now, item.metrics);
        this.t.applyRetention(queue, 'completed', row, item.retention, now);
        return 0 as MoveCode;
      });
      return { codes, next: fetch ? this.fetchAfterMove(queue, fetch, codes) : undefined };
    });
  }

  async fail(queue: string, items: FailItem[], now: number, fetch?: FetchRequest): Promise<MoveResult> {
    return this.write(queue, () => {
      const codes = items.map((item) => {
        const row = this.t.row(queue, item.id);
        const code = this.t.lockCode(row, item.token, now);
        if (code !== 0 || !row) return code;
        this.sdb
          .stmt('UPDATE jobs SET failed_reason = ?, stacktrace = ?, attempts_made = attempts_made + 1 WHERE rowid = ?')
          .run(item.failedReason, item.stacktrace, row.rowid);
        if (item.retryDelay === null) {
          this.sdb
            .stmt("UPDATE jobs SET state = 'failed', lane = 0, sort = ?, finished_on = ?, token = NULL WHERE rowid = ?")
            .run(now, now, row.rowid);
          this.t.emit(queue, 'failed', { jobId: item.id, failedReason: item.failedReason, prev: 'active' });
          if (item.retriesExhausted) {
            this.t.emit(queue, 'retries-exhausted', { jobId: item.id, attemptsMade: row.attempts_made + 1 });
          }
          this.f.childFailed(queue, row, item.failedReason, now);
          this.afterFinish(queue, row, 'failed', now, item.metrics);
          this.t.applyRetention(queue, 'failed', row, item.retention, now);
        } else if (item.retryDelay > 0) {
          this.t.toDelayed(queue, row, now + item.retryDelay);
        } else {
          this.t.toWaiting(queue, row, 'failed');
        }
        return 0 as MoveCode;
      });
      return { codes, next: fetch ? this.fetchAfterMove(queue, fetch, codes) : undefined };
    });
  }

  /** Fetch in the same step as a move; refused items' slots get no job (their owner lost the lock). */
  private fetchAfterMove(queue: string, fetch: FetchRequest, codes: MoveCode[]): FetchResult {
    const refused = codes.filter((c) => c !== 0).length;
    const next = this.t.fetch(queue, {
      ...fetch,
      tokens: fetch.tokens.slice(0, Math.max(0, fetch.tokens.length - refused)),
    });
    if (next.jobs.length === 0 && !next.paused && next.rateLimitTtl === 0 && this.t.waitingCount(queue) === 0) {
      this.t.emit(queue, 'drained');
    }
    return next;
  }

  async extendLocks(
    queue: string,
    ids: string[],
    tokens: string[],
    durationMs: number,
    now: number,
  ): Promise<string[]> {
    return this.sdb.transact(() => {
      const lost: string[] = [];
      const extend = this.sdb.stmt(
        "UPDATE jobs SET sort = ? WHERE queue = ? AND id = ? AND state = 'active' AND token = ? AND sort >= ? RETURNING id",
      );
      ids.forEach((id, i) => {
        if (!extend.get(now + durationMs, queue, id, tokens[i], now)) lost.push(id);
      });
      return lost;
    });
  }

  async recoverStalled(
    queue: string,
    opts: { maxStalledCount: number; intervalMs: number; now: number; force?: boolean },
  ): Promise<StalledResult> {
    return this.write(queue, () => {
      const result: StalledResult = { recovered: [], failed: [] };
      const meta = this.t.meta(queue);
      if (!opts.force && meta.stalled_check_until > opts.now) return result;
      this.sdb.stmt('UPDATE queues SET stalled_check_until = ? WHERE queue = ?').run(opts.now + opts.intervalMs, queue);
      const lapsed = this.sdb
        .stmt("SELECT rowid, * FROM jobs WHERE queue = ? AND state = 'active' AND lane = 0 AND sort < ? ORDER BY sort")
        .all(queue, opts.now) as JobRow[];
      for (const row of lapsed) {
        if (row.stalled_counter + 1 > opts.maxStalledCount) {
          const reason = 'job stalled more than allowable limit';
          this.sdb
            .stmt(
              `UPDATE jobs SET state = 'failed', lane = 0, sort = ?, finished_on = ?, token = NULL, failed_reason = ?,
                 stalled_counter = stalled_counter + 1, attempts_made = attempts_made + 1 WHERE rowid = ?`,
            )
            .run(opts.now, opts.now, reason, row.rowid);
          this.t.emit(queue, 'failed', { jobId: row.id, failedReason: reason, prev: 'active' });
          this.f.childFailed(queue, row, reason, opts.now);
          this.afterFinish(queue, row, 'failed', opts.now);
          result.failed.push(row.id);
        } else {
          this.sdb.stmt('UPDATE jobs SET stalled_counter = stalled_counter + 1 WHERE rowid = ?').run(row.rowid);
          this.t.emit(queue, 'stalled', { jobId: row.id });
          this.t.toWaiting(queue, row, 'active', true);
          result.recovered.push(row.id);
        }
      }
      return result;
    });
  }

  async moveToDelayed(
    queue: string,
    id: string,
    token: string | undefined,
    timestamp: number,
    now: number,
  ): Promise<MoveCode> {
    return this.write(queue, () => {
      const row = this.t.row(queue, id);
      const code = this.t.lockCode(row, token, now);
      if (code !== 0 || !row) return code;
      this.t.toDelayed(queue, row, timestamp);
      return 0;
    });
  }

  async moveToWait(queue: string, id: string, token: string | undefined, now: number): Promise<MoveCode> {
    return this.write(queue, () => {
      const row = this.t.row(queue, id);
      const code = this.t.lockCode(row, token, now);
      if (code !== 0 || !row) return code;
      this.t.toWaiting(queue, row, 'active', true);
      return 0;
    });
  }

  async pause(queue: string, paused: boolean): Promise<void> {
    await this.write(queue, () => {
      this.t.ensureQueue(queue);
      this.sdb.stmt('UPDATE queues SET paused = ? WHERE queue = ?').run(paused ? 1 : 0, queue);
      this.t.emit(queue, paused ? 'paused' : 'resumed');
    });
  }

  async isPaused(queue: string): Promise<boolean> {
    return this.sdb.read(() => {
      const row = this.sdb.stmt('SELECT paused FROM queues WHERE queue = ?').get(queue) as
        | { paused: number }
        | undefined;
      return row?.paused === 1;
    });
  }

  async rateLimit(queue: string, ms: number, now: number): Promise<void> {
    await this.write(queue, () => {
      this.t.ensureQueue(queue);
      this.sdb.stmt('UPDATE queues SET rate_limit_until = ? WHERE queue = ?').run(now + ms, queue);
    });
  }

  async getRateLimitTtl(queue: string, now: number): Promise<number> {
    return this.sdb.read(() => {
      const row = this.sdb
        .stmt('SELECT rate_limit_until, limiter_window_end, limiter_count FROM queues WHERE queue = ?')
        .get(queue) as { rate_limit_until: number } | undefined;
      return Math.max(0, (row?.rate_limit_until ?? 0) - now);
    });
  }

  async getJob(queue: string, id: string): Promise<JobRecord | undefined> {
    return this.sdb.read(() => {
      const row = this.t.row(queue, id);
      return row ? toRecord(row) : undefined;
    });
  }

  async getState(queue: string, id: string): Promise<JobState | 'unknown'> {
    return this.sdb.read(() => {
      const row = this.sdb.stmt('SELECT state, lane FROM jobs WHERE queue = ? AND id = ?').get(queue, id) as
        | Pick<JobRow, 'state' | 'lane'>
        | undefined;
      return row ? stateOf(row) : 'unknown';
    });
  }

  async getCounts(queue: string, types: string[]): Promise<Record<string, number>> {
    return this.sdb.read(() => {
      const byState = this.sdb
        .stmt('SELECT state, lane > 0 AS prioritized, count(*) AS n FROM jobs WHERE queue = ? GROUP BY state, lane > 0')
        .all(queue) as { state: string; prioritized: number; n: number }[];
      const count = (state: string, prioritized?: boolean) =>
        byState
          .filter((r) => r.state === state && (prioritized === undefined || !!r.prioritized === prioritized))
          .reduce((sum, r) => sum + r.n, 0);
      const paused = (
        this.sdb.stmt('SELECT paused FROM queues WHERE queue = ?').get(queue) as { paused: number } | undefined
      )?.paused;
      const out: Record<string, number> = {};
      for (const type of types) {
        if (type === 'paused') out[type] = paused === 1 ? count('waiting') : 0;
        else {
          const f = listFilter(type);
          out[type] = f ? count(f.state, f.prioritized) : 0;
        }
      }
      return out;
    });
  }

  async getRange(queue: string, types: string[], start: number, end: number, asc: boolean): Promise<string[]> {
    return this.sdb.read(() => {
      const seen = new Set<string>();
      const out: string[] = [];
      for (const type of types) {
        const f = type === 'paused' ? { state: 'waiting' } : listFilter(type);
        if (!f) continue;
        const lane = f.prioritized === undefined ? '' : f.prioritized ? 'AND lane > 0' : 'AND lane = 0';
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
    });
  }

  async getLogs(
    queue: string,
    id: string,
    start: number,
    end: number,
    asc: boolean,
  ): Promise<{ logs: string[]; count: number }> {
    return this.sdb.read(() => {
      const limit = end < 0 ? -1 : end - start + 1;
      const rows = this.sdb
        .stmt(
          `SELECT row FROM logs WHERE queue = ? AND job_id = ? ORDER BY seq ${asc ? 'ASC' : 'DESC'} LIMIT ? OFFSET ?`,
        )
        .all(queue, id, limit, start) as { row: string }[];
      const { n } = this.sdb.stmt('SELECT count(*) AS n FROM logs WHERE queue = ? AND job_id = ?').get(queue, id) as {
        n: number;
      };
      return { logs: rows.map((r) => r.row), count: n };
    });
  }

  async updateProgress(queue: string, id: string, progress: string): Promise<MoveCode> {
    return this.write(queue, () => {
      const res = this.sdb.stmt('UPDATE jobs SET progress = ? WHERE queue = ? AND id = ?').run(progress, queue, id);
      if (res.changes === 0) return -1;
      this.t.emit(queue, 'progress', { jobId: id, data: progress });
      return 0;
    });
  }

  async updateData(queue: string, id: string, data: string): Promise<MoveCode> {
    return this.write(queue, () => {
      const res = this.sdb.stmt('UPDATE jobs SET data = ? WHERE queue = ? AND id = ?').run(data, queue, id);
      return res.changes === 0 ? -1 : 0;
    });
  }

  async addLog(queue: string, id: string, row: string, keepLogs?: number): Promise<number> {
    return this.write(queue, () => {
      if (!this.t.exists(queue, id)) return -1;
      this.sdb.stmt('INSERT INTO logs (queue, job_id, row) VALUES (?, ?, ?)').run(queue, id, row);
      if (keepLogs !== undefined) this.trimLogs(queue, id, keepLogs);
      return (
        this.sdb.stmt('SELECT count(*) AS n FROM logs WHERE queue = ? AND job_id = ?').get(queue, id) as { n: number }
      ).n;
    });
  }

  async clearLogs(queue: string, id: string, keep: number): Promise<void> {
    await this.write(queue, () => this.trimLogs(queue, id, keep));
  }

  private trimLogs(queue: string, id: string, keep: number): void {
    this.sdb
      .stmt(
        `DELETE FROM logs WHERE queue = ? AND job_id = ? AND seq NOT IN
           (SELECT seq FROM logs WHERE queue = ? AND job_id = ? ORDER BY seq DESC LIMIT ?)`,
      )
      .run(queue, id, queue, id, keep);
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
    return this.write(queue, () => this.h.drain(queue, delayed));
  }

  obliterate(queue: string, force: boolean, count: number): Promise<number> {
    return this.write(queue, () => this.h.obliterate(queue, force, count));
  }

  trimEvents(queue: string, maxLen: number): Promise<void> {
    return this.write(queue, () => this.t.trimEvents(queue, maxLen));
  }

  upsertScheduler(queue: string, rec: SchedulerRecord, first?: NewJob & { id: string }): Promise<string | undefined> {
    return this.write(queue, () => this.p.upsertScheduler(queue, rec, first));
  }

  scheduleNext(
    queue: string,
    id: string,
    prevMillis: number,
    job?: NewJob & { id: string },
  ): Promise<string | undefined> {
    return this.write(queue, () => this.p.scheduleNext(queue, id, prevMillis, job));
  }

  getScheduler(queue: string, id: string): Promise<SchedulerRecord | undefined> {
    return this.sdb.read(() => this.p.getScheduler(queue, id));
  }

  getSchedulers(queue: string, start: number, end: number, asc: boolean): Promise<SchedulerRecord[]> {
    return this.sdb.read(() => this.p.getSchedulers(queue, start, end, asc));
  }

  countSchedulers(queue: string): Promise<number> {
    return this.sdb.read(() => this.p.countSchedulers(queue));
  }

  removeScheduler(queue: string, id: string): Promise<boolean> {
    return this.write(queue, () => this.p.removeScheduler(queue, id));
  }

  getDedupJobId(queue: string, dedupId: string, now: number): Promise<string | undefined> {
    return this.sdb.read(() => this.p.liveDedup(queue, dedupId, now)?.row.job_id);
  }

  removeDedupKey(queue: string, dedupId: string, jobId?: string): Promise<number> {
    return this.write(queue, () => this.p.removeDedup(queue, dedupId, jobId));
  }

  setGlobalConcurrency(queue: string, n: number | undefined): Promise<void> {
    return this.write(queue, () => {
      this.t.ensureQueue(queue);
      this.sdb.stmt('UPDATE queues SET concurrency = ? WHERE queue = ?').run(n ?? null, queue);
    });
  }

  setGlobalRateLimit(queue: string, limit: { max: number; duration: number } | undefined): Promise<void> {
    return this.write(queue, () => {
      this.t.ensureQueue(queue);
      this.sdb
        .stmt('UPDATE queues SET global_max = ?, global_duration = ? WHERE queue = ?')
        .run(limit?.max ?? null, limit?.duration ?? null, queue);
    });
  }

  getGlobalLimits(queue: string): Promise<{ concurrency?: number; rateLimit?: { max: number; duration: number } }> {
    return this.sdb.read(() => {
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
    });
  }

  getMetrics(queue: string, type: 'completed' | 'failed', now: number): Promise<MetricsRead> {
    return this.sdb.read(() => this.p.getMetrics(queue, type, now));
  }

  getCountsPerPriority(queue: string, priorities: number[]): Promise<Record<string, number>> {
    return this.sdb.read(() => this.p.countsPerPriority(queue, priorities));
  }

  registerWorker(queue: string, info: WorkerInfo, ttlMs: number): Promise<void> {
    return this.sdb.transact(() => this.p.registerWorker(queue, info, ttlMs));
  }

  unregisterWorker(queue: string, id: string): Promise<void> {
    return this.sdb.transact(() => this.p.unregisterWorker(queue, id));
  }

  getWorkers(queue: string, now: number): Promise<WorkerInfo[]> {
    return this.sdb.read(() => this.p.getWorkers(queue, now));
  }

  removeChildDependency(queue: string, id: string, now: number): Promise<boolean> {
    return this.write(queue, () => this.p.removeChildDependency(queue, id, now));
  }

  removeUnprocessedChildren(queue: string, id: string): Promise<void> {
    return this.write(queue, () => this.p.removeUnprocessedChildren(queue, id));
  }

  /** A job row always has a state: there are no orphans to remove. */
  async removeOrphanedJobs(_queue: string, _count: number, _limit: number): Promise<number> {
    return 0;
  }

  /** Names (without the prefix) of the queues stored under `prefix`, sorted. */
  async listQueues(prefix: string): Promise<string[]> {
    const head = `${prefix}:`;
    return this.sdb.read(() =>
      (
        this.sdb
          .stmt('SELECT queue FROM queues WHERE substr(queue, 1, ?) = ? ORDER BY queue')
          .all(head.length, head) as {
          queue: string;
        }[]
      )
        .map((r) => r.queue.slice(head.length))
        .filter((name) => name.length > 0 && !name.includes(':')),
    );
  }

  async readEvents(queue: string, afterId: string, blockMs: number, signal: AbortSignal): Promise<StoredEvent[]> {
    const after = Number(afterId === '$' ? await this.lastEventId(queue) : afterId) || 0;
    const deadline = Date.now() + blockMs;
    for (;;) {
      const rows = (await this.sdb.read(() =>
        this.sdb
          .stmt('SELECT id, event, fields FROM events WHERE queue = ? AND id > ? ORDER BY id LIMIT 1000')
          .all(queue, after),
      )) as { id: number; event: string; fields: string }[];
      if (rows.length > 0 || signal.aborted || this.closed) {
        return rows.map((r) => ({ ...JSON.parse(r.fields), id: String(r.id), event: r.event }) as StoredEvent);
      }
      const left = deadline - Date.now();
      if (left <= 0) return [];
      await this.sdb.waitForChange(queue, left, signal);
    }
  }

  async lastEventId(queue: string): Promise<string> {
    return this.sdb.read(() =>
      String(
        (this.sdb.stmt('SELECT max(id) AS id FROM events WHERE queue = ?').get(queue) as { id: number | null }).id ?? 0,
      ),
    );
  }
}
