import type { JobSettings } from '../job.js';
import type { JobScheduler } from '../job-scheduler.js';
import type { JobRecord } from '../store/store.js';
import { BatchFinisher } from './batch-finishing.js';
import { BatchRunner } from './batch-runner.js';
import { JobRunner, type RunnerParts, type RunningJob } from './job-runner.js';

/** What the runners need: the job runner's parts, and what batches need besides. */
export interface RunnersParts extends RunnerParts {
  settings(): JobSettings;
  scheduler(): Promise<JobScheduler>;
}

/**
 * A worker's runners: the job runner (a slot per job), or with the `batch` option the batch runner
 * (a slot per batch, worker/batch-runner.ts). The worker sees its running jobs through this.
 */
export class Runners {
  readonly jobs: JobRunner;
  readonly batches?: BatchRunner;

  constructor(parts: RunnersParts) {
    this.jobs = new JobRunner(parts);
    if (parts.host.opts.batch) {
      const finisher = new BatchFinisher(parts.host, parts.fetcher, parts.settings);
      this.batches = new BatchRunner({ ...parts, finisher });
    }
  }

  /** Runs fetched jobs: each in a slot, or all as one batch. */
  start(records: JobRecord[]): void {
    if (this.batches) this.batches.start(records);
    else for (const record of records) this.jobs.start(record);
  }

  /** Slots in use: running jobs, or running batches. */
  slotsInUse(): number {
    return this.batches ? this.batches.running : this.jobs.active.size;
  }

  /** A running job by id (one of a batch included). */
  find(jobId: string): RunningJob | undefined {
    return this.jobs.active.get(jobId) ?? this.batches?.active.get(jobId);
  }

  /** Every running job (those of batches included). */
  running(): RunningJob[] {
    return [...this.jobs.active.values(), ...(this.batches?.active.values() ?? [])];
  }

  checkLost(ids: string[]): Promise<void> {
    return this.jobs.checkLost(ids);
  }
}
