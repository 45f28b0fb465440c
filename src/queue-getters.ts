import { Job, type JobJson } from './job.js';
import { type DependencyItem, dependencySlice } from './job-dependencies.js';
import { QueueBase } from './queue-base.js';
import type { QueueMeta } from './store/meta.js';
import type { JobState } from './store/store.js';
import { recordJobCounts } from './telemetry/trace.js';

// BullMQ v6 has no 'paused' state: jobs of a paused queue are counted as waiting.
const ALL_TYPES = ['active', 'completed', 'delayed', 'failed', 'prioritized', 'waiting', 'waiting-children'];

/** Read-only views of a queue, as BullMQ's QueueGetters. */
export class QueueGetters<DataType = any, ResultType = any, NameType extends string = string> extends QueueBase {
  async getJob(jobId: string): Promise<Job<DataType, ResultType, NameType> | undefined> {
    return Job.fromId<DataType, ResultType, NameType>(this, jobId);
  }

  async getJobState(jobId: string): Promise<JobState | 'unknown'> {
    await this.waitUntilReady();
    return this.store.getState(this.qualifiedName, jobId);
  }

  /** Counts per state; with no types, every state. */
  async getJobCounts(...types: string[]): Promise<Record<string, number>> {
    await this.waitUntilReady();
    const wanted = types.flat().length > 0 ? types.flat() : ALL_TYPES;
    return this.store.getCounts(this.qualifiedName, wanted);
  }

  async getJobCountByTypes(...types: string[]): Promise<number> {
    const counts = await this.getJobCounts(...types);
    return Object.values(counts).reduce((a, b) => a + b, 0);
  }

  /** Jobs waiting or delayed (and waiting for children), as BullMQ counts them. */
  count(): Promise<number> {
    return this.getJobCountByTypes('waiting', 'delayed', 'prioritized', 'waiting-children');
  }

  getCompletedCount(): Promise<number> {
    return this.getJobCountByTypes('completed');
  }
  getFailedCount(): Promise<number> {
    return this.getJobCountByTypes('failed');
  }
  getDelayedCount(): Promise<number> {
    return this.getJobCountByTypes('delayed');
  }
  getActiveCount(): Promise<number> {
    return this.getJobCountByTypes('active');
  }
  getPrioritizedCount(): Promise<number> {
    return this.getJobCountByTypes('prioritized');
  }
  getWaitingCount(): Promise<number> {
    return this.getJobCountByTypes('waiting');
  }
  getWaitingChildrenCount(): Promise<number> {
    return this.getJobCountByTypes('waiting-children');
  }

  /** Ids of jobs of `types`, each type sliced to [start, end]; newest first unless `asc`. */
  async getRanges(types: string | string[] = [], start = 0, end = -1, asc = false): Promise<string[]> {
    await this.waitUntilReady();
    const list = normaliseTypes(types);
    return this.store.getRange(this.qualifiedName, list.length > 0 ? list : ALL_TYPES, start, end, asc);
  }

  async getJobs(
    types: string | string[] = [],
    start = 0,
    end = -1,
    asc = false,
  ): Promise<Job<DataType, ResultType, NameType>[]> {
    const ids = await this.getRanges(types, start, end, asc);
    const jobs = await Promise.all(ids.map((id) => this.getJob(id)));
    return jobs.filter((j): j is Job<DataType, ResultType, NameType> => j !== undefined);
  }

  getWaiting(start = 0, end = -1): Promise<Job<DataType, ResultType, NameType>[]> {
    return this.getJobs(['waiting'], start, end, true);
  }
  getWaitingChildren(start = 0, end = -1): Promise<Job<DataType, ResultType, NameType>[]> {
    return this.getJobs(['waiting-children'], start, end, true);
  }
  getPrioritized(start = 0, end = -1): Promise<Job<DataType, ResultType, NameType>[]> {
    return this.getJobs(['prioritized'], start, end, true);
  }
  getActive(start = 0, end = -1): Promise<Job<DataType, ResultType, NameType>[]> {
    return this.getJobs(['active'], start, end, true);
  }
  getDelayed(start = 0, end = -1): Promise<Job<DataType, ResultType, NameType>[]> {
    return this.getJobs(['delayed'], start, end, true);
  }
  getCompleted(start = 0, end = -1): Promise<Job<DataType, ResultType, NameType>[]> {
    return this.getJobs(['completed'], start, end, false);
  }
  getFailed(start = 0, end = -1): Promise<Job<DataType, ResultType, NameType>[]> {
    return this.getJobs(['failed'], start, end, false);
  }

