import type { Store } from '../store/store.js';

/**
 * Renews the locks of a worker's running jobs every `renewMs`, all in one batched store call,
 * rather than one timer per job.
 */
export class LockRenewer {
  private timer?: NodeJS.Timeout;
  private readonly held = new Map<string, string>();

  constructor(
    private readonly store: Store,
    private readonly queue: string,
    private readonly lockDuration: number,
    private readonly renewMs: number,
    private readonly events: {
      renewed(jobIds: string[]): void;
      failed(jobIds: string[]): void;
      error(err: unknown): void;
    },
  ) {}

  track(jobId: string, token: string): void {
    this.held.set(jobId, token);
    if (!this.timer) {
      this.timer = setInterval(() => void this.renew(), this.renewMs);
      this.timer.unref();
    }
  }

  untrack(jobId: string): void {
    this.held.delete(jobId);
  }

  async renew(): Promise<void> {
    if (this.held.size === 0) return;
    const ids = [...this.held.keys()];
    const tokens = ids.map((id) => this.held.get(id)!);
    try {
      const lost = await this.store.extendLocks(this.queue, ids, tokens, this.lockDuration, Date.now());
      if (lost.length > 0) this.events.failed(lost);
      const lostSet = new Set(lost);
      const renewed = ids.filter((id) => !lostSet.has(id));
      if (renewed.length > 0) this.events.renewed(renewed);
    } catch (err) {
      this.events.error(err);
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.held.clear();
  }
}
