import { finishPlace } from '../finish-order.js';
import type { JobRow } from '../sql/rows.js';
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
import type { SharedDatabase } from './database.js';
import type { FlowLinks } from './flows.js';
import type { Parity } from './parity.js';
import { applyRetention, finishSort } from './retention.js';
import type { Transitions } from './transitions.js';

/**
 * The worker path's lock-checked moves (complete, fail, delay, wait, waiting-children, lock
 * extension, stalled recovery) and the insert finishing shares with adding; each runs inside the
 * caller's transaction.
 */
/** BullMQ's text for a job failed after stalling more than maxStalledCount (code matches on it). */
export const STALLED_REASON = 'job stalled more than allowable limit';

export class WorkerPath {
  constructor(
    private readonly sdb: SharedDatabase,
    private readonly t: Transitions,
    private readonly f: FlowLinks,
    private readonly p: Parity,
  ) {}

  /**
   * Inserts one job (auto id when it has none), links its parent and claims its dedup id
   * (`dedupExpiresAt`: an expiry the id keeps, see DedupIds.claim).
   */
  insertJob(queue: string, job: NewJob, now: number, dedupExpiresAt?: number | null): string {
    const id = job.id ?? String(this.t.nextId(queue));
    this.t.insert(queue, id, job);
    if (job.parent) this.f.link(queue, id, job.parent);
    this.p.dedup.claim(queue, job, id, now, dedupExpiresAt);
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
    this.p.dedup.afterFinish(queue, row, now, (job) => this.insertJob(queue, job, now));
    if (metrics) this.p.recordMetric(queue, type, now, metrics);
  }

  extendLocks(queue: string, ids: string[], tokens: string[], durationMs: number, _now: number): string[] {
    const lost: string[] = [];
    const clock = this.t.lockClock(); // not the caller's `now`: see Transitions.lockClock
    const extend = this.sdb.stmt(
      "UPDATE jobs SET sort = ? WHERE queue = ? AND id = ? AND state = 'active' AND token = ? AND sort >= ? RETURNING id",
    );
    ids.forEach((id, i) => {
      if (!extend.get(clock + durationMs, queue, id, tokens[i], clock)) lost.push(id);
    });
    return lost;
  }

  moveToDelayed(queue: string, id: string, token: string | undefined, timestamp: number, now: number): MoveCode {
    const row = this.t.row(queue, id);
    const code = this.t.lockCode(row, token, now);
    if (code !== 0 || !row) return code;
    this.t.toDelayed(queue, row, timestamp, Math.max(0, timestamp - now));
    return 0;
  }

  /**
   * Appends `"<step>":<result>` to the job's steps object as text (the result is the caller's JSON,
   * stored as given), then parks the job when `delayUntil` is set. A key recorded twice appears
   * twice; JSON.parse keeps the later one.
   */
  recordStep(
    queue: string,
    id: string,
    token: string,
    step: string,
    result: string,
    now: number,
    delayUntil?: number,
  ): MoveCode {
    const row = this.t.row(queue, id);
    if (row && token === '') return -2; // always lock-checked: an empty token holds no lock
    const code = this.t.lockCode(row, token, now);
    if (code !== 0 || !row) return code;
    const entry = `${JSON.stringify(step)}:${result}`;
    const steps = row.steps ? `${row.steps.slice(0, -1)},${entry}}` : `{${entry}}`;
    this.sdb.stmt('UPDATE jobs SET steps = ? WHERE rowid = ?').run(steps, row.rowid);
    if (delayUntil !== undefined) this.t.toDelayed(queue, row, delayUntil, Math.max(0, delayUntil - now));
    return 0;
  }

  moveToWait(queue: string, id: string, token: string | undefined, now: number): MoveCode {
    const row = this.t.row(queue, id);
    const code = this.t.lockCode(row, token, now);
    if (code !== 0 || !row) return code;
    this.t.toWaiting(queue, row, 'active', 'head');
    return 0;
  }

  moveToWaitingChildren(queue: string, id: string, token: string | undefined, now: number): number {
    const row = this.t.row(queue, id);
    const code = this.t.lockCode(row, token, now);
    if (code !== 0 || !row) return code;
    return this.f.toWaitingChildren(queue, row, now);
  }

