import type { JobSettings } from '../job.js';
import { MetricsTime } from '../queue-getters.js';
import type { WorkerOptions } from './worker-options.js';

/** What a worker's jobs consult when they move themselves: the worker's options, as a Job reads them. */
export function jobSettingsOf(opts: WorkerOptions & { lockDuration: number }): JobSettings {
  return {
    lockDuration: opts.lockDuration,
    backoffStrategy: opts.settings?.backoffStrategy,
    maxStartedAttempts: opts.maxStartedAttempts,
    removeOnComplete: opts.removeOnComplete,
    removeOnFail: opts.removeOnFail,
    processedBy: opts.name,
    limiter: opts.limiter,
    group: opts.group,
    metrics: opts.metrics?.maxDataPoints ?? (opts.metrics ? MetricsTime.ONE_WEEK * 2 : undefined),
  };
}
