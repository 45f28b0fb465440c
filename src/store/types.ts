/** The records and requests of the {@link Store} contract (src/store/store.ts): what crosses the seam. */

/** A job as stored: the record both stores return, in BullMQ's field vocabulary. */
export interface JobRecord {
  id: string;
  name: string;
  /** JSON text of `job.data`. */
  data: string;
  /** JSON text of the job options as added (after defaults). */
  opts: string;
  /** JSON text of `job.progress`. */
  progress: string;
  timestamp: number;
  delay: number;
  priority: number;
  attemptsMade: number;
  attemptsStarted: number;
  stalledCounter: number;
  processedOn?: number;
  finishedOn?: number;
  /** JSON text of the return value. */
  returnvalue?: string;
  failedReason?: string;
  /** JSON text of a string array. */
  stacktrace?: string;
  processedBy?: string;
  /** Parent as `{ id, queue }` JSON text (queue = qualified name), when the job has one. */
  parent?: string;
  /** The lock token of the worker holding the job, when active. */
  token?: string;
  /**
   * A failure the job carries to its next fetch (BullMQ's `defa`): a worker that fetches it fails it
   * with this reason instead of running it. Set on a job that stalled more than maxStalledCount, and
   * on a parent whose failParentOnFailure child failed while it was not waiting for its children.
   */
  deferredFailure?: string;
  /**
   * JSON text of an object, durable step id → its recorded result (Store.recordStep), when the job
   * recorded any. Kept through retries after a failure, stalls and parking; cleared by retryJob /
   * retryJobs (a retry from scratch); gone with the job.
   */
  steps?: string;
}

export type JobState = 'waiting' | 'active' | 'delayed' | 'prioritized' | 'waiting-children' | 'completed' | 'failed';

/** Where a job is listed; `prioritized` jobs are `waiting` jobs with a priority > 0. */
export type ListType = JobState | 'paused';

/** How many finished jobs to keep: BullMQ's `KeepJobs`, normalised. */
export interface Retention {
  /** Remove at once. */
  remove?: boolean;
  /** Keep at most this many finished jobs of this kind. */
  count?: number;
  /** Remove finished jobs that finished this many ms ago or earlier. */
  ageMs?: number;
  /** The most jobs removed by age at one finish (BullMQ's `limit`, default 1000); count is not capped. */
  limit?: number;
}

/** What happens to a parent when this child fails for good (BullMQ's four options; none = parent keeps waiting). */
export type ParentPolicy = 'fail' | 'continue' | 'ignore' | 'remove';

/** A child's link to its parent: the parent's id and qualified queue name, plus the failure policy. */
export interface ParentRef {
  id: string;
  queue: string;
  policy?: ParentPolicy;
}

/** A job to insert. `id` is absent for auto ids (increasing decimal strings). */
export interface NewJob {
  id?: string;
  name: string;
  data: string;
  opts: string;
  timestamp: number;
  delay: number;
  priority: number;
  lifo: boolean;
  /** Deduplication: see {@link DedupOptions}. */
  dedup?: DedupOptions;
  /**
   * The parent, which must exist (else the whole add fails with code -5 and nothing is stored).
   * The child's key `<queue>:<id>` joins the parent's pending dependencies.
   */
  parent?: ParentRef;
  /**
   * BullMQ Pro's group (issue 22): the job waits in its group, not in the queue's waiting list, and
   * `priority` is then its priority within the group (0 first, FIFO within one priority). Runnable
   * grouped jobs are taken only when no ungrouped job is waiting, one group at a time round-robin.
   * The same `{ id, priority?, maxSize? }` is in `opts` as `group` (the Redis store reads it there).
   * With `maxSize`, the add fails (nothing stored) when the group already has that many waiting jobs.
   */
  group?: { id: string; maxSize?: number };
}

/** Per-group limits a worker asks a fetch to keep (BullMQ Pro's worker option `group`). */
export interface GroupLimits {
  /** At most this many active jobs per group, across all workers (a group's own setting wins). */
  concurrency?: number;
  /** At most `max` job starts per `duration` ms per group (a group's own setting wins). */
  limit?: { max: number; duration: number };
}

/** A group as the getters read it (BullMQ Pro's groups, issue 22). */
export interface GroupInfo {
  id: string;
  /** Its waiting jobs (prioritized within the group included). */
  waiting: number;
  /** Its active jobs. */
  active: number;
  paused: boolean;
  /** Its own concurrency (setGroupConcurrency), when set. */
  concurrency?: number;
  /** Its own rate limit (setGroupRateLimit), when set. */
  limit?: { max: number; duration: number };
  /** Until when a manual limit (rateLimitGroup) holds it (ms, 0 = none). */
  limitedUntil: number;
  /** Its current rate window: when it ends (ms) and how many jobs started in it. */
  windowEnd: number;
  windowCount: number;
}

