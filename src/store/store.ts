import type { Cluster, Redis } from 'ioredis';
import type { MetaStore } from './meta.js';
import type { StoreGroups, StoreParity } from './store-parity.js';
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
  JobRecord,
  JobState,
  MoveCode,
  MoveResult,
  NewJob,
  Retention,
  StalledResult,
  StoredEvent,
} from './types.js';

/**
 * The one seam between Docket's API classes and storage.
 *
 * Every method is either one atomic state transition (one Lua script on Redis, one
 * `BEGIN IMMEDIATE` transaction on SQLite, one transaction on PostgreSQL) or one consistent read.
 * All three stores implement exactly this contract and run the same behaviour tests.
 *
 * Queues are addressed by their qualified name (`<prefix>:<name>`, e.g. `bull:emails`), the
 * same string BullMQ exposes as `queue.qualifiedName`; a job is addressed by (queue, id). All
 * timestamps are epoch milliseconds taken from the caller's clock (`now`), so the two stores agree
 * in tests and a transition never reads a clock of its own.
 *
 * Transitions that take a lock `token` check it inside the atomic unit and report a
 * {@link MoveCode} instead of changing anything when it does not match. A lock whose expiry
 * (`lockUntil`) is before `now` counts as missing (-2), as a lapsed Redis lock key would, even
 * before the stalled checker has moved the job; extendLocks cannot revive it either.
 *
 * Events: every transition appends its events to the queue's capped event log (10 000 entries,
 * trimmed approximately), read by QueueEvents through {@link Store.readEvents}. Names and fields
 * are BullMQ's (all values strings):
 *   added {jobId, name} · waiting {jobId, prev?} · delayed {jobId, delay (due timestamp)} ·
 *   active {jobId, prev: 'waiting'} · completed {jobId, returnvalue (JSON), prev: 'active'} ·
 *   failed {jobId, failedReason, prev: 'active'} · retries-exhausted {jobId, attemptsMade} ·
 *   stalled {jobId} · progress {jobId, data (JSON)} · removed {jobId, prev} · duplicated {jobId} ·
 *   drained {} · paused {} · resumed {} · waiting-children {jobId} · cleaned {count}
 */
// The records and requests crossing the seam live in types.ts; re-exported so existing imports keep working.
export type {
  AddResult,
  BatchFetch,
  CancelNotice,
  CancelResult,
  CompleteItem,
  DedupOptions,
  Dependencies,
  FailItem,
  FetchRequest,
  FetchResult,
  FlowJob,
  GroupChange,
  GroupInfo,
  GroupLimits,
  JobRecord,
  JobState,
  ListType,
  MetricsRead,
  MinuteCount,
  MoveCode,
  MoveResult,
  NewJob,
  ParentPolicy,
  ParentRef,
  Retention,
  SchedulerIteration,
  SchedulerRecord,
  SchedulerUpsertResult,
  StalledResult,
  StoredEvent,
  WorkerInfo,
} from './types.js';

export interface Store extends StoreParity, StoreGroups {
  readonly kind: 'redis' | 'sqlite' | 'postgres';
  /**
   * The Redis store's ioredis client, absent on SQLite: what BullMQ's Redis backend exposes as
   * `client` for tools that read the server itself (bull-board's INFO panel). Docket never uses it
   * above the store.
   */
  readonly redisClient?: Redis | Cluster;

  /**
   * True while waitForWork wakes for every job that becomes ready here or in another process, so
   * that a worker need not fetch again every drainDelay (PostgreSQL while its LISTEN connection is up).
   */
  readonly wakesForAllWork?: boolean;

  /** When set, told of background connection errors (Redis), which Queue/Worker emit as 'error'. */
  onError?: (err: Error) => void;

  /**
   * Throws at once when this store cannot hold queue `queue` (on a Redis Cluster: its keys carry no
   * `{hash tag}`), so a Queue or Worker is refused when constructed, not at its first call.
   */
  checkQueue?(queue: string): void;
  /**
   * Connects, creates or checks the schema; refuses foreign (BullMQ-written) queues of `queue`.
   * `waiter`: the caller will wait for work (a Worker), so what that wait needs is made ready too.
   */
  ready(queue?: string, opts?: { waiter?: boolean }): Promise<void>;
  /** Releases connections. Idempotent. */
  close(): Promise<void>;
  /** The queue's meta as BullMQ reports it (version, limits, manual rate limit removal). */
  readonly meta: MetaStore;

  // ── adding ────────────────────────────────────────────────────────────────────────
  /** Inserts all jobs or none. Custom ids that exist keep the first job. */
  addJobs(queue: string, jobs: NewJob[]): Promise<AddResult>;

