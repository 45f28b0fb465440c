import { limiterWindow } from '../sqlite/limiter.js';
import { type JobRow, type QueueRow, toRecord } from '../sqlite/rows.js';
import type { FetchRequest, FetchResult, JobRecord, MoveCode, NewJob } from '../store.js';
import { takeBatch } from './batch-fetch.js';
import { type Conn, queueLockKey } from './conn.js';
import { CLOCK_SQL } from './database.js';
import { takeGrouped } from './groups.js';
import { FETCH_META, FLUSH_AND_COMMIT, LONE_SURROGATE } from './transition-sql.js';

/** A waiting grouped job's lane is its priority in the group minus this (as on SQLite). */
export const GROUP_LANE = 4_194_304;

/** An event's fields as stored: JSON of the defined ones, all as strings. */
function fieldsJson(fields: Record<string, string | number | undefined>): string {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields)) if (value !== undefined) values[key] = String(value);
  return JSON.stringify(values);
}

/** How a cancel notice starts on the NOTIFY channel: never a pool's id (8 hex digits), so never a wake-up notice. */
export const CANCEL_NOTICE = '!cancel ';

/** What every transaction of one pool shares: how many events were written since the last trim. */
export interface EventLog {
  sinceTrim: number;
  readonly channel: string;
  /** This pool's id, sent with each notice: the pool's own listener skips it (woken at commit instead). */
  readonly sender: string;
  readonly maxEvents: number;
}

/**
 * The building blocks of PostgreSQL transitions, for one transaction (a new instance per
 * transaction: it keeps the transaction's events, counters and locks). Mirrors
 * src/store/sqlite/transitions.ts function by function, awaited.
 *
 * Concurrency: SQLite runs one writer at a time; PostgreSQL runs transactions side by side. A
 * transition first takes its queue's transaction-scoped advisory lock (`lockQueue`), and so does
 * any step that writes into another queue (a parent released in its own queue, a flow's nodes):
 * transitions of one queue then run one after the other, as on SQLite, which keeps the queue's
 * counters, limiter window and event ids in commit order (a reader of events after id n never
 * misses one that commits later with a smaller id). Two queues locked in opposite orders are a
 * deadlock PostgreSQL breaks by failing one transaction, which database.ts runs again.
 */
export class Transitions {
  /** Other queues a transaction changed: notified too. */
  readonly touched = new Set<string>();
  emitted = 0;
  /** The queues this transaction notified, to wake this process's waiters once it committed. */
  notified: string[] = [];
  private readonly locked = new Set<string>();
  private clock?: number;

  constructor(
    private readonly db: Conn,
    private readonly log: EventLog,
  ) {
    this.clock = db.clock;
    if (db.lockedQueue !== undefined) this.locked.add(db.lockedQueue);
  }

  /** Takes `queue`'s lock for the rest of the transaction (once). */
  async lockQueue(queue: string): Promise<void> {
    if (this.locked.has(queue)) return;
    this.locked.add(queue);
    await this.db.stmt('SELECT pg_advisory_xact_lock(?::bigint)').get(queueLockKey(this.db.schema, queue));
  }

  /** Marks another queue as changed by this transaction, taking its lock first. */
  async touch(queue: string): Promise<void> {
    await this.lockQueue(queue);
    this.touched.add(queue);
  }

  /**
   * Lock expiries are set and judged on the server's clock (read once per transaction), not on
   * the caller's `now`, as BullMQ's lock keys expire by TTL on the server (see the SQLite store).
   */
  async lockClock(): Promise<number> {
    this.clock ??= (await this.db.rawStmt(CLOCK_SQL, true).get()) as number;
    return this.clock;
  }

  /** Creates the queue's row when missing, reading its counters at the same time (see `counter`). */
  async ensureQueue(queue: string): Promise<void> {
    await this.counter(queue);
  }

