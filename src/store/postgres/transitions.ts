import type { JobRow, QueueRow } from '../sql/rows.js';
import type { FetchRequest, FetchResult, MoveCode, NewJob } from '../store.js';
import { CommitTail } from './commit-tail.js';
import { CLOCK_SQL, type Conn, queueLockKey } from './conn.js';
import { CANCEL_NOTICE, type EventLog, fieldsJson } from './event-log.js';
import { trimToCap } from './event-trim.js';
import { Fetching } from './fetching.js';
import { COUNT_INSERTED } from './state-counts.js';
import { FLUSH_AND_COMMIT, LONE_SURROGATE } from './transition-sql.js';

/** A waiting grouped job's lane is its priority in the group minus this (as on SQLite). */
export const GROUP_LANE = 4_194_304;

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
  /** What goes in the commit's round trip besides the events (commit-tail.ts). */
  readonly tail = new CommitTail();
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
    const { before, after } = this.tail.take();
    if (queues.length === 0 && this.counters.size === 0 && this.woken.size === 0 && before.length + after.length === 0)
      return;
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
    const trim = this.log.sinceTrim >= this.log.caps.threshold();
    // JSON cannot carry a lone surrogate PostgreSQL would take: such text goes as parameters.
    if (commit && !trim && !fields.some((f) => LONE_SURROGATE.test(f))) {
      const json = JSON.stringify;
      const results = await this.db.commitAfter(
        FLUSH_AND_COMMIT,
        {
          counted: json(counted),
          seqs: json(seqs),
          nextIds: json(nextIds),
          queues: json(queues),
          names: json(names),
          fields: json(fields),
          channel: this.log.channel,
          sender: this.log.sender,
          changed: json(changed),
        },
        before,
        after,
      );
      this.log.sinceTrim += this.tail.ran(results);
      return;
    }
    if (before.length > 0) await this.db.simple(before);
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
    if (after.length > 0) this.log.sinceTrim += this.tail.ran(await this.db.simple(after));
    if (trim) {
      this.log.sinceTrim = 0;
      for (const queue of new Set([...queues, ...this.log.caps.queues()])) await trimToCap(this.db, this.log, queue);
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
        `WITH inserted AS (
           INSERT INTO jobs (queue, id, state, lane, sort, name, data, opts, timestamp, delay, priority, lifo, parent, grp)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING queue, state, lane
         ) ${COUNT_INSERTED}`,
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

  /** This transaction's fetch (fetching.ts), e.g. after a completion in the same step. */
  fetch(queue: string, req: FetchRequest): Promise<FetchResult> {
    return new Fetching(this.db, this).fetch(queue, req);
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
    const finishing = this.tail.finishing;
    if (finishing.length > 0) {
      return !!(await this.db
        .rawStmt(
          "SELECT 1 FROM jobs WHERE queue = ? AND state IN ('waiting', 'active') AND rowid <> ALL(?::bigint[]) LIMIT 1",
        )
        .get(queue, finishing));
    }
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