  /**
   * Adds a whole flow atomically: all of it or none. Nodes come parents first; a node's parent is
   * either another node or an existing job (chaining flows); a missing parent fails the whole add
   * with code -5. Returns, per node, its id (a deduplicated node: the existing job's) and whether it
   * existed already or was deduplicated (then nothing is written for it).
   *
   * Both adds treat an existing job named with a parent as BullMQ does: one without a parent (or
   * with this one) is linked to it, pending or, when completed, as processed (the parent moves on
   * when nothing else is pending); one whose other parent still exists fails the add with -7.
   */
  addFlow(nodes: FlowJob[]): Promise<AddResult>;

  // ── the worker path ───────────────────────────────────────────────────────────────
  /**
   * Promotes due delayed jobs, then (unless paused or rate limited) moves up to
   * `tokens.length` jobs waiting → active, in order: non-prioritised (FIFO, LIFO ones first)
   * then prioritised (lowest priority number first, FIFO within one). Each fetched job gets its
   * lock until `now + lockDuration`, `processedOn = now`, `attemptsStarted + 1`.
   */
  fetchNext(queue: string, req: FetchRequest): Promise<FetchResult>;
  /**
   * Waits until work may be ready: a job was added or moved to waiting, or `timeoutMs` passed,
   * or `signal` aborted. May return early spuriously; callers re-check with fetchNext.
   */
  waitForWork(queue: string, timeoutMs: number, signal: AbortSignal): Promise<void>;
  /**
   * active → completed (or removed by retention), optionally fetching next in the same step. A
   * child also moves into its parent's `processed` (key `<queue>:<id>` → returnvalue); when it was
   * the parent's last pending child, the parent leaves waiting-children for waiting (or delayed
   * when it has a delay), in the same step, whichever queue it lives in. A job that still has a
   * pending child is refused with -4, one with a child failed under `fail` with -9 (BullMQ's codes).
   * A child that retention removes while still pending (it failed with no policy) leaves its parent.
   */
  complete(queue: string, items: CompleteItem[], now: number, fetch?: FetchRequest): Promise<MoveResult>;
  /**
   * active → failed, or back to delayed/waiting for a retry (attemptsMade + 1 either way); a final
   * failure clears the job's `deferredFailure`. A child failing for good applies its ParentPolicy
   * in the same step, as BullMQ 6: `fail` records the child in `failed` and gives the parent the
   * deferred failure `child <key> failed` (a parent in waiting-children or delayed moves to waiting,
   * for a worker to fail it); `continue` records it in `ignored` and moves the parent to waiting at
   * once; `ignore` records it in `ignored` and releases the parent when nothing else is pending;
   * `remove` drops the dependency and releases the parent when nothing else is pending; none: the
   * child stays pending and the parent keeps waiting.
   */
  fail(queue: string, items: FailItem[], now: number, fetch?: FetchRequest): Promise<MoveResult>;
  /**
   * Cancels job `id` (Queue.cancelJob), in one atomic unit (Lua call / transaction): the job fails for good with
   * `failedReason`, whatever attempts it has left (no retry, as an UnrecoverableError), from any
   * unfinished state. From `active` its lock is taken away (token cleared, so every later move of
   * its holder gets -2 and changes nothing), attemptsMade + 1, and the holder is signalled (see
   * watchCancels) in the same unit; from waiting, prioritized, delayed or waiting-children it just
   * leaves that state (attemptsMade unchanged). Then as a final failure in `fail`: finishedOn = now,
   * deferredFailure cleared, event `failed {jobId, failedReason, prev: <state it left>}`, the parent
   * policy of a child, the dedup id, metrics (`metrics` points) and `retention` (the job's
   * removeOnFail) applied. A finished job: -3 and nothing changes; a missing one: -1.
   */
  cancelJob(
    queue: string,
    id: string,
    failedReason: string,
    now: number,
    retention: Retention,
    metrics?: number,
  ): Promise<CancelResult>;
  /**
   * Calls `listener` for each active job of `queue` that cancelJob fails from now on, in any
   * process, until the returned function is called. Prompt (Redis: pub/sub; PostgreSQL: NOTIFY on
   * the LISTEN connection; SQLite: at once in this process, within ~200 ms from other processes) but
   * not guaranteed: the cancel itself is durable
   * (the job is failed, its lock gone), so a holder that misses the notice learns it at its next lock
   * renewal. Cheap to call often; a store costs nothing for it while no watcher is registered
   * (a Worker watches only while it runs jobs).
   */
  watchCancels(queue: string, listener: (notice: CancelNotice) => void): () => void;
  /** Extends the locks of active jobs held by the given tokens; returns the ids whose lock is gone. */
  extendLocks(queue: string, ids: string[], tokens: string[], durationMs: number, now: number): Promise<string[]>;
  /**
   * Moves active jobs whose lock lapsed back to waiting (stalledCounter + 1), or to failed with
   * "job stalled more than allowable limit" once stalledCounter would exceed `maxStalledCount`.
   * Runs at most once per `intervalMs` per queue across all callers unless `force`.
   */
  recoverStalled(
    queue: string,
    opts: { maxStalledCount: number; intervalMs: number; now: number; force?: boolean },
  ): Promise<StalledResult>;

