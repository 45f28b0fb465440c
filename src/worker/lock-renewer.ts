import { TelemetryAttributes as A } from '../telemetry/attributes.js';
import type { WorkerHost } from './host.js';

/**
 * Renews the locks of a worker's running jobs every `lockRenewTime` (default half the lock
 * duration), all in one batched store call rather than one timer per job; emits `locksRenewed` and
 * `lockRenewalFailed` as BullMQ does.
 */
export class LockRenewer {
  private timer?: NodeJS.Timeout;
  private readonly held = new Map<string, string>();

  constructor(
    private readonly host: WorkerHost,
    /** Told of jobs whose lock was gone at a renewal (a cancel the worker did not hear: JobRunner.checkLost). */
    private readonly onLost?: (ids: string[]) => Promise<void>,
  ) {}

  track(jobId: string, token: string): void {
    this.held.set(jobId, token);
    if (!this.timer) {
      const { lockRenewTime, lockDuration } = this.host.opts;
      this.timer = setInterval(() => void this.renew(), lockRenewTime ?? lockDuration / 2);
      this.timer.unref();
    }
  }

  untrack(jobId: string): void {
    this.held.delete(jobId);
  }

  async renew(): Promise<void> {
    if (this.held.size === 0) return;
    const host = this.host;
    const ids = [...this.held.keys()];
    const tokens = ids.map((id) => this.held.get(id)!);
    await host
      .background('extendLocks', async (span) => {
        span?.setAttributes({ [A.WorkerJobsToExtendLocks]: ids });
        const lost = await host.store.extendLocks(host.qualifiedName, ids, tokens, host.opts.lockDuration, Date.now());
        if (lost.length > 0) {
          host.emit('lockRenewalFailed', lost);
          await this.onLost?.(lost);
        }
        const lostSet = new Set(lost);
        const renewed = ids.filter((id) => !lostSet.has(id));
        if (renewed.length > 0) host.emit('locksRenewed', { count: renewed.length, jobIds: renewed });
      })
      .catch((err) => host.emitError(err));
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.held.clear();
  }
}
