import { finishPlace } from '../finish-order.js';
import type { JobRow } from '../sql/rows.js';
import { STALLED_REASON } from '../sqlite/worker-path.js';
import type {
  CancelResult,
  CompleteItem,
  FailItem,
  FetchRequest,
  FetchResult,
  JobState,
  MoveCode,
  MoveResult,
  NewJob,
  Retention,
  StalledResult,
} from '../store.js';
import type { Conn } from './conn.js';
import type { FlowLinks } from './flows.js';
import type { Parity } from './parity.js';
import { applyRetention, finishSort } from './retention.js';
import { COMPLETE_DEFERRED, COMPLETE_READ, type FetchMeta, isPlainFetch, LONE_SURROGATE } from './transition-sql.js';
import type { FinishRow, Transitions } from './transitions.js';

type FinishRead = FinishRow & { grp: string | null; blocked_by_failed: boolean | null; last_place: number | null };

/** Whether a completion needs steps after its UPDATE: a parent, deduplication, metrics or retention. */
function hasFollowUps(item: CompleteItem, row: FinishRow): boolean {
  const keep = item.retention;
  return (
    row.parent !== null ||
    row.opts.includes('"deduplication"') ||
    !!item.metrics ||
    !!keep.remove ||
    keep.count !== undefined ||
    keep.ageMs !== undefined
  );
}

/** COMPLETE_READ with parameters, when it was not sent with BEGIN. */
const COMPLETE_READ_PARAMS = COMPLETE_READ.replace(':queue', '?').replace(
  'ANY(ARRAY(SELECT json_array_elements_text(:ids::json)))',
  'ANY(?::text[])',
);

/**
 * The worker path's lock-checked moves (complete, fail, delay, wait, waiting-children, lock
 * extension, stalled recovery) and the insert finishing shares with adding; each runs inside the
 * caller's transaction. Mirrors src/store/sqlite/worker-path.ts.
 */
export class WorkerPath {
  constructor(
    private readonly db: Conn,
    private readonly t: Transitions,
    private readonly f: FlowLinks,
    private readonly p: Parity,
  ) {}

  /** Inserts one job (auto id when it has none), links its parent and claims its dedup id. */
  async insertJob(queue: string, job: NewJob, now: number, dedupExpiresAt?: number | null): Promise<string> {
    const id = job.id ?? String(await this.t.nextId(queue));
    await this.t.insert(queue, id, job);
    if (job.parent) await this.f.link(queue, id, job.parent);
    await this.p.dedup.claim(queue, job, id, now, dedupExpiresAt);
    return id;
  }

  /** Bookkeeping every job finishing for good needs: its dedup id and, when asked, metrics. */
  private async afterFinish(
    queue: string,
    row: Pick<JobRow, 'id' | 'opts'>,
    type: 'completed' | 'failed',
    now: number,
    metrics?: number,
  ): Promise<void> {
    await this.p.dedup.afterFinish(queue, row, now, (job) => this.insertJob(queue, job, now));
    if (metrics) await this.p.recordMetric(queue, type, now, metrics);
  }

  /** One UPDATE for all the locks; the ids not returned lost theirs. */
  async extendLocks(
    queue: string,
    ids: string[],
    tokens: string[],
    durationMs: number,
    _now: number,
  ): Promise<string[]> {
    const clock = await this.t.lockClock();
    const kept = (await this.db
      .rawStmt(
        `UPDATE jobs SET sort = ? FROM unnest(?::text[], ?::text[]) AS t(id, token)
         WHERE jobs.queue = ? AND jobs.id = t.id AND jobs.state = 'active' AND jobs.token = t.token AND jobs.sort >= ?
         RETURNING jobs.id`,
        true,
      )
      .all(clock + durationMs, ids, tokens, queue, clock)) as string[];
    const alive = new Set(kept);
    return ids.filter((id) => !alive.has(id));
  }

  async moveToDelayed(
    queue: string,
    id: string,
    token: string | undefined,
    timestamp: number,
    now: number,
  ): Promise<MoveCode> {
    const row = await this.t.row(queue, id);
    const code = await this.t.lockCode(row, token, now);
    if (code !== 0 || !row) return code;
    await this.t.toDelayed(queue, row, timestamp, Math.max(0, timestamp - now));
    return 0;
  }

