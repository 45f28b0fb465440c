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
import type { SharedDatabase } from './database.js';
import { FlowLinks } from './flows.js';
import { Parity } from './parity.js';
import { Reads } from './reads.js';
import { Schedulers } from './schedulers.js';
import { Transitions } from './transitions.js';

/**
 * The SQLite store's file, its transitions and the write step every transition goes through, and
 * the BullMQ parity part of the Store contract (store-parity.ts: schedulers, dedup, global limits,
 * metrics, workers, children); SqliteStore (sqlite-store.ts) adds the worker path, adding,
 * housekeeping, groups and events.
 */
export abstract class SqliteParityStore implements StoreParity {
  protected readonly t: Transitions;
  protected readonly f: FlowLinks;
  protected readonly p: Parity;
  protected readonly r: Reads;
  protected readonly a: Admin;
  protected readonly s: Schedulers;

  constructor(protected readonly sdb: SharedDatabase) {
    this.t = new Transitions(sdb);
    this.f = new FlowLinks(sdb, this.t);
    this.p = new Parity(sdb, this.t, this.f);
    this.r = new Reads(sdb, this.t);
    this.a = new Admin(sdb, this.t);
    this.s = new Schedulers(sdb, this.t);
  }

  protected async write<T>(queue: string, fn: () => T): Promise<T> {
    this.t.touched.clear();
    const emittedBefore = this.t.emitted;
    let out: T;
    try {
      out = await this.sdb.transact(() => {
        this.t.beginTransaction(); // drops what an attempt that hit a busy file left
        const result = fn();
        this.t.flushPending();
        return result;
      });
    } catch (err) {
      this.t.touched.clear();
      this.t.discardPending();
      throw err;
    } finally {
      this.t.endTransaction();
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

  upsertScheduler(queue: string, rec: SchedulerRecord, it: SchedulerIteration): Promise<SchedulerUpsertResult> {
    return this.write(queue, () => this.s.upsert(queue, rec, it));
  }

  scheduleNext(queue: string, id: string, producerId: string, it: SchedulerIteration): Promise<string | undefined> {
    return this.write(queue, () => this.s.scheduleNext(queue, id, producerId, it));
  }

  getScheduler(queue: string, id: string): Promise<SchedulerRecord | undefined> {
    return this.sdb.read(() => this.s.get(queue, id));
  }

  getSchedulers(queue: string, start: number, end: number, asc: boolean): Promise<SchedulerRecord[]> {
    return this.sdb.read(() => this.s.list(queue, start, end, asc));
  }

  countSchedulers(queue: string): Promise<number> {
    return this.sdb.read(() => this.s.count(queue));
  }

  removeScheduler(queue: string, id: string): Promise<boolean> {
    return this.write(queue, () => this.s.remove(queue, id));
  }

  getDedupJobId(queue: string, dedupId: string, now: number): Promise<string | undefined> {
    return this.sdb.read(() => this.p.dedup.live(queue, dedupId, now)?.row.job_id);
  }

  removeDedupKey(queue: string, dedupId: string, jobId?: string): Promise<number> {
    return this.write(queue, () => this.p.dedup.remove(queue, dedupId, jobId, Date.now()));
  }

  setGlobalConcurrency(queue: string, n: number | undefined): Promise<void> {
    return this.write(queue, () => this.a.setGlobalConcurrency(queue, n));
  }

  setGlobalRateLimit(queue: string, limit: { max: number; duration: number } | undefined): Promise<void> {
    return this.write(queue, () => this.a.setGlobalRateLimit(queue, limit));
  }

  getGlobalLimits(queue: string): Promise<{ concurrency?: number; rateLimit?: { max: number; duration: number } }> {
    return this.sdb.read(() => this.r.globalLimits(queue));
  }

  getMetrics(queue: string, type: 'completed' | 'failed', now: number): Promise<MetricsRead> {
    return this.sdb.read(() => this.p.getMetrics(queue, type, now));
  }

  countFinishedPerMinute(queue: string, type: 'completed' | 'failed', since: number, minutes: number) {
    return this.sdb.read(() => this.r.finishedPerMinute(queue, type, since, minutes));
  }

  getMinuteCounts(queue: string, sinceMinute: number): Promise<MinuteCount[]> {
    return this.sdb.read(() => this.p.getMinuteCounts(queue, sinceMinute));
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

  removeChildDependency(queue: string, id: string, now: number): Promise<number> {
    return this.write(queue, () => this.p.removeChildDependency(queue, id, now));
  }

  removeUnprocessedChildren(queue: string, id: string, now: number): Promise<void> {
    return this.write(queue, () => this.p.removeUnprocessedChildren(queue, id, now));
  }

  abstract removeOrphanedJobs(queue: string, count: number, limit: number): Promise<number>;
}
