import type { StalledResult, Store } from '../store/store.js';

/**
 * Runs the store's stalled-job recovery every `intervalMs`. The store itself guarantees that only
 * one checker per queue acts per interval, however many workers run one.
 */
export class StalledChecker {
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly store: Store,
    private readonly queue: string,
    private readonly opts: { intervalMs: number; maxStalledCount: number },
    private readonly onResult: (result: StalledResult) => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), this.opts.intervalMs);
    this.timer.unref();
  }

  /** One check now (tests call it with `force` to skip the per-interval guard). */
  async check(force = false): Promise<StalledResult> {
    try {
      const result = await this.store.recoverStalled(this.queue, { ...this.opts, now: Date.now(), force });
      this.onResult(result);
      return result;
    } catch (err) {
      this.onError(err);
      return { recovered: [], failing: [] };
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
