import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { moveError } from '../../errors.js';
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
import { BlockingPool } from './blocking.js';
import {
  dedupArg,
  fetchArgs,
  jobArgs,
  retentionArgs,
  toEvents,
  toFetchResult,
  toMoveResult,
  toRecord,
  toScheduler,
} from './codec.js';
import { BULLMQ_ONLY_SUFFIXES, checkCustomId, isReservedId, keyOf, SCHEMA_VERSION, SUFFIXES } from './keys.js';
import { defineScripts, runScript, type ScriptName } from './scripts.js';

export interface RedisStoreOptions {
  /** Quit `client` on close (true when Docket created the client from a URL or options). */
  ownsClient?: boolean;
}

let evictionWarned = false;

/**
 * The Store on Redis: each transition is one Lua script in `scripts/` (see keys.ts for the layout).
 * Blocking waits use duplicated connections, so the main client never blocks.
 */
/** Waits up to this long (ms) are timed locally: see waitForWork. */
const SHORT_WAIT_MS = 250;

export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  private readonly blocking: BlockingPool;
  private readonly readyQueues = new Map<string, Promise<void>>();
  private evictionChecked?: Promise<void>;
  private closing?: Promise<void>;

  constructor(
    private readonly client: Redis,
    private readonly opts: RedisStoreOptions = {},
  ) {
    defineScripts(client);
    this.blocking = new BlockingPool(client);
    // Without a listener ioredis prints every connection error; the owner hears of them through onError.
    if (opts.ownsClient) client.on('error', (err: Error) => this.onError?.(redactError(err)));
  }

  /** Told of connection errors of the client this store owns (Queue/Worker forward them as 'error'). */
  onError?: (err: Error) => void;

  async ready(queue?: string): Promise<void> {
    this.evictionChecked ??= this.checkEvictionPolicy();
    await this.evictionChecked;
    if (queue !== undefined) await this.queueReady(queue);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.blocking.close();
      const client = this.client;
      if (this.opts.ownsClient && client.status !== 'end') {
        // QUIT answers before the socket closes: wait for 'end' so close() leaves nothing open.
        const ended = new Promise<void>((resolve) => {
          client.once('end', resolve);
          setTimeout(() => {
            client.disconnect();
            resolve();
          }, 2000).unref();
        });
        if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
        else client.disconnect();
        if ((client.status as string) !== 'end') await ended;
      }
    })();
    return this.closing;
  }

  // ── adding ────────────────────────────────────────────────────────────────────────

  async addJobs(queue: string, jobs: NewJob[]): Promise<AddResult> {
    if (jobs.length === 0) return { ids: [], duplicated: [] };
    // The jobs travel as one JSON argument (scripts/addJobs.lua).
    const values: (string | number)[] = [];
    for (const job of jobs) {
      if (job.id !== undefined) checkCustomId(queue, job.id);
      values.push(...jobArgs(job), dedupArg(job));
    }
    // The call id makes a resent call answer, not add again (see addJobs.lua).
    const flat = (await this.run('addJobs', queue, [JSON.stringify(values), randomUUID()])) as (string | number)[];
    throwIfParentMissing(flat);
    const result: AddResult = { ids: [], duplicated: [] };
    for (let i = 0; i < flat.length; i += 2) {
      result.ids.push(String(flat[i]));
      result.duplicated.push(Number(flat[i + 1]) === 1);
    }
    return result;
  }

  async addFlow(nodes: FlowJob[]): Promise<{ duplicated: boolean[] }> {
    if (nodes.length === 0) return { duplicated: [] };
    const args: (string | number)[] = [nodes.length];
    for (const node of nodes) {
      checkCustomId(node.queue, node.id);
      args.push(node.queue, node.hasChildren ? '1' : '0', ...jobArgs(node), dedupArg(node));
    }
    // Every queue of the flow is checked (not a BullMQ queue) and stamped before the script runs.
    const queues = new Set(nodes.map((node) => node.queue));
    await Promise.all([...queues].map((queue) => this.queueReady(queue)));
    const flat = (await this.run('addFlow', nodes[0].queue, args)) as (string | number)[];
    throwIfParentMissing(flat);
    return { duplicated: flat.map((d) => Number(d) === 1) };
  }

  // ── the worker path ───────────────────────────────────────────────────────────────

  async fetchNext(queue: string, req: FetchRequest): Promise<FetchResult> {
    return toFetchResult(await this.run('fetchNext', queue, [req.now, ...fetchArgs(req)]));
  }

  /**
   * Blocks on `<q>:marker` (BZPOPMIN) on a connection of its own. Every transition that makes a job
   * runnable, or adds a delayed one, puts a member in the marker; popping it wakes one waiter.
   */
  async waitForWork(queue: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    await this.queueReady(queue);
    if (timeoutMs <= 0) return;
    // Redis ends a blocking command's timeout only on its next cron tick (every 100 ms at the
    // default hz 10), so a worker waiting for a delayed job that is due soon would start it up to
    // 100 ms late. Short waits therefore use a local timer, and long ones leave the last
    // SHORT_WAIT_MS to it (the worker re-fetches, then waits the rest locally).
    if (timeoutMs <= SHORT_WAIT_MS) {
      await sleep(timeoutMs, undefined, { signal }).catch(() => undefined);
      return;
    }
    // BZPOPMIN takes seconds (fractions allowed); 0 would mean forever.
    const seconds = (timeoutMs - SHORT_WAIT_MS / 2) / 1000;
    await this.blocking.run(signal, undefined, async (client) => {
      await client.bzpopmin(keyOf.marker(queue), seconds.toFixed(3));
    });
  }

  async complete(queue: string, items: CompleteItem[], now: number, fetch?: FetchRequest): Promise<MoveResult> {
    // The items travel as one JSON argument (scripts/complete.lua).
    const flat: (string | number)[] = [];
    for (const item of items) {
      flat.push(item.id, item.token, item.returnvalue, ...retentionArgs(item.retention), item.metrics ?? 0);
    }
    return toMoveResult(await this.run('complete', queue, [now, JSON.stringify(flat), ...fetchArgs(fetch)]));
  }

  async fail(queue: string, items: FailItem[], now: number, fetch?: FetchRequest): Promise<MoveResult> {
    const flat: (string | number)[] = [];
    for (const item of items) {
      flat.push(item.id, item.token, item.failedReason, item.stacktrace, item.retryDelay ?? '');
      flat.push(...retentionArgs(item.retention), item.retriesExhausted ? '1' : '0', item.metrics ?? 0);
    }
    return toMoveResult(await this.run('fail', queue, [now, JSON.stringify(flat), ...fetchArgs(fetch)]));
  }

  async extendLocks(
    queue: string,
    ids: string[],
    tokens: string[],
    durationMs: number,
    now: number,
  ): Promise<string[]> {
    if (ids.length === 0) return [];
    const args: (string | number)[] = [now, durationMs];
    for (const [i, id] of ids.entries()) args.push(id, tokens[i]);
    return ((await this.run('extendLocks', queue, args)) as string[]).map(String);
  }

  async recoverStalled(
    queue: string,
    opts: { maxStalledCount: number; intervalMs: number; now: number; force?: boolean },
  ): Promise<StalledResult> {
    const args = [opts.now, opts.maxStalledCount, opts.intervalMs, opts.force ? '1' : '0'];
    const [recovered, failed] = (await this.run('recoverStalled', queue, args)) as [string[], string[]];
    return { recovered: recovered.map(String), failed: failed.map(String) };
  }

  async moveToDelayed(queue: string, id: string, token: string | undefined, timestamp: number, now: number) {
    return Number(await this.run('moveToDelayed', queue, [id, token ?? '', timestamp, now])) as MoveCode;
  }

  async moveToWait(queue: string, id: string, token: string | undefined, now: number) {
    return Number(await this.run('moveToWait', queue, [id, token ?? '', now])) as MoveCode;
  }

  async moveToWaitingChildren(queue: string, id: string, token: string | undefined, now: number): Promise<number> {
    return Number(await this.run('moveToWaitingChildren', queue, [id, token ?? '', now]));
  }

  async getDependencies(queue: string, id: string): Promise<Dependencies> {
    await this.queueReady(queue);
    const replies = await this.client
      .multi()
      .hgetall(keyOf.processed(queue, id))
      .smembers(keyOf.dependencies(queue, id))
      .hgetall(keyOf.failedChildren(queue, id))
      .hgetall(keyOf.ignoredChildren(queue, id))
      .exec();
    if (!replies) throw new Error(`Reading the dependencies of job ${id} in queue ${queue} was aborted; retry.`);
    for (const [err] of replies) if (err) throw err;
    const [processed, unprocessed, failed, ignored] = replies.map(([, value]) => value);
    return {
      processed: processed as Record<string, string>,
      unprocessed: (unprocessed as string[]).sort(),
      failed: failed as Record<string, string>,
      ignored: ignored as Record<string, string>,
    };
  }

  // ── queue-wide controls ───────────────────────────────────────────────────────────

  async pause(queue: string, paused: boolean): Promise<void> {
    await this.run('pause', queue, [paused ? '1' : '0']);
  }

  async isPaused(queue: string): Promise<boolean> {
    await this.queueReady(queue);
    return (await this.client.hexists(keyOf.meta(queue), 'paused')) === 1;
  }

  async rateLimit(queue: string, ms: number, now: number): Promise<void> {
    await this.run('rateLimit', queue, [now, ms]);
  }

  async getRateLimitTtl(queue: string, now: number): Promise<number> {
    return Number(await this.run('getRateLimitTtl', queue, [now]));
  }

  // ── reads ─────────────────────────────────────────────────────────────────────────

  async getJob(queue: string, id: string): Promise<JobRecord | undefined> {
    await this.queueReady(queue);
    return toRecord(id, await this.client.hgetall(keyOf.job(queue, id)));
  }

  async getState(queue: string, id: string): Promise<JobState | 'unknown'> {
    return (await this.run('getState', queue, [id])) as JobState | 'unknown';
  }

  async getCounts(queue: string, types: string[]): Promise<Record<string, number>> {
    const counts = types.length ? ((await this.run('getCounts', queue, types)) as number[]) : [];
    return Object.fromEntries(types.map((type, i) => [type, Number(counts[i])]));
  }

  async getRange(queue: string, types: string[], start: number, end: number, asc: boolean): Promise<string[]> {
    if (types.length === 0) return [];
    const ids = (await this.run('getRange', queue, [start, end, asc ? '1' : '0', ...types])) as string[];
    return ids.map(String);
  }

  async getLogs(queue: string, id: string, start: number, end: number, asc: boolean) {
    await this.queueReady(queue);
    const key = keyOf.logs(queue, id);
    // Newest first reads the mirrored slice from the list's end.
    const [from, to] = asc ? [start, end] : [end === -1 ? 0 : -(end + 1), -(start + 1)];
    const replies = await this.client.multi().lrange(key, from, to).llen(key).exec();
    if (!replies) throw new Error(`Reading the logs of job ${id} in queue ${queue} was aborted; retry.`);
    for (const [err] of replies) if (err) throw err;
    const logs = replies[0][1] as string[];
    return { logs: asc ? logs : logs.reverse(), count: Number(replies[1][1]) };
  }

  // ── job updates (no lock needed) ──────────────────────────────────────────────────

  async updateProgress(queue: string, id: string, progress: string): Promise<MoveCode> {
    return Number(await this.run('updateProgress', queue, [id, progress])) as MoveCode;
  }

  async updateData(queue: string, id: string, data: string): Promise<MoveCode> {
    return Number(await this.run('updateData', queue, [id, data])) as MoveCode;
  }

  async addLog(queue: string, id: string, row: string, keepLogs?: number): Promise<number> {
    const count = Number(await this.run('addLog', queue, [id, row, keepLogs ?? '']));
    if (count < 0) throw new Error(`Missing key for job ${id} in queue ${queue}: it was removed or never added.`);
    return count;
  }

  async clearLogs(queue: string, id: string, keep: number): Promise<void> {
    await this.queueReady(queue);
    const key = keyOf.logs(queue, id);
    if (keep > 0) await this.client.ltrim(key, -keep, -1);
    else await this.client.del(key);
  }

  async remove(queue: string, id: string, now: number, removeChildren = false): Promise<number> {
    return Number(await this.run('remove', queue, [id, now, removeChildren ? '1' : '0']));
  }

  // ── moving jobs outside the worker path ───────────────────────────────────────────

  async promote(queue: string, id: string): Promise<MoveCode> {
    return Number(await this.run('promote', queue, [id])) as MoveCode;
  }

  async promoteJobs(queue: string, count: number): Promise<number> {
    return Number(await this.run('promoteJobs', queue, [count]));
  }

  async retryJob(
    queue: string,
    id: string,
    state: 'completed' | 'failed',
    reset: { attemptsMade?: boolean; attemptsStarted?: boolean },
  ): Promise<MoveCode> {
    const args = [id, state, reset.attemptsMade ? '1' : '0', reset.attemptsStarted ? '1' : '0'];
    return Number(await this.run('retryJob', queue, args)) as MoveCode;
  }

  async retryJobs(queue: string, state: 'completed' | 'failed', count: number, timestamp: number): Promise<number> {
    return Number(await this.run('retryJobs', queue, [state, count, timestamp]));
  }

  async changeDelay(queue: string, id: string, delay: number, now: number): Promise<MoveCode> {
    return Number(await this.run('changeDelay', queue, [id, delay, now])) as MoveCode;
  }

  async changePriority(queue: string, id: string, priority: number, lifo: boolean): Promise<MoveCode> {
    return Number(await this.run('changePriority', queue, [id, priority, lifo ? '1' : '0'])) as MoveCode;
  }

  // ── bulk housekeeping ─────────────────────────────────────────────────────────────

  async clean(queue: string, graceMs: number, limit: number, type: string, now: number): Promise<string[]> {
    const ids = (await this.run('clean', queue, [now - graceMs, limit, type, now])) as string[];
    return ids.map(String);
  }

  async drain(queue: string, delayed: boolean): Promise<void> {
    await this.run('drain', queue, [delayed ? '1' : '0']);
  }

  async obliterate(queue: string, force: boolean, count: number): Promise<number> {
    const left = Number(await this.run('obliterate', queue, [force ? '1' : '0', count]));
    // The meta stamp is gone with the queue: the next use stamps it again.
    if (left === 0) this.readyQueues.delete(queue);
    return left;
  }

  async trimEvents(queue: string, maxLen: number): Promise<void> {
    await this.queueReady(queue);
    await this.client.xtrim(keyOf.events(queue), 'MAXLEN', Math.max(0, maxLen));
  }

  // ── BullMQ parity: schedulers, dedup, global limits, metrics, workers ──────────────

  async upsertScheduler(
    queue: string,
    scheduler: SchedulerRecord,
    first?: NewJob & { id: string },
  ): Promise<string | undefined> {
    const args = [scheduler.id, scheduler.repeat, scheduler.template, scheduler.iterationCount];
    args.push(...(first ? ['1', ...jobArgs(first)] : ['0']));
    return optionalString(await this.run('upsertScheduler', queue, args));
  }

  async scheduleNext(
    queue: string,
    schedulerId: string,
    prevMillis: number,
    job?: NewJob & { id: string },
  ): Promise<string | undefined> {
    const args = [schedulerId, prevMillis, ...(job ? ['1', ...jobArgs(job)] : ['0'])];
    return optionalString(await this.run('scheduleNext', queue, args));
  }

  async getScheduler(queue: string, id: string): Promise<SchedulerRecord | undefined> {
    await this.queueReady(queue);
    return toScheduler(id, await this.client.hgetall(keyOf.scheduler(queue, id)));
  }

  async getSchedulers(queue: string, start: number, end: number, asc: boolean): Promise<SchedulerRecord[]> {
    await this.queueReady(queue);
    const key = keyOf.schedulers(queue);
    const ids = (
      asc ? await this.client.zrange(key, start, String(end)) : await this.client.zrange(key, start, String(end), 'REV')
    ) as string[];
    if (ids.length === 0) return [];
    const pipeline = this.client.pipeline();
    for (const id of ids) pipeline.hgetall(keyOf.scheduler(queue, id));
    const hashes = await execAll(pipeline, `Reading the schedulers of queue ${queue}`);
    return ids.flatMap((id, i) => toScheduler(id, hashes[i] as Record<string, string>) ?? []);
  }

  async countSchedulers(queue: string): Promise<number> {
    await this.queueReady(queue);
    return this.client.zcard(keyOf.schedulers(queue));
  }

  async removeScheduler(queue: string, id: string): Promise<boolean> {
    return Number(await this.run('removeScheduler', queue, [id])) === 1;
  }

  async getDedupJobId(queue: string, dedupId: string, _now: number): Promise<string | undefined> {
    await this.queueReady(queue);
    return (await this.client.get(keyOf.dedup(queue, dedupId))) ?? undefined;
  }

  async removeDedupKey(queue: string, dedupId: string, jobId?: string): Promise<number> {
    await this.queueReady(queue);
    const key = keyOf.dedup(queue, dedupId);
    if (jobId === undefined) return this.client.del(key);
    // Compare-and-delete in one step.
    const removed = await this.client.eval(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
      1,
      key,
      jobId,
    );
    return Number(removed);
  }

  async setGlobalConcurrency(queue: string, n: number | undefined): Promise<void> {
    await this.queueReady(queue);
    const meta = keyOf.meta(queue);
    if (n === undefined) await this.client.hdel(meta, 'concurrency');
    else await this.client.hset(meta, 'concurrency', n);
    // Room may have grown: wake a blocked worker (a spurious wake-up is harmless).
    await this.client.zadd(keyOf.marker(queue), 0, '0');
  }

  async setGlobalRateLimit(queue: string, limit: { max: number; duration: number } | undefined): Promise<void> {
    await this.queueReady(queue);
    const meta = keyOf.meta(queue);
    if (limit === undefined) await this.client.hdel(meta, 'max', 'duration');
    else await this.client.hset(meta, 'max', limit.max, 'duration', limit.duration);
    await this.client.zadd(keyOf.marker(queue), 0, '0');
  }

  async getGlobalLimits(
    queue: string,
  ): Promise<{ concurrency?: number; rateLimit?: { max: number; duration: number } }> {
    await this.queueReady(queue);
    const [concurrency, max, duration] = await this.client.hmget(keyOf.meta(queue), 'concurrency', 'max', 'duration');
    const out: { concurrency?: number; rateLimit?: { max: number; duration: number } } = {};
    if (concurrency !== null) out.concurrency = Number(concurrency);
    if (max !== null && duration !== null) out.rateLimit = { max: Number(max), duration: Number(duration) };
    return out;
  }

  async getMetrics(queue: string, type: 'completed' | 'failed', now: number): Promise<MetricsRead> {
    await this.queueReady(queue);
    const replies = await execAll(
      this.client
        .multi()
        .hmget(keyOf.metrics(queue, type), 'count', 'maxDataPoints')
        .hgetall(keyOf.metricsData(queue, type)),
      `Reading the metrics of queue ${queue}`,
    );
    const [count, points] = (replies[0] as (string | null)[]).map(Number);
    if (!count) return { count: 0, data: [] };
    const perMinute = replies[1] as Record<string, string>;
    const minute = Math.floor(now / 60_000);
    return { count, data: Array.from({ length: points || 0 }, (_, i) => Number(perMinute[String(minute - i)] ?? 0)) };
  }

  async getCountsPerPriority(queue: string, priorities: number[]): Promise<Record<string, number>> {
    await this.queueReady(queue);
    if (priorities.length === 0) return {};
    const pipeline = this.client.pipeline();
    for (const p of priorities) {
      if (p === 0) pipeline.llen(`${queue}:wait`);
      else pipeline.zcount(`${queue}:prioritized`, p * 2 ** 32, `(${(p + 1) * 2 ** 32}`);
    }
    const counts = await execAll(pipeline, `Counting the jobs per priority of queue ${queue}`);
    return Object.fromEntries(priorities.map((p, i) => [String(p), Number(counts[i])]));
  }

  async registerWorker(queue: string, info: WorkerInfo, ttlMs: number): Promise<void> {
    await this.queueReady(queue);
    await execAll(
      this.client
        .multi()
        .hset(keyOf.workers(queue), info.id, JSON.stringify(info))
        .zadd(keyOf.workersAlive(queue), info.heartbeat + ttlMs, info.id),
      `Registering worker ${info.id} of queue ${queue}`,
    );
  }

  async unregisterWorker(queue: string, id: string): Promise<void> {
    await this.queueReady(queue);
    await execAll(
      this.client.multi().hdel(keyOf.workers(queue), id).zrem(keyOf.workersAlive(queue), id),
      `Unregistering worker ${id} of queue ${queue}`,
    );
  }

  async getWorkers(queue: string, now: number): Promise<WorkerInfo[]> {
    await this.queueReady(queue);
    const alive = keyOf.workersAlive(queue);
    const dead = await this.client.zrangebyscore(alive, '-inf', `(${now}`);
    if (dead.length > 0) {
      // Lazily forget workers whose heartbeat lapsed.
      await this.forgetWorkers(queue, dead, now);
    }
    const ids = (await this.client.zrangebyscore(alive, now, '+inf')).sort();
    if (ids.length === 0) return [];
    const infos = await this.client.hmget(keyOf.workers(queue), ...ids);
    return infos.flatMap((info) => (info ? [JSON.parse(info) as WorkerInfo] : []));
  }

  async removeChildDependency(queue: string, id: string, now: number): Promise<boolean> {
    return Number(await this.run('removeChildDependency', queue, [id, now])) === 1;
  }

  async removeUnprocessedChildren(queue: string, id: string): Promise<void> {
    await this.run('removeUnprocessedChildren', queue, [id]);
  }

  // ── events ────────────────────────────────────────────────────────────────────────

  async lastEventId(queue: string): Promise<string> {
    await this.queueReady(queue);
    const newest = await this.client.xrevrange(keyOf.events(queue), '+', '-', 'COUNT', 1);
    return newest.length > 0 ? newest[0][0] : '0';
  }

  /** Scans the queue's job hashes; one whose id is in no state list is removed (by the remove script). */
  async removeOrphanedJobs(queue: string, count: number, limit: number): Promise<number> {
    const head = `${queue}:`;
    const pattern = `${head.replace(/[*?[\]\\]/g, '\\$&')}*`;
    let removed = 0;
    let scanned = 0;
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const id = key.slice(head.length);
        if (id.includes(':') || isReservedId(id)) continue;
        if (limit > 0 && ++scanned > limit) return removed;
        if ((await this.client.type(key)) !== 'hash') continue;
        if ((await this.getState(queue, id)) !== 'unknown') continue;
        removed += await this.remove(queue, id, Date.now());
        if (count > 0 && removed >= count) return removed;
      }
    } while (cursor !== '0');
    return removed;
  }

  /** Names (without the prefix) of the Docket queues stored under `prefix`, sorted. */
  async listQueues(prefix: string): Promise<string[]> {
    const head = `${prefix}:`;
    const pattern = `${head.replace(/[*?[\]\\]/g, '\\$&')}*:meta`;
    const names = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const name = key.slice(head.length, -':meta'.length);
        if (name && !name.includes(':') && (await this.client.hexists(key, 'docket-version'))) names.add(name);
      }
    } while (cursor !== '0');
    return [...names].sort();
  }

  async readEvents(queue: string, afterId: string, blockMs: number, signal: AbortSignal): Promise<StoredEvent[]> {
    await this.queueReady(queue);
    const key = keyOf.events(queue);
    if (blockMs <= 0) return toEvents(await this.client.xread('STREAMS', key, afterId));
    return this.blocking.run(signal, [], async (client) =>
      toEvents(await client.xread('BLOCK', blockMs, 'STREAMS', key, afterId)),
    );
  }

  // ── internals ─────────────────────────────────────────────────────────────────────

  /** Drops workers whose heartbeat lapsed before `now` (rechecked in one step, so a fresh heartbeat stays). */
  private async forgetWorkers(queue: string, ids: string[], now: number): Promise<void> {
    await this.client.eval(
      `for i = 2, #ARGV do
         local score = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[i]))
         if score and score < tonumber(ARGV[1]) then
           redis.call('ZREM', KEYS[1], ARGV[i])
           redis.call('HDEL', KEYS[2], ARGV[i])
         end
       end
       return 0`,
      2,
      keyOf.workersAlive(queue),
      keyOf.workers(queue),
      now,
      ...ids,
    );
  }

  private async run(name: ScriptName, queue: string, args: (string | number)[]): Promise<unknown> {
    try {
      await this.queueReady(queue);
      return await runScript(this.client, name, queue, args);
    } catch (err) {
      throw redactError(err);
    }
  }

  /** Stamps or checks `<q>:meta` once per queue and store; every method passes through here. */
  private queueReady(queue: string): Promise<void> {
    let ready = this.readyQueues.get(queue);
    if (!ready) {
      ready = this.stampQueue(queue);
      this.readyQueues.set(queue, ready);
      ready.catch(() => this.readyQueues.delete(queue));
    }
    return ready;
  }

  private async stampQueue(queue: string): Promise<void> {
    if (this.closing) throw new Error(`The store of queue ${queue} is closed.`);
    const own = SUFFIXES.filter((suffix) => suffix !== 'meta');
    const answer = await runScript(this.client, 'ready', queue, [SCHEMA_VERSION, ...own, ...BULLMQ_ONLY_SUFFIXES]);
    if (answer === 0) return;
    if (answer === -1) {
      throw new Error(
        `Queue ${queue} was written by BullMQ (or another tool): Docket will not modify it. ` +
          'Use another queue name or prefix, or drain the queue with BullMQ first.',
      );
    }
    throw new Error(
      `Queue ${queue} has Docket schema version ${String(answer)}, but this Docket knows version ${SCHEMA_VERSION}: ` +
        'upgrade Docket.',
    );
  }

  /** Jobs are data: warn (once per process) when Redis may evict keys under memory pressure. */
  private async checkEvictionPolicy(): Promise<void> {
    if (evictionWarned) return;
    try {
      const reply = (await this.client.config('GET', 'maxmemory-policy')) as unknown as string[];
      const policy = Array.isArray(reply) ? reply[1] : undefined;
      if (policy && policy !== 'noeviction' && !evictionWarned) {
        evictionWarned = true;
        console.warn(
          `Docket: Redis maxmemory-policy is "${policy}"; set it to "noeviction" or Redis may drop jobs under memory pressure.`,
        );
      }
    } catch {
      // CONFIG is often disabled on managed Redis: nothing to check then.
    }
  }
}

/** A script's optional string answer (Lua false arrives as null). */
/** ioredis attaches the failed command to its errors: an AUTH/HELLO command carries the password. */
function redactError<E>(err: E): E {
  const command = (err as { command?: { name?: string; args?: unknown[] } })?.command;
  if (command && /^(auth|hello)$/i.test(command.name ?? '')) command.args = ['***'];
  return err;
}

function optionalString(raw: unknown): string | undefined {
  return raw === null || raw === undefined ? undefined : String(raw);
}

interface Execable {
  exec(): Promise<[Error | null, unknown][] | null>;
}

/** Runs a MULTI or pipeline and returns its replies, throwing the first error. */
async function execAll(batch: Execable, what: string): Promise<unknown[]> {
  const replies = await batch.exec();
  if (!replies) throw new Error(`${what} was aborted; retry.`);
  for (const [err] of replies) if (err) throw err;
  return replies.map(([, value]) => value);
}

/** addJobs / addFlow answer `{-5, '<parentQueue>:<parentId>'}` when a parent is missing (nothing stored). */
function throwIfParentMissing(flat: (string | number)[]): void {
  if (typeof flat[0] === 'number' && flat[0] === -5) throw moveError(-5, String(flat[1]), 'addJob');
}