  complete(queue: string, items: CompleteItem[], now: number, fetch?: FetchRequest): MoveResult {
    // The newest place in the completed list, read once and carried through the batch (the
    // transaction holds the write lock, so only this batch adds to the list meanwhile).
    let newest: number | undefined | null = null;
    const codes = items.map((item) => {
      // The narrow read: the lock and what the follow-ups below read, not the whole row.
      const row = this.t.finishRow(queue, item.id);
      const code = this.t.lockCode(row, item.token, now);
      if (code !== 0 || !row) return code;
      // A parent completes only once no child is pending and none failed under failParentOnFailure.
      if (row.childBlocks) {
        const blocker = this.f.finishBlocker(queue, item.id);
        if (blocker !== 0) return blocker;
      }
      const sort = newest === null ? finishSort(this.sdb, queue, 'completed', now) : finishPlace(newest, now);
      newest = newest == null ? sort : Math.max(newest, sort);
      this.sdb
        .stmt(
          `UPDATE jobs SET state = 'completed', lane = 0, sort = ?, finished_on = ?, returnvalue = ?, token = NULL,
             attempts_made = attempts_made + 1 WHERE rowid = ?`,
        )
        .run(sort, now, item.returnvalue, row.rowid);
      this.t.emit(queue, 'completed', { jobId: item.id, returnvalue: item.returnvalue, prev: 'active' });
      this.f.childCompleted(queue, row, item.returnvalue, now);
      this.afterFinish(queue, row, 'completed', now, item.metrics);
      applyRetention(this.sdb, this.t, queue, 'completed', row, item.retention, now);
      return 0 as MoveCode;
    });
    this.p.countMinute(queue, 'c', codes.filter((c) => c === 0).length, now);
    return { codes, next: this.fetchAfterMove(queue, fetch, codes) };
  }

  fail(queue: string, items: FailItem[], now: number, fetch?: FetchRequest): MoveResult {
    let failedForGood = 0;
    const codes = items.map((item) => {
      const row = this.t.row(queue, item.id);
      const code = this.t.lockCode(row, item.token, now);
      if (code !== 0 || !row) return code;
      this.sdb
        .stmt('UPDATE jobs SET failed_reason = ?, stacktrace = ?, attempts_made = attempts_made + 1 WHERE rowid = ?')
        .run(item.failedReason, item.stacktrace, row.rowid);
      if (item.retryDelay === null) {
        this.sdb
          .stmt(
            `UPDATE jobs SET state = 'failed', lane = 0, sort = ?, finished_on = ?, token = NULL, deferred_failure = NULL
             WHERE rowid = ?`,
          )
          .run(finishSort(this.sdb, queue, 'failed', now), now, row.rowid);
        this.t.emit(queue, 'failed', { jobId: item.id, failedReason: item.failedReason, prev: 'active' });
        if (item.retriesExhausted) {
          this.t.emit(queue, 'retries-exhausted', { jobId: item.id, attemptsMade: row.attempts_made + 1 });
        }
        this.f.childFailed(queue, row, item.failedReason, now);
        this.afterFinish(queue, row, 'failed', now, item.metrics);
        applyRetention(this.sdb, this.t, queue, 'failed', row, item.retention, now);
        failedForGood++;
      } else if (item.retryDelay > 0) {
        this.t.toDelayed(queue, row, now + item.retryDelay, item.retryDelay);
      } else {
        // Due delayed jobs go first, as BullMQ's retryJob promotes them before pushing the retry.
        this.t.promoteDue(queue, now);
        this.t.toWaiting(queue, row, 'active'); // prev 'active', as BullMQ's retryJob
      }
      return 0 as MoveCode;
    });
    this.p.countMinute(queue, 'f', failedForGood, now);
    return { codes, next: this.fetchAfterMove(queue, fetch, codes) };
  }