  /**
   * Records durable step `step` (see Store.recordStep and the SQLite store: the entry is appended to
   * the job's steps object as text), then parks the job when `delayUntil` is set.
   */
  async recordStep(
    queue: string,
    id: string,
    token: string,
    step: string,
    result: string,
    now: number,
    delayUntil?: number,
  ): Promise<MoveCode> {
    const row = await this.t.row(queue, id);
    if (row && token === '') return -2; // always lock-checked: an empty token holds no lock
    const code = await this.t.lockCode(row, token, now);
    if (code !== 0 || !row) return code;
    const entry = `${JSON.stringify(step)}:${result}`;
    const steps = row.steps ? `${row.steps.slice(0, -1)},${entry}}` : `{${entry}}`;
    await this.db.stmt('UPDATE jobs SET steps = ? WHERE rowid = ?').run(steps, row.rowid);
    if (delayUntil !== undefined) await this.t.toDelayed(queue, row, delayUntil, Math.max(0, delayUntil - now));
    return 0;
  }

  async moveToWait(queue: string, id: string, token: string | undefined, now: number): Promise<MoveCode> {
    const row = await this.t.row(queue, id);
    const code = await this.t.lockCode(row, token, now);
    if (code !== 0 || !row) return code;
    await this.t.toWaiting(queue, row, 'active', 'head');
    return 0;
  }

  async moveToWaitingChildren(queue: string, id: string, token: string | undefined, now: number): Promise<number> {
    const row = await this.t.row(queue, id);
    const code = await this.t.lockCode(row, token, now);
    if (code !== 0 || !row) return code;
    return this.f.toWaitingChildren(queue, row, now);
  }

  /**
   * active → completed for a batch in two statements however many items: one locking read of every
   * item's row (with whether children block it, and the list's newest place), one UPDATE for all; then, per completed job and only where it has any, its follow-ups (parent,
   * deduplication, metrics, retention). The SQLite store runs the same steps item by item; a round
   * trip per statement per item here held a worker at concurrency 50 to ~1 300 jobs/s.
   */
  async complete(queue: string, items: CompleteItem[], now: number, fetch?: FetchRequest): Promise<MoveResult> {
    const ids = items.map((item) => item.id);
    // The rows, whether children block each, and the list's newest place: one read.
    const read = ((this.db.takePrelude('finish') as FinishRead[] | undefined) ??
      (await this.db.stmt(COMPLETE_READ_PARAMS).all(queue, ids))) as FinishRead[];
    const rows = new Map(read.map((r) => [r.id, r as FinishRow]));
    const grps = new Map(read.map((r) => [r.id, r.grp]));
    const blockers = new Map<string, -4 | -9>();
    for (const r of read) if (r.blocked_by_failed !== null) blockers.set(r.id, r.blocked_by_failed ? -9 : -4);
    let last = read.length > 0 ? (read[0].last_place ?? undefined) : undefined;
    const codes: MoveCode[] = [];
    const moved: { item: CompleteItem; row: FinishRow; sort: number }[] = [];
    for (const item of items) {
      const row = rows.get(item.id);
      const code = await this.t.lockCode(row, item.token, now);
      if (code !== 0 || !row) {
        codes.push(code);
        continue;
      }
      // A parent completes only once no child is pending and none failed under failParentOnFailure.
      const blocker = blockers.get(item.id);
      if (blocker !== undefined) {
        codes.push(blocker);
        continue;
      }
      rows.set(item.id, { ...row, state: 'completed', token: null }); // the same job twice in a batch: once
      last = finishPlace(last, now);
      moved.push({ item, row, sort: last });
      codes.push(0);
    }
    // Nothing after the UPDATE reads these rows (no follow-ups, no group counting them): it goes
    // with the events and COMMIT, one round trip less (bench/NOTES.md). JSON cannot carry a lone
    // surrogate: such a return value takes the UPDATE below.
    const deferrable = moved.every(
      ({ item, row }) =>
        !hasFollowUps(item, row) && grps.get(item.id) === null && !LONE_SURROGATE.test(item.returnvalue),
    );
    if (moved.length > 0 && deferrable) {
      this.t.tail.defer(
        COMPLETE_DEFERRED,
        {
          now: String(now),
          rowids: JSON.stringify(moved.map((m) => m.row.rowid)),
          sorts: JSON.stringify(moved.map((m) => m.sort)),
          returnvalues: JSON.stringify(moved.map((m) => m.item.returnvalue)),
        },
        moved.map((m) => m.row.rowid),
      );
    } else if (moved.length > 0) {
      await this.db
        .stmt(
          `UPDATE jobs SET state = 'completed', lane = 0, sort = v.sort, finished_on = ?, returnvalue = v.returnvalue,
             token = NULL, attempts_made = attempts_made + 1
           FROM unnest(?::bigint[], ?::float8[], ?::text[]) AS v(rowid, sort, returnvalue) WHERE jobs.rowid = v.rowid`,
        )
        .run(
          now,
          moved.map((m) => m.row.rowid),
          moved.map((m) => m.sort),
          moved.map((m) => m.item.returnvalue),
        );
    }
    // The queue's row read with BEGIN (FETCH_META) is stale once a follow-up may add or delay jobs.
    if (moved.some((m) => m.row.parent !== null || m.row.opts.includes('"deduplication"'))) this.db.takePrelude('meta');
    for (const { item, row } of moved) {
      this.t.emit(queue, 'completed', { jobId: item.id, returnvalue: item.returnvalue, prev: 'active' });
      if (deferrable) continue;
      if (row.parent) await this.f.childCompleted(queue, row, item.returnvalue, now);
      await this.afterFinish(queue, row, 'completed', now, item.metrics);
      const keep = item.retention;
      if (keep.remove || keep.count !== undefined || keep.ageMs !== undefined) {
        await applyRetention(this.db, this.t, queue, 'completed', row, keep, now);
      }
    }
    this.t.tail.countMinute(queue, 'c', moved.length, now);
    const plain = deferrable && moved.length > 0 && fetch ? this.plainFetch(queue, fetch, codes) : undefined;
    return { codes, next: plain ?? (await this.fetchAfterMove(queue, fetch, codes)) };
  }