  async meta(queue: string): Promise<QueueRow> {
    const select = this.db.stmt('SELECT * FROM queues WHERE queue = ?');
    const row = (await select.get(queue)) as QueueRow | undefined;
    if (row) return row;
    await this.ensureQueue(queue);
    return (await select.get(queue)) as QueueRow;
  }

  private readonly counters = new Map<string, { seq: number; nextId: number }>();

  private async counter(queue: string): Promise<{ seq: number; nextId: number }> {
    let c = this.counters.get(queue);
    if (!c) {
      await this.lockQueue(queue);
      const row = (await this.db
        .rawStmt(
          `WITH created AS (INSERT INTO queues (queue) VALUES (?) ON CONFLICT DO NOTHING RETURNING seq, next_id)
           SELECT seq, next_id FROM created UNION ALL SELECT seq, next_id FROM queues WHERE queue = ?`,
        )
        .get(queue, queue)) as [number, number];
      c = { seq: row[0], nextId: row[1] };
      this.counters.set(queue, c);
    }
    return c;
  }

  async nextSeq(queue: string): Promise<number> {
    return ++(await this.counter(queue)).seq;
  }

  async nextId(queue: string): Promise<number> {
    return ++(await this.counter(queue)).nextId;
  }

  /**
   * Writes what the transaction kept in memory before it commits, in one statement: the queue
   * counters, the events (arrays unnested, in order), and one NOTIFY per queue that changed,
   * which PostgreSQL delivers when the transaction commits (listener.ts). With `commit`, the
   * statement and COMMIT go in one round trip (FLUSH_AND_COMMIT), unless events are to be trimmed.
   */
  async flushPending(commit = false): Promise<void> {
    const queues = this.pendingQueues;
    if (queues.length === 0 && this.counters.size === 0 && this.woken.size === 0) return;
    const counted = [...this.counters.keys()];
    const seqs = counted.map((q) => this.counters.get(q)?.seq);
    const nextIds = counted.map((q) => this.counters.get(q)?.nextId);
    this.counters.clear();
    const names = this.pendingNames;
    const fields = this.pendingFields;
    this.pendingQueues = [];
    this.pendingNames = [];
    this.pendingFields = [];
    const changed =
      queues.length > 0 || this.woken.size > 0 ? [...new Set([...queues, ...this.touched, ...this.woken])] : [];
    this.woken.clear();
    for (const queue of changed) await this.lockQueue(queue);
    this.notified = changed;
    this.log.sinceTrim += queues.length;
    const trim = this.log.sinceTrim >= 5000;
    // JSON cannot carry a lone surrogate PostgreSQL would take: such text goes as parameters.
    if (commit && !trim && !fields.some((f) => LONE_SURROGATE.test(f))) {
      const json = JSON.stringify;
      await this.db.commitAfter(FLUSH_AND_COMMIT, {
        counted: json(counted),
        seqs: json(seqs),
        nextIds: json(nextIds),
        queues: json(queues),
        names: json(names),
        fields: json(fields),
        channel: this.log.channel,
        sender: this.log.sender,
        changed: json(changed),
      });
      return;
    }
    await this.db
      .stmt(
        `WITH counters AS (
           UPDATE queues SET seq = v.seq, next_id = v.next_id
           FROM unnest(?::text[], ?::bigint[], ?::bigint[]) AS v(queue, seq, next_id) WHERE queues.queue = v.queue
         ), written AS (
           INSERT INTO events (queue, event, fields)
           SELECT q, e, f FROM unnest(?::text[], ?::text[], ?::text[]) WITH ORDINALITY AS t(q, e, f, n) ORDER BY n
         )
         SELECT pg_notify(?, ? || ' ' || n) FROM unnest(?::text[]) AS n`,
      )
      .all(counted, seqs, nextIds, queues, names, fields, this.log.channel, this.log.sender, changed);
    if (trim) {
      this.log.sinceTrim = 0;
      for (const queue of new Set(queues)) await this.trimEvents(queue, this.log.maxEvents);
    }
  }