  /** active → delayed until `timestamp` (lock checked unless token is undefined). No attempt spent. */
  moveToDelayed(
    queue: string,
    id: string,
    token: string | undefined,
    timestamp: number,
    now: number,
  ): Promise<MoveCode>;
  /**
   * Records durable step `step` of the active job held by `token` (always checked, as complete
   * checks it): `result` (JSON text) joins the job's `steps` object under key `step`, replacing an
   * entry recorded under the same key. With `delayUntil`, the same atomic unit also moves the job
   * active → delayed until then, exactly as moveToDelayed does (event `delayed`, no attempt spent).
   * Returns 0, or -1 / -2 / -6 (and -3 where the store tells it apart from -2) changing nothing.
   */
  recordStep(
    queue: string,
    id: string,
    token: string,
    step: string,
    result: string,
    now: number,
    delayUntil?: number,
  ): Promise<MoveCode>;
  /** active → waiting (lock checked unless token is undefined). No attempt spent. */
  moveToWait(queue: string, id: string, token: string | undefined, now: number): Promise<MoveCode>;

  /**
   * active → waiting-children when the job has pending children (lock checked unless token is
   * undefined): returns 1. Returns 0 and changes nothing when none is pending, -9 when a child failed
   * under failParentOnFailure; negative MoveCodes as elsewhere. Event `waiting-children {jobId}`.
   */
  moveToWaitingChildren(queue: string, id: string, token: string | undefined, now: number): Promise<number>;
  getDependencies(queue: string, id: string): Promise<Dependencies>;

  // ── queue-wide controls ───────────────────────────────────────────────────────────
  pause(queue: string, paused: boolean): Promise<void>;
  isPaused(queue: string): Promise<boolean>;
  /** No job of the queue is fetched for `ms` (manual rate limit). */
  rateLimit(queue: string, ms: number, now: number): Promise<void>;
  /**
   * BullMQ's `getRateLimitTtl`. With a max (`maxJobs`, else the global rate limit's): the ms the limit
   * lasts when the window's count reached it (a manual limit counts as reached), else 0. With no max:
   * the ms the manual limit or the started window lasts, or -2 when neither is in force.
   */
  getRateLimitTtl(queue: string, now: number, maxJobs?: number): Promise<number>;

  // ── reads ─────────────────────────────────────────────────────────────────────────
  getJob(queue: string, id: string): Promise<JobRecord | undefined>;
  getState(queue: string, id: string): Promise<JobState | 'unknown'>;
  /**
   * Counts per type. Types: 'waiting' (= 'wait', non-prioritised waiting), 'prioritized',
   * 'active', 'delayed', 'waiting-children', 'completed', 'failed', 'paused' (waiting jobs when paused,
   * 0 otherwise). Keys of the answer are the types as asked.
   */
  getCounts(queue: string, types: string[]): Promise<Record<string, number>>;
  /**
   * Ids of jobs of the given types (same names as getCounts). For each type in turn: its jobs
   * ordered oldest first when `asc` (waiting/prioritized: in run order; delayed: by due time;
   * completed/failed: by finishedOn; active: by start), newest first otherwise, sliced to
   * [start, end] inclusive (end -1 = to the end); the slices are concatenated without duplicates.
   */
  getRange(queue: string, types: string[], start: number, end: number, asc: boolean): Promise<string[]>;
  getLogs(
    queue: string,
    id: string,
    start: number,
    end: number,
    asc: boolean,
  ): Promise<{ logs: string[]; count: number }>;