/**
 * A change to a group's record (created when missing). `concurrency` / `limit`: null removes the
 * group's own value (the workers' applies again). `limitedUntil`: a manual rate limit until then.
 */
export interface GroupChange {
  paused?: boolean;
  concurrency?: number | null;
  limit?: { max: number; duration: number } | null;
  limitedUntil?: number;
}

/**
 * BullMQ's `opts.deduplication`. While the key `id` points at a job that is not finished (or, with
 * `ttl`, until `ttl` ms after it was set, finished or not), an add with the same id adds nothing and
 * emits `deduplicated {jobId: existing, deduplicationId, deduplicatedJobId: the refused job's id}`
 * (an auto id is taken before the check, as in BullMQ, so a refused add uses one up).
 * `extend`: a refused add restarts the ttl. `replace`: when the existing job is still delayed, it is
 * removed and the new job takes its place, keeping the ttl left unless `extend` (a refused replace
 * emits no event). `keepLastIfActive`: when the existing job is active, the newest refused job is
 * kept aside and added when the active job finishes; the key then ignores `ttl` and is held until
 * its job finishes. Without `ttl` the key is released when its job completes or fails for good.
 * Removing a job (remove, clean, drain, obliterate) releases the key pointing at it.
 */
export interface DedupOptions {
  id: string;
  ttl?: number;
  extend?: boolean;
  replace?: boolean;
  keepLastIfActive?: boolean;
}

/**
 * A job scheduler as stored (BullMQ's `<q>:repeat:<id>`). Its current iteration is the job
 * `repeat:<id>:<next>`: the one the next `scheduleNext` must come from.
 */
export interface SchedulerRecord {
  id: string;
  /** JSON of `{ every?, pattern?, tz?, startDate?, endDate?, limit? }` (dates in ms). */
  repeat: string;
  /** The template's job name. */
  name: string;
  /** JSON text of the template's data. */
  data: string;
  /** JSON text of the template's options. */
  opts: string;
  /** The current iteration's time (ms): its job is due then. */
  next?: number;
  /** Iterations produced, counting the first as 1. */
  iterationCount: number;
  /** The offset (ms) of `every` iterations from multiples of `every`, as BullMQ records it. */
  offset?: number;
}

/**
 * One iteration a scheduler write (`upsertScheduler`, `scheduleNext`) places. The store chooses its
 * time for `every` schedules (BullMQ's rule, from the stored state) and takes the caller's
 * `nextMillis` for patterns; the job becomes `repeat:<id>:<millis>`, due then.
 */
export interface SchedulerIteration {
  /** The caller's clock (ms): the schedule's "now" and the job's timestamp. */
  now: number;
  /** The iteration's time for `pattern` schedules (the repeat strategy's answer); unused for `every`. */
  nextMillis?: number;
  /** The job; `id`, `delay` and `timestamp` are the store's to set, and `opts` (JSON) has no
   *  `delay` or `prevMillis`: the store appends both once it has placed the iteration. */
  job: NewJob;
}

/** What `upsertScheduler` did: the iteration's job id and delay, or BullMQ's refusal. */
export type SchedulerUpsertResult =
  | { jobId: string; delay: number }
  /** `collision`: a pattern iteration's job id is taken; `busy`: 32 `every` slots in a row are. */
  | { refused: 'collision' | 'busy' };

export interface WorkerInfo {
  id: string;
  name: string;
  addr: string;
  started: number;
  heartbeat: number;
  /** What registered: a Worker (the default) or a QueueEvents (listed by getQueueEvents). */
  kind?: 'worker' | 'queue-events';
  /** A Worker's running jobs at its last heartbeat: how many, and the ids of the first 50. */
  running?: number;
  runningIds?: string[];
}

/** Per-minute counts of finished jobs. */
export interface MetricsRead {
  /** Total finished since metrics were first recorded. */
  count: number;
  /**
   * BullMQ's data points: jobs finished per minute, from the minute before the newest recorded one
   * back to the first recorded minute, newest first, at most `maxDataPoints` (zeros where none). The
   * newest minute is still open: it becomes a point once a job finishes in a later minute.
   */
  data: number[];
  /** Finished before the newest minute (BullMQ's `prevCount`). */
  prevCount: number;
  /** Start of the newest minute, ms (BullMQ keeps the time of its first job). */
  prevTS: number;
}

/** One minute's light counts of a queue (Store.getMinuteCounts), recorded whatever the opt-in metrics. */
export interface MinuteCount {
  /** floor(ms / 60 000) of the minute. */
  minute: number;
  completed: number;
  /** Failed for good (a retried attempt is not counted). */
  failed: number;
  /** Moved back from active by the stalled check. */
  stalled: number;
}

/** Minutes of counts a store keeps at least (older ones are trimmed as a new minute starts). */
export const MINUTE_COUNTS_KEPT = 120;