  /**
   * complete's fetch when it is a plain take (isPlainFetch's conditions, judged on the queue's
   * row read with BEGIN, and no ready group): sent with the events and COMMIT
   * (CommitTail.takeAtCommit), so that a completion with its next jobs is two round trips. The
   * jobs are put into the result before the caller sees it; `drained` is judged there too.
   */
  private plainFetch(queue: string, fetch: FetchRequest, codes: MoveCode[]): FetchResult | undefined {
    const meta = this.db.peekPrelude('meta')?.[0] as FetchMeta | undefined;
    const refused = codes.filter((c) => c !== 0).length;
    const tokens = fetch.tokens.slice(0, Math.max(0, fetch.tokens.length - refused));
    if (!meta || !isPlainFetch(meta, { ...fetch, tokens })) return undefined;
    this.db.takePrelude('meta');
    const next: FetchResult = { jobs: [], rateLimitTtl: 0, paused: false };
    if (meta.next_delayed !== null) next.nextDelayedAt = meta.next_delayed;
    this.t.tail.takeAtCommit(queue, { ...fetch, tokens }, next);
    return next;
  }

  async fail(queue: string, items: FailItem[], now: number, fetch?: FetchRequest): Promise<MoveResult> {
    const codes: MoveCode[] = [];
    let failedForGood = 0;
    for (const item of items) {
      const row = await this.t.row(queue, item.id);
      const code = await this.t.lockCode(row, item.token, now);
      if (code !== 0 || !row) {
        codes.push(code);
        continue;
      }
      await this.db
        .stmt('UPDATE jobs SET failed_reason = ?, stacktrace = ?, attempts_made = attempts_made + 1 WHERE rowid = ?')
        .run(item.failedReason, item.stacktrace, row.rowid);
      if (item.retryDelay === null) {
        await this.db
          .stmt(
            `UPDATE jobs SET state = 'failed', lane = 0, sort = ?, finished_on = ?, token = NULL, deferred_failure = NULL
             WHERE rowid = ?`,
          )
          .run(await finishSort(this.db, queue, 'failed', now), now, row.rowid);
        this.t.emit(queue, 'failed', { jobId: item.id, failedReason: item.failedReason, prev: 'active' });
        if (item.retriesExhausted) {
          this.t.emit(queue, 'retries-exhausted', { jobId: item.id, attemptsMade: row.attempts_made + 1 });
        }
        await this.f.childFailed(queue, row, item.failedReason, now);
        await this.afterFinish(queue, row, 'failed', now, item.metrics);
        await applyRetention(this.db, this.t, queue, 'failed', row, item.retention, now);
        failedForGood++;
      } else if (item.retryDelay > 0) {
        await this.t.toDelayed(queue, row, now + item.retryDelay, item.retryDelay);
      } else {
        // Due delayed jobs go first, as BullMQ's retryJob promotes them before pushing the retry.
        await this.t.promoteDue(queue, now);
        await this.t.toWaiting(queue, row, 'active');
      }
      codes.push(0);
    }
    this.t.tail.countMinute(queue, 'f', failedForGood, now);
    return { codes, next: await this.fetchAfterMove(queue, fetch, codes) };
  }

