import type {
  MetricsRead,
  MinuteCount,
  SchedulerIteration,
  SchedulerRecord,
  SchedulerUpsertResult,
  WorkerInfo,
} from '../store.js';
import type { StoreParity } from '../store-parity.js';
import { Admin } from './admin.js';
import type { RedisClient } from './cluster.js';
import { jobArgs } from './codec.js';
import { RedisConnection, type RedisStoreOptions } from './connection.js';
import { Reads } from './reads.js';

/**
 * The Redis store's connection, reads and admin calls, and the BullMQ parity part of the Store
 * contract (store-parity.ts: schedulers, dedup, global limits, metrics, workers, children) over them;
 * RedisStore (redis-store.ts) adds the worker path, adding, groups and events.
 */
export abstract class RedisParityStore implements StoreParity {
  protected readonly conn: RedisConnection;
  protected readonly reads: Reads;
  protected readonly admin: Admin;

  /** Told of connection errors of the client (Queue/Worker forward them as 'error'). */
  onError?: (err: Error) => void;

  constructor(client: RedisClient, opts: RedisStoreOptions) {
    this.conn = new RedisConnection(client, opts, (err) => this.onError?.(err));
    const queueReady = (queue: string) => this.conn.queueReady(queue);
    this.reads = new Reads(client, queueReady);
    this.admin = new Admin(client, queueReady);
  }

  async upsertScheduler(
    queue: string,
    scheduler: SchedulerRecord,
    iteration: SchedulerIteration,
  ): Promise<SchedulerUpsertResult> {
    const { id, repeat, name, data, opts, offset } = scheduler;
    const args = [id, repeat, name, data, opts, offset ?? '', iteration.nextMillis ?? '', iteration.now];
    const reply = await this.conn.run('upsertScheduler', queue, [...args, ...jobArgs(iteration.job)]);
    if (Array.isArray(reply)) return { jobId: String(reply[0]), delay: Number(reply[1]) };
    return { refused: Number(reply) === -10 ? 'collision' : 'busy' };
  }

  async scheduleNext(
    queue: string,
    schedulerId: string,
    producerId: string,
    iteration: SchedulerIteration,
  ): Promise<string | undefined> {
    const args = [schedulerId, producerId, iteration.nextMillis ?? '', iteration.now, ...jobArgs(iteration.job)];
    return optionalString(await this.conn.run('scheduleNext', queue, args));
  }

  getScheduler(queue: string, id: string): Promise<SchedulerRecord | undefined> {
    return this.reads.scheduler(queue, id);
  }

  getSchedulers(queue: string, start: number, end: number, asc: boolean): Promise<SchedulerRecord[]> {
    return this.reads.schedulers(queue, start, end, asc);
  }

  countSchedulers(queue: string): Promise<number> {
    return this.reads.countSchedulers(queue);
  }

  async removeScheduler(queue: string, id: string): Promise<boolean> {
    return Number(await this.conn.run('removeScheduler', queue, [id])) === 1;
  }

  getDedupJobId(queue: string, dedupId: string, _now: number): Promise<string | undefined> {
    return this.reads.dedupJobId(queue, dedupId);
  }

  removeDedupKey(queue: string, dedupId: string, jobId?: string): Promise<number> {
    return this.admin.removeDedupKey(queue, dedupId, jobId);
  }

  setGlobalConcurrency(queue: string, n: number | undefined): Promise<void> {
    return this.admin.setGlobalConcurrency(queue, n);
  }

  setGlobalRateLimit(queue: string, limit: { max: number; duration: number } | undefined): Promise<void> {
    return this.admin.setGlobalRateLimit(queue, limit);
  }

  getGlobalLimits(queue: string): Promise<{ concurrency?: number; rateLimit?: { max: number; duration: number } }> {
    return this.reads.globalLimits(queue);
  }

  getMetrics(queue: string, type: 'completed' | 'failed', now: number): Promise<MetricsRead> {
    return this.reads.metrics(queue, type, now);
  }

  countFinishedPerMinute(queue: string, type: 'completed' | 'failed', since: number, minutes: number) {
    return this.reads.finishedPerMinute(queue, type, since, minutes);
  }

  getMinuteCounts(queue: string, sinceMinute: number): Promise<MinuteCount[]> {
    return this.reads.minuteCounts(queue, sinceMinute);
  }

  getCountsPerPriority(queue: string, priorities: number[]): Promise<Record<string, number>> {
    return this.reads.countsPerPriority(queue, priorities);
  }

  registerWorker(queue: string, info: WorkerInfo, ttlMs: number): Promise<void> {
    return this.admin.registerWorker(queue, info, ttlMs);
  }

  unregisterWorker(queue: string, id: string): Promise<void> {
    return this.admin.unregisterWorker(queue, id);
  }

  getWorkers(queue: string, now: number): Promise<WorkerInfo[]> {
    return this.admin.getWorkers(queue, now);
  }

  async removeChildDependency(queue: string, id: string, now: number): Promise<number> {
    return Number(await this.conn.run('removeChildDependency', queue, [id, now]));
  }

  async removeUnprocessedChildren(queue: string, id: string, now: number): Promise<void> {
    await this.conn.run('removeUnprocessedChildren', queue, [id, now]);
  }

  /** Scans the queue's job hashes; one whose id is in no state list is removed (by the remove script). */
  abstract removeOrphanedJobs(queue: string, count: number, limit: number): Promise<number>;
}

/** A script's optional string answer (Lua false arrives as null). */
function optionalString(raw: unknown): string | undefined {
  return raw === null || raw === undefined ? undefined : String(raw);
}