  /**
   * A parent's children of one kind, `processed` or `pending`, sliced to [start, end] (end -1 = all;
   * in sorted key order): their keys (`v` the parsed return value of processed ones), their jobs
   * as JSON, and how many there are.
   */
  async getDependencies(
    parentId: string,
    type: 'processed' | 'pending',
    start: number,
    end: number,
  ): Promise<{ items: DependencyItem[]; jobs: JobJson[]; total: number }> {
    await this.waitUntilReady();
    const deps = await this.store.getDependencies(this.qualifiedName, parentId);
    const { items, total } = dependencySlice(deps, type, start, end);
    const records = await Promise.all(
      items.map(({ id: key }) => {
        const at = key.lastIndexOf(':');
        return this.store.getJob(key.slice(0, at), key.slice(at + 1));
      }),
    );
    const jobs = records.flatMap((r): JobJson[] => {
      if (!r) return [];
      const parent = r.parent ? (JSON.parse(r.parent) as { id: string; queue: string }) : undefined;
      return [{ ...r, parent, parentKey: parent ? `${parent.queue}:${parent.id}` : undefined } as JobJson];
    });
    return { items, jobs, total };
  }

  async getJobLogs(jobId: string, start = 0, end = -1, asc = true): Promise<{ logs: string[]; count: number }> {
    await this.waitUntilReady();
    return this.store.getLogs(this.qualifiedName, jobId, start, end, asc);
  }

  /**
   * Per-minute counts of completed or failed jobs, recorded by workers with the `metrics` option, as
   * BullMQ gives them: `data` holds the points [start, end] (newest first; negative = from the end),
   * `count` how many points there are, `meta.count` the total finished.
   */
  async getMetrics(type: 'completed' | 'failed', start = 0, end = -1): Promise<Metrics> {
    await this.waitUntilReady();
    const read = await this.store.getMetrics(this.qualifiedName, type, Date.now());
    const n = read.data.length;
    const from = start < 0 ? Math.max(0, n + start) : start;
    const to = end < 0 ? n + end : end;
    const data = read.data.slice(from, to + 1);
    return { meta: { count: read.count, prevTS: read.prevTS, prevCount: read.prevCount }, data, count: n };
  }

  /**
   * Job counts per state, and the totals of completed and failed jobs that workers with the
   * `metrics` option recorded (0 without), in Prometheus text format, as BullMQ exports them.
   */
  async exportPrometheusMetrics(globalVariables: Record<string, string> = {}): Promise<string> {
    const [counts, completed, failed] = await Promise.all([
      this.getJobCounts(),
      this.getMetrics('completed'),
      this.getMetrics('failed'),
    ]);
    const queue = `queue="${escapeLabel(this.name)}"`;
    const extra = Object.entries(globalVariables)
      .map(([k, v]) => `, ${k}="${escapeLabel(v)}"`)
      .join('');
    const lines = [
      '# HELP bullmq_job_count Number of jobs in the queue by state',
      '# TYPE bullmq_job_count gauge',
      ...Object.entries(counts).map(([state, n]) => `bullmq_job_count{${queue}, state="${state}"${extra}} ${n}`),
      '# HELP bullmq_job_completed_total Total number of completed jobs',
      '# TYPE bullmq_job_completed_total counter',
      `bullmq_job_completed_total{${queue}${extra}} ${completed.meta.count}`,
      '# HELP bullmq_job_failed_total Total number of failed jobs',
      '# TYPE bullmq_job_failed_total counter',
      `bullmq_job_failed_total{${queue}${extra}} ${failed.meta.count}`,
    ];
    // A final newline, as Prometheus's text format wants (BullMQ ends without one).
    return `${lines.join('\n')}\n`;
  }