  /** Queues to notify at commit though no event was written (a resumed group: updateGroup). */
  private readonly woken = new Set<string>();

  wake(queue: string): void {
    this.woken.add(queue);
  }

  private pendingQueues: string[] = [];
  private pendingNames: string[] = [];
  private pendingFields: string[] = [];

  emit(queue: string, event: string, fields: Record<string, string | number | undefined> = {}): void {
    this.pendingQueues.push(queue);
    this.pendingNames.push(event);
    this.pendingFields.push(fieldsJson(fields));
    this.emitted++;
  }

  /** Returns how many events went. */
  async trimEvents(queue: string, maxLen: number): Promise<number> {
    const cut = (await this.db
      .stmt('SELECT id FROM events WHERE queue = ? ORDER BY id DESC LIMIT 1 OFFSET ?')
      .get(queue, maxLen)) as { id: number } | undefined;
    if (!cut) return 0;
    return (await this.db.stmt('DELETE FROM events WHERE queue = ? AND id <= ?').run(queue, cut.id)).changes;
  }

  /**
   * Store.cancelJob's notice for the workers of every process, sent in the transaction (PostgreSQL
   * delivers it on commit; listener.ts hands it to Store.watchCancels' listeners). The reason is cut
   * to 1 000 characters in the notice (a NOTIFY payload holds under 8 000 bytes); the job keeps it whole.
   */
  async notifyCancel(queue: string, id: string, token: string, failedReason: string): Promise<void> {
    const payload = `${CANCEL_NOTICE}${JSON.stringify([queue, id, token, failedReason.slice(0, 1000)])}`;
    await this.db.stmt('SELECT pg_notify(?, ?)').run(this.log.channel, payload);
  }

  async row(queue: string, id: string): Promise<JobRow | undefined> {
    return (await this.db.stmt('SELECT * FROM jobs WHERE queue = ? AND id = ?').get(queue, id)) as JobRow | undefined;
  }

  async exists(queue: string, id: string): Promise<boolean> {
    return (await this.db.rawStmt('SELECT 1 FROM jobs WHERE queue = ? AND id = ?', true).get(queue, id)) !== undefined;
  }

  /** What finishing a job needs of its row (see the SQLite store), locked until commit. */
  async finishRow(queue: string, id: string): Promise<FinishRow | undefined> {
    return (await this.db
      .stmt('SELECT rowid, id, state, token, sort, parent, opts FROM jobs WHERE queue = ? AND id = ? FOR UPDATE')
      .get(queue, id)) as FinishRow | undefined;
  }