  /**
   * Store.cancelJob inside the caller's transaction, as the SQLite store's `cancel`: the final-failure
   * branch of `fail` from any unfinished state, without a lock check; an active job's holder gets a
   * NOTIFY (Transitions.notifyCancel) delivered with the commit.
   */
  async cancel(
    queue: string,
    id: string,
    reason: string,
    now: number,
    retention: Retention,
    metrics?: number,
  ): Promise<CancelResult> {
    const row = await this.t.row(queue, id);
    if (!row) return { code: -1, token: '' };
    const prev = (row.state === 'waiting' && row.lane > 0 ? 'prioritized' : row.state) as JobState;
    if (prev === 'completed' || prev === 'failed') return { code: -3, prev, token: '' };
    const active = prev === 'active';
    const token = active ? (row.token ?? '') : '';
    await this.db
      .stmt(
        `UPDATE jobs SET state = 'failed', lane = 0, sort = ?, finished_on = ?, token = NULL, deferred_failure = NULL,
           failed_reason = ?, attempts_made = attempts_made + ? WHERE rowid = ?`,
      )
      .run(await finishSort(this.db, queue, 'failed', now), now, reason, active ? 1 : 0, row.rowid);
    this.t.emit(queue, 'failed', { jobId: id, failedReason: reason, prev });
    await this.f.childFailed(queue, row, reason, now);
    await this.afterFinish(queue, row, 'failed', now, metrics);
    await applyRetention(this.db, this.t, queue, 'failed', row, retention, now);
    this.t.tail.countMinute(queue, 'f', 1, now);
    if (active) await this.t.notifyCancel(queue, id, token, reason);
    return { code: 0, prev, token };
  }

  /** Fetch in the same step as a move (see the SQLite store); `drained` once nothing waits or runs. */
  private async fetchAfterMove(
    queue: string,
    fetch: FetchRequest | undefined,
    codes: MoveCode[],
  ): Promise<FetchResult | undefined> {
    let next: FetchResult | undefined;
    if (fetch) {
      const refused = codes.filter((c) => c !== 0).length;
      next = await this.t.fetch(queue, {
        ...fetch,
        tokens: fetch.tokens.slice(0, Math.max(0, fetch.tokens.length - refused)),
      });
      if (next.jobs.length > 0) return next;
    }
    if (codes.includes(0) && !(await this.t.hasWaitingOrActive(queue))) this.t.emit(queue, 'drained');
    return next;
  }

  async recoverStalled(
    queue: string,
    opts: { maxStalledCount: number; intervalMs: number; now: number; force?: boolean },
  ): Promise<StalledResult> {
    const result: StalledResult = { recovered: [], failing: [] };
    const meta = await this.t.meta(queue);
    const clock = await this.t.lockClock();
    if (!opts.force && meta.stalled_check_until > clock) return result;
    await this.db.stmt('UPDATE queues SET stalled_check_until = ? WHERE queue = ?').run(clock + opts.intervalMs, queue);
    const lapsed = (await this.db
      .stmt("SELECT * FROM jobs WHERE queue = ? AND state = 'active' AND lane = 0 AND sort < ? ORDER BY sort")
      .all(queue, clock)) as JobRow[];
    for (const row of lapsed) {
      // Over the limit, the job still goes back to waiting: the worker that fetches it fails it (see SQLite).
      const failing = row.stalled_counter + 1 > opts.maxStalledCount && !(await this.fromLiveScheduler(queue, row));
      await this.db
        .stmt('UPDATE jobs SET stalled_counter = stalled_counter + 1, deferred_failure = ? WHERE rowid = ?')
        .run(failing ? STALLED_REASON : row.deferred_failure, row.rowid);
      this.t.emit(queue, 'stalled', { jobId: row.id });
      await this.t.toWaiting(queue, row, 'active', true);
      result.recovered.push(row.id);
      if (failing) result.failing.push(row.id);
    }
    this.t.tail.countMinute(queue, 's', result.recovered.length, opts.now);
    return result;
  }

  /** Whether the job was made by a scheduler that still exists (opts.repeatJobKey). */
  private async fromLiveScheduler(queue: string, row: JobRow): Promise<boolean> {
    const key = (JSON.parse(row.opts) as { repeatJobKey?: unknown }).repeatJobKey;
    if (typeof key !== 'string') return false;
    return !!(await this.db.stmt('SELECT 1 FROM schedulers WHERE queue = ? AND id = ?').get(queue, key));
  }
}
