/**
 * Redis key layout of one Docket queue. Every key of a queue starts with `<queue>:` (the qualified
 * name, e.g. `bull:emails`), so a `{hash tag}` in the prefix keeps the queue in one cluster slot.
 *
 * | key                        | type   | content                                                     |
 * | -------------------------- | ------ | ----------------------------------------------------------- |
 * | `<q>:<id>`                 | HASH   | the job, in JobRecord's field names (+ `lifo`)              |
 * | `<q>:<id>:logs`            | LIST   | the job's log rows                                          |
 * | `<q>:<id>:dependencies`    | SET    | a parent's pending child keys `<childQueue>:<childId>`      |
 * | `<q>:<id>:processed`       | HASH   | a parent's completed child key → return value (JSON)        |
 * | `<q>:<id>:failed`          | HASH   | child key → reason (child failed, policy fail/continue)     |
 * | `<q>:<id>:ignored`         | HASH   | child key → reason (child failed, policy ignore)            |
 * | `<q>:wait`                 | LIST   | runnable non-prioritized ids; RPOP takes the next           |
 * | `<q>:prioritized`          | ZSET   | score priority · 2^32 + sequence (FIFO within a priority)   |
 * | `<q>:delayed`              | ZSET   | score due · 4096 + sequence (FIFO within one ms)            |
 * | `<q>:active`               | ZSET   | score = lock expiry; a lapsed score is a stalled job        |
 * | `<q>:completed`/`failed`   | ZSET   | score = finishedOn, + k/1000 for the k-th later in one ms   |
 * | `<q>:waiting-children`     | ZSET   | parents waiting for children (flows)                        |
 * | `<q>:meta`                 | HASH   | docket-version, paused, rate-limit-until, limiter-*, …      |
 * | `<q>:events`               | STREAM | event log, MAXLEN ~ the meta's opts.maxLenEvents (10000)    |
 * | `<q>:marker`               | ZSET   | wake-up signal, popped by blocked workers                   |
 * | `<q>:id`                   | STRING | counter for auto ids                                        |
 * | `<q>:repeat`               | ZSET   | job schedulers: score = current iteration's time, member = id |
 * | `<q>:repeat:<id>`          | HASH   | a scheduler: repeat, name, data, opts, next, iterationCount, offset |
 * | `<q>:de:<dedupId>`         | STRING | job id holding a deduplication id (PX ttl when given)       |
 * | `<q>:de:<dedupId>:next`    | STRING | job kept aside by keepLastIfActive (JSON)                   |
 * | `<q>:metrics:<type>`       | HASH   | completed/failed metrics: count, maxDataPoints, lastMinute  |
 * | `<q>:metrics:<type>:data`  | HASH   | minute (floor(ms / 60000)) → jobs finished in it            |
 * | `<q>:metrics:minutes`      | HASH   | `<minute>:c`/`f`/`s` → completed / failed / stalled (always) |
 * | `<q>:workers`              | HASH   | worker id → WorkerInfo JSON                                 |
 * | `<q>:workers:alive`        | ZSET   | worker id, score = heartbeat + ttl                          |
 * | `<q>:gr:ready`             | ZSET   | groups that may have waiting jobs, score = turn (lowest next) |
 * | `<q>:gr:all`               | ZSET   | every group with a record, score = first turn (getGroups)   |
 * | `<q>:gr:w:<group>`         | ZSET   | a group's waiting ids, score priority · 2^32 ± sequence     |
 * | `<q>:gr:a:<group>`         | SET    | a group's active ids (its concurrency counts them)          |
 * | `<q>:gr:cfg:<group>`       | HASH   | a group's paused, concurrency, max, duration, rate window   |
 * | `<q>:call:<callId>`        | STRING | a call's answer, for the same call resent (PX 1 min; scripts/includes/calls.lua) |
 *
 * Meta also holds the queue-wide limits: `concurrency`, and `max` / `duration` (global rate limit).
 */

/** The schema version Docket stamps into `<q>:meta` (field `docket-version`). */
export const SCHEMA_VERSION = '1';

/** Suffixes of a queue's own keys after its `<q>:` prefix (scripts/includes/base.lua names each one). */
export const SUFFIXES = [
  'wait',
  'prioritized',
  'delayed',
  'active',
  'completed',
  'failed',
  'meta',
  'events',
  'marker',
  'id',
  'waiting-children',
] as const;

/** Key suffixes BullMQ writes that Docket does not: their presence means a BullMQ queue. */
export const BULLMQ_ONLY_SUFFIXES = ['paused', 'stalled', 'limiter', 'repeat', 'pc', 'stalled-check'];

/** Custom job ids that would collide with a queue key. */
/** Names under `<q>:` that are queue keys, not job ids. */
export function isReservedId(id: string): boolean {
  return RESERVED_IDS.has(id);
}

const RESERVED_IDS = new Set<string>([...SUFFIXES, ...BULLMQ_ONLY_SUFFIXES, 'de', 'metrics', 'workers', 'call']);

/** KEYS[1] of every script: the `<q>:` prefix its keys are built from (scripts/includes/base.lua). */
export function queuePrefix(queue: string): string {
  return `${queue}:`;
}

export const keyOf = {
  meta: (queue: string) => `${queue}:meta`,
  events: (queue: string) => `${queue}:events`,
  marker: (queue: string) => `${queue}:marker`,
  job: (queue: string, id: string) => `${queue}:${id}`,
  logs: (queue: string, id: string) => `${queue}:${id}:logs`,
  dependencies: (queue: string, id: string) => `${queue}:${id}:dependencies`,
  processed: (queue: string, id: string) => `${queue}:${id}:processed`,
  failedChildren: (queue: string, id: string) => `${queue}:${id}:failed`,
  ignoredChildren: (queue: string, id: string) => `${queue}:${id}:ignored`,
  schedulers: (queue: string) => `${queue}:repeat`,
  scheduler: (queue: string, id: string) => `${queue}:repeat:${id}`,
  dedup: (queue: string, dedupId: string) => `${queue}:de:${dedupId}`,
  metrics: (queue: string, type: string) => `${queue}:metrics:${type}`,
  metricsData: (queue: string, type: string) => `${queue}:metrics:${type}:data`,
  minutes: (queue: string) => `${queue}:metrics:minutes`,
  workers: (queue: string) => `${queue}:workers`,
  workersAlive: (queue: string) => `${queue}:workers:alive`,
};

/** Throws when a custom id would land on a queue key (`meta`, `wait`, …) or another job's logs (`:`). */
export function checkCustomId(queue: string, id: string): void {
  if (RESERVED_IDS.has(id) || id.includes(':')) {
    throw new Error(
      `Job id "${id}" cannot be used in queue ${queue}: ids must not contain ":" nor be one of ${[...RESERVED_IDS].join(', ')}.`,
    );
  }
}