  /**
   * Store.cancelJob inside the caller's transaction: the final-failure branch of `fail` from any
   * unfinished state, without a lock check. An active job's cancel is also written to `cancels`
   * (read by other processes' watchers, cancels.ts); rows older than a minute go at the same time.
   */
  cancel(queue: string, id: string, reason: string, now: number, retention: Retention, metrics?: number): CancelResult {
    const row = this.t.row(queue, id);
    if (!row) return { code: -1, token: '' };
    const prev = (row.state === 'waiting' && row.lane > 0 ? 'prioritized' : row.state) as JobState;
    if (prev === 'completed' || prev === 'failed') return { code: -3, prev, token: '' };
    const active = prev === 'active';
    const token = active ? (row.token ?? '') : '';
    this.sdb
      .stmt(
        `UPDATE jobs SET state = 'failed', lane = 0, sort = ?, finished_on = ?, token = NULL, deferred_failure = NULL,
           failed_reason = ?, attempts_made = attempts_made + ? WHERE rowid = ?`,
      )
      .run(finishSort(this.sdb, queue, 'failed', now), now, reason, active ? 1 : 0, row.rowid);
    this.t.emit(queue, 'failed', { jobId: id, failedReason: reason, prev });
    this.f.childFailed(queue, row, reason, now);
    this.afterFinish(queue, row, 'failed', now, metrics);
    applyRetention(this.sdb, this.t, queue, 'failed', row, retention, now);
    this.p.countMinute(queue, 'f', 1, now);
    if (active) {
      this.sdb.stmt('DELETE FROM cancels WHERE at < ?').run(now - 60_000);
      this.sdb
        .stmt('INSERT INTO cancels (queue, job_id, token, reason, at) VALUES (?, ?, ?, ?, ?)')
        .run(queue, id, token, reason, now);
    }
    return { code: 0, prev, token };
  }

  /**
   * Fetch in the same step as a move (when asked); refused items' slots get no job (their owner lost
   * the lock). As BullMQ's moveToFinished: `drained` once the last job finished, with nothing waiting
   * or active, asked to fetch or not.
   */
  private fetchAfterMove(queue: string, fetch: FetchRequest | undefined, codes: MoveCode[]): FetchResult | undefined {
    let next: FetchResult | undefined;
    if (fetch) {
      const refused = codes.filter((c) => c !== 0).length;
      next = this.t.fetching.fetch(queue, {
        ...fetch,
        tokens: fetch.tokens.slice(0, Math.max(0, fetch.tokens.length - refused)),
      });
      if (next.jobs.length > 0) return next;
    }
    // Only after a job did finish: a refused move writes nothing.
    if (codes.includes(0) && !this.t.hasWaitingOrActive(queue)) this.t.emit(queue, 'drained');
    return next;
  }

  recoverStalled(
    queue: string,
    opts: { maxStalledCount: number; intervalMs: number; now: number; force?: boolean },
  ): StalledResult {
    const result: StalledResult = { recovered: [], failing: [] };
    const meta = this.t.meta(queue);
    const clock = this.t.lockClock(); // locks and the check's interval run on SQLite's clock
    if (!opts.force && meta.stalled_check_until > clock) return result;
    this.sdb.stmt('UPDATE queues SET stalled_check_until = ? WHERE queue = ?').run(clock + opts.intervalMs, queue);
    const lapsed = this.sdb
      .stmt("SELECT rowid, * FROM jobs WHERE queue = ? AND state = 'active' AND lane = 0 AND sort < ? ORDER BY sort")
      .all(queue, clock) as JobRow[];
    for (const row of lapsed) {
      // Over the limit, the job still goes back to waiting: the worker that fetches it fails it, so
      // the failure runs the usual path (retention, parent policies, events), as in BullMQ 6. A job of
      // a live scheduler is never failed for stalling (BullMQ neither).
      const failing = row.stalled_counter + 1 > opts.maxStalledCount && !this.fromLiveScheduler(queue, row);
      this.sdb
        .stmt('UPDATE jobs SET stalled_counter = stalled_counter + 1, deferred_failure = ? WHERE rowid = ?')
        .run(failing ? STALLED_REASON : row.deferred_failure, row.rowid);
      this.t.emit(queue, 'stalled', { jobId: row.id });
      this.t.toWaiting(queue, row, 'active', true);
      result.recovered.push(row.id);
      if (failing) result.failing.push(row.id);
    }
    this.p.countMinute(queue, 's', result.recovered.length, opts.now);
    return result;
  }

  /** Whether the job was made by a scheduler that still exists (opts.repeatJobKey). */
  private fromLiveScheduler(queue: string, row: JobRow): boolean {
    return !!this.sdb
      .stmt("SELECT 1 FROM schedulers WHERE queue = ? AND id = json_extract(?, '$.repeatJobKey')")
      .get(queue, row.opts);
  }
}