  // ── job updates (no lock needed) ──────────────────────────────────────────────────
  updateProgress(queue: string, id: string, progress: string): Promise<MoveCode>;
  updateData(queue: string, id: string, data: string): Promise<MoveCode>;
  /** Appends a log row, trimming to the newest `keepLogs` rows when given; returns the row count (-1: no such job). */
  addLog(queue: string, id: string, row: string, keepLogs?: number): Promise<number>;
  clearLogs(queue: string, id: string, keep: number): Promise<void>;
  /**
   * Removes a job (not while its lock is live, nor with `removeChildren` while a pending child,
   * recursively, holds one): 1 removed, 0 not found or locked, -8 refused: the job is a job
   * scheduler's current iteration (as BullMQ; remove the scheduler). A child leaves its parent's pending
   * dependencies (a parent left with none is released); with `removeChildren` its children (pending
   * or finished) are removed recursively. Events `removed`.
   */
  remove(queue: string, id: string, now: number, removeChildren?: boolean): Promise<number>;

  // ── moving jobs outside the worker path ───────────────────────────────────────────
  /** delayed → waiting. 0, -1 missing, -3 not delayed. Event `waiting {jobId, prev: 'delayed'}`. */
  promote(queue: string, id: string): Promise<MoveCode>;
  /** Promotes up to `count` delayed jobs, earliest due first; returns how many moved. */
  promoteJobs(queue: string, count: number): Promise<number>;
  /**
   * A finished job (in `state`) → waiting, clearing returnvalue, failedReason, finishedOn,
   * processedOn and the recorded durable `steps` (it runs from scratch); optionally resetting
   * attemptsMade / attemptsStarted. 0, -1 missing, -3 not in `state`.
   * A child is pending in its (existing) parent again, whatever outcome it had there.
   */
  retryJob(
    queue: string,
    id: string,
    state: 'completed' | 'failed',
    reset: { attemptsMade?: boolean; attemptsStarted?: boolean },
  ): Promise<MoveCode>;
  /** Up to `count` jobs in `state` finished at or before `timestamp` → waiting (cleared as retryJob
   *  clears them); returns how many moved. */
  retryJobs(queue: string, state: 'completed' | 'failed', count: number, timestamp: number): Promise<number>;
  /** Re-times a delayed job to `now + delay`. 0, -1 missing, -3 not delayed. */
  changeDelay(queue: string, id: string, delay: number, now: number): Promise<MoveCode>;
  /** Sets priority (and lifo); a waiting job moves to its new place. 0 or -1 missing. */
  changePriority(queue: string, id: string, priority: number, lifo: boolean): Promise<MoveCode>;
  // ── bulk housekeeping ─────────────────────────────────────────────────────────────
  /**
   * Removes up to `limit` (0 = no limit) jobs of `type` older than `now - graceMs` (finishedOn for
   * completed/failed, processedOn for active, timestamp otherwise); never a job whose lock is live,
   * nor a job scheduler's current iteration (as BullMQ).
   * Types: completed, failed, active, delayed, wait/waiting, prioritized, paused. Returns the ids;
   * event `cleaned {count}`. A removed child leaves its parent's pending children; a parent left with
   * none is deleted too when it is in this queue (not listed), else moved to waiting (as BullMQ).
   */
  clean(queue: string, graceMs: number, limit: number, type: string, now: number): Promise<string[]>;
  /** Removes waiting and prioritized jobs, and delayed ones when `delayed`; children as `clean` does;
   *  job schedulers' current iterations stay. */
  drain(queue: string, delayed: boolean): Promise<void>;
  /**
   * Removes the queue's jobs, logs, events and meta, up to `count` jobs per call. Returns -1 (nothing
   * removed) when active jobs exist and not `force`, else how many jobs remain (0 = done).
   */
  obliterate(queue: string, force: boolean, count: number): Promise<number>;
  /** Keeps only the newest `maxLen` events; returns how many went (Redis: stream entries). */
  trimEvents(queue: string, maxLen: number): Promise<number>;
  /**
   * Appends the user's own event `event` with `fields` to the event log (QueueEventsProducer), keeping
   * about the newest `maxEvents` of the queue's events.
   */
  publishEvent(queue: string, event: string, fields: Record<string, string>, maxEvents: number): Promise<void>;

  /** Names (without the prefix) of the Docket queues stored under `prefix`, sorted. */
  listQueues(prefix: string): Promise<string[]>;

  // ── events ────────────────────────────────────────────────────────────────────────
  /** Id of the newest event ('0' when none), so a reader can start from "now" without gaps. */
  lastEventId(queue: string): Promise<string>;
  /** Events after `afterId` ('$' = only new ones), waiting up to `blockMs` when there are none. */
  readEvents(queue: string, afterId: string, blockMs: number, signal: AbortSignal): Promise<StoredEvent[]>;
}
