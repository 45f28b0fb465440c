/**
 * The queue's meta as BullMQ reports it (`getMeta`, `getVersion`, `removeRateLimitKey`): bookkeeping
 * no transition reads. A facet of the Store (`store.meta`), implemented by each store in its `meta.ts`.
 */

/** What `getMeta` shows, from both stores. */
export interface QueueMeta {
  /** `<library>:<version>` written by a Queue that opened without `skipMetasUpdate`. */
  version?: string;
  /** The event log's cap, written with the version. */
  maxLenEvents?: number;
  paused: boolean;
  /** Global concurrency. */
  concurrency?: number;
  /** Global rate limit. */
  max?: number;
  duration?: number;
}

export interface MetaStore {
  /** Records the library version and the event-log cap in the queue's meta (BullMQ's Queue does so on open). */
  writeVersion(queue: string, version: string, maxLenEvents: number): Promise<void>;
  read(queue: string): Promise<QueueMeta>;
  /**
   * Lifts a manual rate limit and empties the limiter's window (BullMQ deletes its limiter key).
   * 1 when either was in force at `now`, else 0.
   */
  removeRateLimit(queue: string, now: number): Promise<number>;
}