  async insert(queue: string, id: string, job: NewJob, waitingChildren = false): Promise<void> {
    const delayed = job.delay > 0 && !waitingChildren;
    const placement = waitingChildren
      ? { state: 'waiting-children', lane: 0, sort: job.timestamp }
      : delayed
        ? { state: 'delayed', lane: 0, sort: job.timestamp + job.delay }
        : await this.waitingPlace(queue, job.priority, job.lifo, false, job.group?.id);
    await this.db
      .stmt(
        `INSERT INTO jobs (queue, id, state, lane, sort, name, data, opts, timestamp, delay, priority, lifo, parent, grp)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        queue,
        id,
        placement.state,
        placement.lane,
        placement.sort,
        job.name,
        job.data,
        job.opts,
        job.timestamp,
        job.delay,
        job.priority,
        job.lifo ? 1 : 0,
        job.parent ? JSON.stringify(job.parent) : null,
        job.group?.id ?? null,
      );
    this.emit(queue, 'added', { jobId: id, name: job.name });
    if (waitingChildren) this.emit(queue, 'waiting-children', { jobId: id });
    else if (delayed) this.emit(queue, 'delayed', { jobId: id, delay: job.timestamp + job.delay });
    else this.emit(queue, 'waiting', { jobId: id });
  }

  /** Where a job goes when it becomes runnable; a grouped job to its group's lane (see the SQLite store). */
  async waitingPlace(
    queue: string,
    priority: number,
    lifo: boolean,
    head = false,
    grp?: string | null,
  ): Promise<{ state: string; lane: number; sort: number }> {
    const seq = await this.nextSeq(queue);
    if (grp != null) {
      await this.db
        .stmt(
          'INSERT INTO groups (queue, id, rr, ready) VALUES (?, ?, ?, 1) ON CONFLICT (queue, id) DO UPDATE SET ready = 1',
        )
        .run(queue, grp, seq);
      return { state: 'waiting', lane: priority - GROUP_LANE, sort: head ? -seq : seq };
    }
    return { state: 'waiting', lane: priority, sort: head || (lifo && priority === 0) ? -seq : seq };
  }

  /** Moves a job to waiting (its lane), clearing the lock; emits `waiting` (see the SQLite store). */
  async toWaiting(queue: string, row: JobRow, prev?: string, front: boolean | 'head' = false): Promise<void> {
    const place = await this.waitingPlace(
      queue,
      row.priority,
      front === true || row.lifo === 1,
      front === 'head' || (front === true && row.grp !== null),
      row.grp,
    );
    // A promoted job (promote, promoteJobs, or due) has no delay left: 0, as on Redis and in BullMQ.
    await this.db
      .stmt(
        `UPDATE jobs SET state = 'waiting', lane = ?, sort = ?, token = NULL,
           delay = CASE WHEN ? THEN 0 ELSE delay END WHERE rowid = ?`,
      )
      .run(place.lane, place.sort, prev === 'delayed', row.rowid);
    this.emit(queue, 'waiting', prev ? { jobId: row.id, prev } : { jobId: row.id });
  }

  /** With `delay`, the job's delay becomes it (a retry's backoff, a step's wait), as on Redis. */
  async toDelayed(queue: string, row: JobRow, due: number, delay?: number): Promise<void> {
    await this.db
      .stmt(
        `UPDATE jobs SET state = 'delayed', lane = 0, sort = ?, token = NULL, delay = coalesce(?, delay)
         WHERE rowid = ?`,
      )
      .run(due, delay ?? null, row.rowid);
    this.emit(queue, 'delayed', { jobId: row.id, delay: due });
  }

  async promoteDue(queue: string, now: number): Promise<void> {
    const due = (await this.db
      .stmt(
        "SELECT * FROM jobs WHERE queue = ? AND state = 'delayed' AND lane = 0 AND sort <= ? ORDER BY sort, rowid LIMIT 1000",
      )
      .all(queue, now)) as JobRow[];
    for (const row of due) await this.toWaiting(queue, row, 'delayed');
  }

  private async nextDelayed(queue: string): Promise<number | undefined> {
    return (await this.db
      .rawStmt("SELECT sort FROM jobs WHERE queue = ? AND state = 'delayed' AND lane = 0 ORDER BY sort LIMIT 1", true)
      .get(queue)) as number | undefined;
  }

  /** Checks that `token` holds a live lock on the active job `row` (BullMQ's codes). */
  async lockCode(
    row: Pick<JobRow, 'state' | 'token' | 'sort'> | undefined,
    token: string | undefined,
    _now: number,
  ): Promise<MoveCode> {
    if (!row) return -1;
    if (token === undefined || token === '') return row.state === 'active' ? 0 : -3;
    if (row.state !== 'active' || row.token === null || row.sort < (await this.lockClock())) return -2;
    if (row.token !== token) return -6;
    return 0;
  }

  async fetch(queue: string, req: FetchRequest): Promise<FetchResult> {
    const now = req.now;
    // The queue's row and its earliest delayed job in one read (the row nearly always exists).
    const sent = this.db.takePrelude('meta'); // FETCH_META, read with BEGIN by a fetch that is the whole transition
    let meta = (sent ? sent[0] : await this.db.stmt(FETCH_META.replaceAll(':queue', '?')).get(queue, queue, queue)) as
      | (QueueRow & { next_delayed: number | null; has_groups: boolean })
      | undefined;
    // Read with the queue's row: a queue without ready groups pays no round trip for them (takeAll).
    this.readyGroups = meta ? meta.has_groups : undefined;
    let next = meta ? (meta.next_delayed ?? undefined) : await this.nextDelayed(queue);
    if (next !== undefined && next <= now) {
      await this.promoteDue(queue, now);
      this.readyGroups = undefined; // a promoted grouped job may have made its group ready
      next = await this.nextDelayed(queue);
    }
    meta ??= { ...(await this.meta(queue)), next_delayed: null, has_groups: true };
    const result: FetchResult = { jobs: [], rateLimitTtl: 0, paused: meta.paused === 1 };
    if (next !== undefined) result.nextDelayedAt = next;
    if (result.paused || req.tokens.length === 0) return result;
    if (meta.rate_limit_until > now) {
      result.rateLimitTtl = meta.rate_limit_until - now;
      return result;
    }
    let wanted = req.tokens.length;
    if (meta.concurrency !== null) {
      const active = (await this.db
        .stmt("SELECT count(*) AS n FROM jobs WHERE queue = ? AND state = 'active'")
        .get(queue)) as { n: number };
      wanted = Math.min(wanted, meta.concurrency - active.n);
      if (wanted <= 0) return result;
    }
    const window = limiterWindow(meta, req, now);
    if (window) {
      if (window.room === 0) {
        result.rateLimitTtl = window.ttl;
        return result;
      }
      const rows = await this.takeAll(queue, req, Math.min(wanted, window.room));
      await this.db
        .stmt('UPDATE queues SET limiter_window_end = ?, limiter_count = ? WHERE queue = ?')
        .run(window.windowEnd, window.count + rows.length, queue);
      result.jobs = rows;
      return result;
    }
    this.groupWakeAt = undefined;
    result.jobs = await this.takeAll(queue, req, wanted);
    // A group in a used-up rate window: the worker should look again when it ends.
    if (result.jobs.length === 0 && this.groupWakeAt !== undefined) {
      result.nextDelayedAt = Math.min(result.nextDelayedAt ?? this.groupWakeAt, this.groupWakeAt);
    }
    return result;
  }

  /** Set by the grouped fetch: when the earliest group it passed over for its rate limit may run again. */
  groupWakeAt: number | undefined;

  /** Whether the fetch's first read saw a ready group (undefined: not read, look). */
  private readyGroups: boolean | undefined;

  private async takeAll(queue: string, req: FetchRequest, n: number): Promise<JobRecord[]> {
    return req.batch ? takeBatch(this.db, this, queue, req, n) : this.takeMixed(queue, req, n);
  }

  /** The queue's own waiting jobs first; grouped ones (BullMQ Pro: after them) only when those run short. */
  async takeMixed(queue: string, req: FetchRequest, n: number): Promise<JobRecord[]> {
    const jobs = await this.take(queue, req, n);
    if (jobs.length >= n || this.readyGroups === false) return jobs;
    const more = await takeGrouped(this.db, this, queue, req, n - jobs.length, jobs.length);
    return more.length > 0 ? jobs.concat(more) : jobs;
  }

  /** Moves job `rowid` (waiting) to active under `token`; its record. */
  async activate(
    queue: string,
    rowid: number,
    req: FetchRequest,
    token: string,
    lockUntil: number,
  ): Promise<JobRecord> {
    const row = (await this.db
      .stmt(
        `UPDATE jobs SET state = 'active', lane = 0, sort = ?, token = ?, processed_on = ?,
           attempts_started = attempts_started + 1, processed_by = coalesce(?, processed_by)
         WHERE rowid = ? RETURNING *`,
      )
      .get(lockUntil, token, req.now, req.processedBy ?? null, rowid)) as JobRow;
    this.emit(queue, 'active', { jobId: row.id, prev: 'waiting' });
    return toRecord(row);
  }

  /**
   * Moves the first `n` waiting jobs to active, job i with lock `req.tokens[i]`, in one statement:
   * the jobs are picked in queue order and locked (SKIP LOCKED: one another transaction is moving is
   * passed over, not waited for), paired with the tokens by rank, updated, and returned as they are
   * now.
   */
  async take(queue: string, req: FetchRequest, n: number): Promise<JobRecord[]> {
    if (n <= 0) return [];
    const lockUntil = (await this.lockClock()) + req.lockDuration;
    const rows = (await this.db
      .stmt(
        `WITH picked AS (
           SELECT rowid, lane, sort FROM jobs WHERE queue = ? AND state = 'waiting' AND lane >= 0
           ORDER BY lane, sort LIMIT ? FOR UPDATE SKIP LOCKED
         ), ranked AS (
           SELECT p.rowid, t.token, t.n FROM (SELECT rowid, row_number() OVER (ORDER BY lane, sort, rowid) AS n FROM picked) p
           JOIN unnest(?::text[]) WITH ORDINALITY AS t(token, n) ON t.n = p.n
         )
         UPDATE jobs SET state = 'active', lane = 0, sort = ?, token = ranked.token, processed_on = ?,
           attempts_started = attempts_started + 1, processed_by = coalesce(?, processed_by)
         FROM ranked WHERE jobs.rowid = ranked.rowid
         RETURNING ranked.n AS rank, jobs.*`,
      )
      .all(queue, n, req.tokens.slice(0, n), lockUntil, req.now, req.processedBy ?? null)) as (JobRow & {
      rank: number;
    })[];
    rows.sort((a, b) => a.rank - b.rank);
    return rows.map((row) => {
      this.emit(queue, 'active', { jobId: row.id, prev: 'waiting' });
      return toRecord(row);
    });
  }

  /** Set by flows.ts: takes a deleted child (before its row goes) out of its parent's pending children. */
  childRemoved?: (queue: string, id: string, parent: string, now: number, hard: Removal['hard']) => Promise<void>;

  /** Deletes a job, its logs and children links; with `parent` and `how`, tells `childRemoved` first. */
  async deleteJob(
    queue: string,
    id: string,
    rowid: number,
    parent: string | null = null,
    how?: Removal,
  ): Promise<void> {
    if (parent && how) await this.childRemoved?.(queue, id, parent, how.now, how.hard);
    await this.db
      .stmt(
        `WITH job AS (DELETE FROM jobs WHERE rowid = ?), job_logs AS (DELETE FROM logs WHERE queue = ? AND job_id = ?)
         DELETE FROM deps WHERE parent_queue = ? AND parent_id = ?`,
      )
      .run(rowid, queue, id, queue, id);
  }

  async hasWaitingOrActive(queue: string): Promise<boolean> {
    return !!(await this.db
      .rawStmt("SELECT 1 FROM jobs WHERE queue = ? AND state IN ('waiting', 'active') LIMIT 1")
      .get(queue));
  }

  /** Group `id`'s waiting jobs, counted up to `cap`. */
  async groupWaitingCount(queue: string, id: string, cap: number): Promise<number> {
    return (await this.db
      .rawStmt(
        "SELECT count(*)::int FROM (SELECT 1 FROM jobs WHERE queue = ? AND grp = ? AND state = 'waiting' LIMIT ?) AS g",
        true,
      )
      .get(queue, id, cap)) as number;
  }

  async waitingCount(queue: string): Promise<number> {
    return (
      (await this.db.stmt("SELECT count(*) AS n FROM jobs WHERE queue = ? AND state = 'waiting'").get(queue)) as {
        n: number;
      }
    ).n;
  }
}

/** The columns of a job row `finishRow` reads. */
export type FinishRow = Pick<JobRow, 'rowid' | 'id' | 'state' | 'token' | 'sort' | 'parent' | 'opts'>;

/** How a child leaves its parent when deleted (see the SQLite store). */
export type Removal = { now: number; hard: boolean | 'queue' };
