import { ValidationError } from './errors.js';
import { QueueGetters } from './queue-getters.js';

/**
 * A queue's limits across all its workers: global concurrency, global rate limit, and lifting a
 * manual rate limit. BullMQ's Queue methods of the same names (Queue extends this class).
 */
export class QueueLimits<DataType = any, ResultType = any, NameType extends string = string> extends QueueGetters<
  DataType,
  ResultType,
  NameType
> {
  // The setters resolve what BullMQ's HSET/HDEL of the meta fields resolve: how many fields were
  // added or removed (read just before; the count is informative, the write is what matters).

  /** No more than `concurrency` jobs of this queue run at once, across all workers. Resolves 1 when newly set. */
  async setGlobalConcurrency(concurrency: number): Promise<number> {
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new ValidationError(`concurrency must be an integer >= 1 (got ${String(concurrency)})`);
    }
    await this.waitUntilReady();
    const before = await this.getGlobalConcurrency();
    await this.store.setGlobalConcurrency(this.qualifiedName, concurrency);
    return before === null ? 1 : 0;
  }

  async getGlobalConcurrency(): Promise<number | null> {
    await this.waitUntilReady();
    return (await this.store.getGlobalLimits(this.qualifiedName)).concurrency ?? null;
  }

  /** Resolves 1 when a global concurrency was set, else 0. */
  async removeGlobalConcurrency(): Promise<number> {
    await this.waitUntilReady();
    const before = await this.getGlobalConcurrency();
    await this.store.setGlobalConcurrency(this.qualifiedName, undefined);
    return before === null ? 0 : 1;
  }

  /**
   * At most `max` jobs start per `duration` ms, across all workers (replaces worker limiters).
   * Resolves 2 when newly set (BullMQ's two fields), 0 when replacing a limit.
   */
  async setGlobalRateLimit(max: number, duration: number): Promise<number> {
    if (!Number.isInteger(max) || max < 1 || !(duration > 0)) {
      throw new ValidationError(`global rate limit needs max >= 1 and duration > 0 (got ${max}, ${duration})`);
    }
    await this.waitUntilReady();
    const before = await this.getGlobalRateLimit();
    await this.store.setGlobalRateLimit(this.qualifiedName, { max, duration });
    return before === null ? 2 : 0;
  }

  async getGlobalRateLimit(): Promise<{ max: number; duration: number } | null> {
    await this.waitUntilReady();
    return (await this.store.getGlobalLimits(this.qualifiedName)).rateLimit ?? null;
  }

  /** Resolves 2 when a global rate limit was set, else 0. */
  async removeGlobalRateLimit(): Promise<number> {
    await this.waitUntilReady();
    const before = await this.getGlobalRateLimit();
    await this.store.setGlobalRateLimit(this.qualifiedName, undefined);
    return before === null ? 0 : 2;
  }

  /** True when the global concurrency is reached. */
  async isMaxed(): Promise<boolean> {
    const concurrency = await this.getGlobalConcurrency();
    if (concurrency === null) return false;
    return (await this.getActiveCount()) >= concurrency;
  }

  /**
   * Lifts a rate limit set with `rateLimit` and empties the limiter's current window, as BullMQ's
   * deleting its limiter key does. Resolves 1 when either was in force, else 0.
   */
  async removeRateLimitKey(): Promise<number> {
    await this.waitUntilReady();
    return this.store.meta.removeRateLimit(this.qualifiedName, Date.now());
  }
}
