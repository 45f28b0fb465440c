import type {
  Dependencies,
  GroupInfo,
  JobRecord,
  JobState,
  MetricsRead,
  MinuteCount,
  SchedulerRecord,
  StoredEvent,
  WorkerInfo,
} from '../store.js';
import type { SharedPool } from './database.js';
import type { EventLog } from './event-log.js';
import { Session } from './session.js';

/**
 * The PostgreSQL store's consistent reads (getters, event reads), each on one pooled client outside
 * any transaction, in the queue's call order. PostgresStore (postgres-store.ts) adds the transitions.
 */
export abstract class PostgresReads {
  protected closed = false;

  protected constructor(
    protected readonly shared: SharedPool,
    protected readonly log: EventLog,
  ) {}

  /** A read, in the queue's call order (`undefined`: a read of no one queue). */
  protected read<T>(queue: string | undefined, fn: (s: Session) => Promise<T>): Promise<T> {
    return this.shared.serial(queue, () => this.shared.read((db) => fn(new Session(db, this.log))));
  }

  async getDependencies(queue: string, id: string): Promise<Dependencies> {
    return this.read(queue, (s) => s.f.dependencies(queue, id));
  }

  getGroup(queue: string, id: string): Promise<GroupInfo | undefined> {
    return this.read(queue, (s) => s.g.get(queue, id));
  }

  getGroups(queue: string, start: number, end: number): Promise<GroupInfo[]> {
    return this.read(queue, (s) => s.g.list(queue, start, end));
  }

  getGroupJobIds(queue: string, id: string, start: number, end: number): Promise<string[]> {
    return this.read(queue, (s) => s.g.jobIds(queue, id, start, end));
  }

  async isPaused(queue: string): Promise<boolean> {
    return this.read(queue, (s) => s.r.isPaused(queue));
  }

  async getRateLimitTtl(queue: string, now: number, maxJobs = 0): Promise<number> {
    return this.read(queue, (s) => s.r.rateLimitTtl(queue, now, maxJobs));
  }

  async getJob(queue: string, id: string): Promise<JobRecord | undefined> {
    return this.read(queue, (s) => s.r.job(queue, id));
  }

  async getState(queue: string, id: string): Promise<JobState | 'unknown'> {
    return this.read(queue, (s) => s.r.state(queue, id));
  }

  async getCounts(queue: string, types: string[]): Promise<Record<string, number>> {
    return this.read(queue, (s) => s.r.counts(queue, types));
  }

  async getRange(queue: string, types: string[], start: number, end: number, asc: boolean): Promise<string[]> {
    return this.read(queue, (s) => s.r.range(queue, types, start, end, asc));
  }

  async getLogs(
    queue: string,
    id: string,
    start: number,
    end: number,
    asc: boolean,
  ): Promise<{ logs: string[]; count: number }> {
    return this.read(queue, (s) => s.r.logs(queue, id, start, end, asc));
  }

  getScheduler(queue: string, id: string): Promise<SchedulerRecord | undefined> {
    return this.read(queue, (s) => s.s.get(queue, id));
  }

  getSchedulers(queue: string, start: number, end: number, asc: boolean): Promise<SchedulerRecord[]> {
    return this.read(queue, (s) => s.s.list(queue, start, end, asc));
  }

  countSchedulers(queue: string): Promise<number> {
    return this.read(queue, (s) => s.s.count(queue));
  }

  getDedupJobId(queue: string, dedupId: string, now: number): Promise<string | undefined> {
    return this.read(queue, async (s) => (await s.p.dedup.live(queue, dedupId, now))?.row.job_id);
  }

  getGlobalLimits(queue: string): Promise<{ concurrency?: number; rateLimit?: { max: number; duration: number } }> {
    return this.read(queue, (s) => s.r.globalLimits(queue));
  }

  getMetrics(queue: string, type: 'completed' | 'failed', now: number): Promise<MetricsRead> {
    return this.read(queue, (s) => s.p.getMetrics(queue, type, now));
  }

  countFinishedPerMinute(queue: string, type: 'completed' | 'failed', since: number, minutes: number) {
    return this.read(queue, (s) => s.r.finishedPerMinute(queue, type, since, minutes));
  }

  getMinuteCounts(queue: string, sinceMinute: number): Promise<MinuteCount[]> {
    return this.read(queue, (s) => s.r.minuteCounts(queue, sinceMinute));
  }

  getCountsPerPriority(queue: string, priorities: number[]): Promise<Record<string, number>> {
    return this.read(queue, (s) => s.p.countsPerPriority(queue, priorities));
  }

  getWorkers(queue: string, now: number): Promise<WorkerInfo[]> {
    return this.read(queue, (s) => s.p.getWorkers(queue, now));
  }

  /** A job row always has a state: there are no orphans to remove (as on SQLite). */
  async removeOrphanedJobs(_queue: string, _count: number, _limit: number): Promise<number> {
    return 0;
  }

  /** Names (without the prefix) of the queues stored under `prefix`, sorted. */
  async listQueues(prefix: string): Promise<string[]> {
    return this.read(undefined, (s) => s.r.queueNames(prefix));
  }

  async readEvents(queue: string, afterId: string, blockMs: number, signal: AbortSignal): Promise<StoredEvent[]> {
    const after = Number(afterId === '$' ? await this.lastEventId(queue) : afterId) || 0;
    if (blockMs > 0) await this.shared.listener.start();
    return this.shared.listener.readUntilFound(queue, blockMs, signal, () =>
      this.closed ? Promise.resolve(undefined) : this.read(queue, (s) => s.r.eventsAfter(queue, after)),
    );
  }

  async lastEventId(queue: string): Promise<string> {
    return this.read(queue, (s) => s.r.lastEventId(queue));
  }
}