/** One job of a flow: its queue and id are fixed by the caller (UUIDs where the user gave none). */
export interface FlowJob extends NewJob {
  id: string;
  queue: string;
  /** True for a node with children in this flow: it starts in `waiting-children`. */
  hasChildren: boolean;
}

/** A parent's children, keyed by child key `<queue>:<id>`. */
export interface Dependencies {
  /** Completed children → JSON text of their return value. */
  processed: Record<string, string>;
  /** Children not finished yet. */
  unprocessed: string[];
  /** Children that failed under `fail` or `continue` → failed reason. */
  failed: Record<string, string>;
  /** Children that failed under `ignore` → failed reason. */
  ignored: Record<string, string>;
}

export interface AddResult {
  /** Ids in input order; an already existing custom id yields the existing job's id. */
  ids: string[];
  /** For each input: true when the id already existed and nothing was written. */
  duplicated: boolean[];
}

export interface FetchRequest {
  /** One lock token per job wanted: fetch up to `tokens.length` jobs, job i gets `tokens[i]`. */
  tokens: string[];
  lockDuration: number;
  now: number;
  processedBy?: string;
  /** Worker rate limiter: at most `max` job starts per `duration` ms across the queue. */
  limiter?: { max: number; duration: number };
  /** Limits per group for grouped jobs (see {@link GroupLimits}). */
  group?: GroupLimits;
  /** A worker's batch (BullMQ Pro's worker option `batch`, issue 23; see {@link BatchFetch}). */
  batch?: BatchFetch;
}

/**
 * How a fetch takes a batch (issue 23). `minJobs` (minSize): take nothing unless at least this many
 * jobs can be taken (at most the fetch's tokens and limits allow). `groupAffinity`: every job from one
 * source, the queue's own waiting jobs while there are any (never passed over; `minJobs` counts them),
 * else the first group in turn that may start a job, as many as it may start (`minJobs` counts that
 * group's waiting jobs: with fewer, nothing is taken). Without `groupAffinity` the fetch fills as any
 * other, and `minJobs` counts only while no group has jobs ready (BullMQ Pro ignores minSize with groups).
 * A group served gives its turn up once per fetch, so batches go round the groups.
 */
export interface BatchFetch {
  groupAffinity?: boolean;
  minJobs?: number;
}

export interface FetchResult {
  jobs: JobRecord[];
  /** ms until the queue's rate limit lifts (0 = not limited). */
  rateLimitTtl: number;
  /**
   * Due time of the earliest delayed job, if any, so a worker about to wait wakes in time. A store may
   * leave it out when it fetched jobs (the worker does not wait then).
   */
  nextDelayedAt?: number;
  paused: boolean;
}

/**
 * Outcome of a move that checks a lock. 0 = done; negative codes name the refusal
 * (BullMQ's codes): -1 job missing, -2 lock missing, -3 job not in the expected state,
 * -4 job has pending children (complete), -6 lock held by another token, -9 job has a child that
 * failed under failParentOnFailure (complete, moveToWaitingChildren).
 */
export type MoveCode = 0 | -1 | -2 | -3 | -4 | -6 | -9;

export interface CompleteItem {
  id: string;
  token: string;
  returnvalue: string;
  retention: Retention;
  /** Record a per-minute metric keeping this many data points (worker option `metrics`). */
  metrics?: number;
}

export interface FailItem {
  id: string;
  token: string;
  failedReason: string;
  stacktrace: string;
  /** `null`: the job goes to `failed`. A number: retried after this many ms (0 = to waiting at once). */
  retryDelay: number | null;
  retention: Retention;
  /** Event emitted when the job fails for good after its attempts ran out. */
  retriesExhausted?: boolean;
  /** Record a per-minute metric (final failures only) keeping this many data points. */
  metrics?: number;
}

export interface MoveResult {
  codes: MoveCode[];
  /** Jobs fetched in the same step when a FetchRequest was given: one token fewer per refused item. */
  next?: FetchResult;
}

export interface StalledResult {
  /** Jobs moved back to waiting (those of `failing` included). */
  recovered: string[];
  /**
   * Jobs that stalled more than maxStalledCount: back in waiting with a deferred failure, so the
   * worker that fetches one fails it at once ("job stalled more than allowable limit"), as BullMQ 6.
   */
  failing: string[];
}

export interface StoredEvent {
  id: string;
  event: string;
  [field: string]: string;
}

/** What Store.cancelJob did. */
export interface CancelResult {
  /** 0: the job is failed now; -1: no such job; -3: it had finished already (nothing changed). */
  code: MoveCode;
  /** The state the job left (or, with -3, the one it is in). */
  prev?: JobState;
  /** The lock token it was held by when it was active (its holder is signalled), else ''. */
  token: string;
}

/** A cancel request as watchers hear it: the active job `id` held by `token` was failed with `failedReason`. */
export interface CancelNotice {
  id: string;
  token: string;
  failedReason: string;
}
