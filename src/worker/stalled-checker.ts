import { isNotConnectionError } from '../errors.js';
import type { StalledResult } from '../store/store.js';
import { TelemetryAttributes as A } from '../telemetry/attributes.js';
import type { WorkerHost } from './host.js';

/**
 * Runs the store's stalled-job recovery every `stalledInterval` and emits `stalled` for each job it
 * gave back. The store itself guarantees that only one checker per queue acts per interval, however
 * many workers run one.
 */
export class StalledChecker {
  private timer?: NodeJS.Timeout;

  constructor(private readonly host: WorkerHost) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), this.host.opts.stalledInterval);
    this.timer.unref();
  }

  /** One check now (tests call it with `force` to skip the per-interval guard). */
  async check(force = false): Promise<StalledResult> {
    const host = this.host;
    const { stalledInterval, maxStalledCount } = host.opts;
    try {
      return await host.background('moveStalledJobsToWait', async (span) => {
        const result = await host.store.recoverStalled(host.qualifiedName, {
          intervalMs: stalledInterval,
          maxStalledCount,
          now: Date.now(),
          force,
        });
        span?.setAttributes({ [A.WorkerStalledJobs]: result.recovered });
        for (const id of result.recovered) {
          span?.addEvent('job stalled', { [A.JobId]: id });
          host.emit('stalled', id, 'active');
        }
        return result;
      });
    } catch (err) {
      // As BullMQ's: a lost connection is not the worker's error; the next check runs as planned.
      if (isNotConnectionError(err)) host.emitError(err);
      return { recovered: [], failing: [] };
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
