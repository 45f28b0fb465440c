import { Job, type JobJson } from './job.js';
import { type DependencyItem, dependencySlice } from './job-dependencies.js';
import { QueueBase } from './queue-base.js';
import type { JobState } from './store/store.js';

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

  /** Per-minute counts of completed or failed jobs, recorded by workers with the `metrics` option. */
  async getMetrics(type: 'completed' | 'failed', start = 0, end = -1): Promise<Metrics> {
    await this.waitUntilReady();
    const now = Date.now();
    const read = await this.store.getMetrics(this.qualifiedName, type, now);
    const data = end < 0 ? read.data.slice(start) : read.data.slice(start, end + 1);
    return { meta: { count: read.count, prevTS: now, prevCount: read.data[0] ?? 0 }, data, count: data.length };
  }

  /** Job counts per state in Prometheus text format, as BullMQ exports them. */
  async exportPrometheusMetrics(globalVariables: Record<string, string> = {}): Promise<string> {
    const counts = await this.getJobCounts();
    const extra = Object.entries(globalVariables)
      .map(([k, v]) => `, ${k}="${escapeLabel(v)}"`)
      .join('');
    const lines = [
      '# HELP bullmq_job_count Number of jobs in the queue by state',
      '# TYPE bullmq_job_count gauge',
      ...Object.entries(counts).map(
        ([state, n]) => `bullmq_job_count{queue="${escapeLabel(this.name)}", state="${state}"${extra}} ${n}`,
      ),
    ];
    return `${lines.join('\n')}\n`;
  }

  async getCountsPerPriority(priorities: number[]): Promise<Record<string, number>> {
    await this.waitUntilReady();
    return this.store.getCountsPerPriority(this.qualifiedName, [...new Set(priorities)]);
  }

  /** Workers of this queue that sent a heartbeat recently (both stores keep a registry). */
  async getWorkers(): Promise<{ id: string; name: string; addr: string; age: number; started: number }[]> {
    await this.waitUntilReady();
    const now = Date.now();
    const workers = await this.store.getWorkers(this.qualifiedName, now);
    return workers.map((w) => ({
      id: w.id,
      name: w.name,
      addr: w.addr,
      started: w.started,
      age: Math.floor((now - w.started) / 1000),
    }));
  }

  async getWorkersCount(): Promise<number> {
    return (await this.getWorkers()).length;
  }

  /** QueueEvents listening to this queue: not tracked by Docket, always empty. */
  async getQueueEvents(): Promise<never[]> {
    return [];
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