  /** Counts per state as getJobCounts, also recorded on the `telemetry` meter (gauge `bullmq.queue.jobs`). */
  async recordJobCountsMetric(...types: string[]): Promise<Record<string, number>> {
    const counts = await this.getJobCounts(...types);
    recordJobCounts(this.telemetry, this.name, counts);
    return counts;
  }

  /**
   * `<library>:<version>` recorded by a Queue that opened this queue without `skipMetasUpdate`,
   * or null (see docs/compatibility.md for what Docket reports).
   */
  async getVersion(): Promise<string | null> {
    await this.waitUntilReady();
    return (await this.store.meta.read(this.qualifiedName)).version ?? null;
  }

  /** The queue's settings as BullMQ's getMeta shows them: version, maxLenEvents, paused, global limits. */
  async getMeta(): Promise<QueueMeta> {
    await this.waitUntilReady();
    return this.store.meta.read(this.qualifiedName);
  }

  async getCountsPerPriority(priorities: number[]): Promise<Record<string, number>> {
    await this.waitUntilReady();
    return this.store.getCountsPerPriority(this.qualifiedName, [...new Set(priorities)]);
  }

  /**
   * Workers of this queue that sent a heartbeat recently (both stores keep a registry), with the
   * fields BullMQ reads from Redis's client list: `name` is the queue's name and `rawname` ends in
   * `:w:<worker name>` for a named worker. `workerName` is the Worker's `name` option.
   */
  async getWorkers(): Promise<RegisteredClient[]> {
    return this.registered('worker');
  }

  async getWorkersCount(): Promise<number> {
    return (await this.getWorkers()).length;
  }

  /** Open QueueEvents of this queue (BullMQ deprecates this call), shaped as getWorkers' entries. */
  async getQueueEvents(): Promise<RegisteredClient[]> {
    return this.registered('queue-events');
  }

  private async registered(kind: 'worker' | 'queue-events'): Promise<RegisteredClient[]> {
    await this.waitUntilReady();
    const now = Date.now();
    const entries = await this.store.getWorkers(this.qualifiedName, now);
    // BullMQ names its connections `<prefix>:<base64 of the queue name>`, plus `:w:<name>` or `:qe`.
    const clientName = `${this.prefix}:${Buffer.from(this.name).toString('base64')}`;
    return entries
      .filter((w) => (w.kind ?? 'worker') === kind)
      .map((w) => ({
        id: w.id,
        name: this.name,
        rawname: kind === 'queue-events' ? `${clientName}:qe` : w.name ? `${clientName}:w:${w.name}` : clientName,
        addr: w.addr,
        age: Math.floor((now - w.started) / 1000),
        idle: Math.floor((now - w.heartbeat) / 1000),
        started: w.started,
        workerName: w.name,
      }));
  }
}

/** Data points to keep for `metrics: { maxDataPoints }`, in minutes (BullMQ's values). */
export const MetricsTime = {
  ONE_MINUTE: 1,
  FIVE_MINUTES: 5,
  FIFTEEN_MINUTES: 15,
  THIRTY_MINUTES: 30,
  ONE_HOUR: 60,
  ONE_DAY: 1440,
  ONE_WEEK: 10080,
  TWO_WEEKS: 20160,
  ONE_MONTH: 80640,
} as const;

/** An open Worker or QueueEvents as getWorkers and getQueueEvents list it. */
export interface RegisteredClient {
  /** Docket's id of the Worker (`worker.id`) or QueueEvents. */
  id: string;
  /** The queue's name, as BullMQ reports it. */
  name: string;
  /** BullMQ's connection name: `<prefix>:<base64 queue name>`, then `:w:<worker name>` or `:qe`. */
  rawname: string;
  /** `<host>:<pid>` of the process. */
  addr: string;
  /** Seconds since it started. */
  age: number;
  /** Seconds since its last heartbeat. */
  idle: number;
  /** When it started (ms). */
  started: number;
  /** The Worker's `name` option ('' when none). */
  workerName: string;
}

export interface Metrics {
  meta: { count: number; prevTS: number; prevCount: number };
  data: number[];
  count: number;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function normaliseTypes(types: string | string[]): string[] {
  const list = (Array.isArray(types) ? types : [types]).map((t) => (t === 'wait' ? 'waiting' : t));
  return [...new Set(list)];
}
