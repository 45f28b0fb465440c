import { ValidationError } from './errors.js';
import { QueueDedup } from './queue-dedup.js';
import { TelemetryAttributes as A } from './telemetry/attributes.js';
import { SpanKind } from './telemetry/interface.js';

/**
 * The Queue's housekeeping: draining, cleaning, obliterating, bulk retries and promotions, the event
 * log's trim and orphaned keys — the calls that act on many jobs of the queue at once.
 */
export class QueueCleanup<DataType = any, ResultType = any, NameType extends string = string> extends QueueDedup<
  DataType,
  ResultType,
  NameType
> {
  /** Removes waiting (and, with `delayed`, delayed) jobs. Active and finished jobs stay. */
  async drain(delayed = false): Promise<void> {
    await this.trace(SpanKind.INTERNAL, 'drain', this.name, async ({ span }) => {
      span?.setAttributes({ [A.QueueDrainDelay]: delayed });
      await this.waitUntilReady();
      await this.store.drain(this.qualifiedName, delayed);
    });
  }

  /**
   * Removes up to `limit` jobs of `type` older than `grace` ms; returns their ids. The local
   * `cleaned` event names `waiting` as `wait`, as BullMQ does.
   */
  async clean(grace: number, limit: number, type = 'completed'): Promise<string[]> {
    return this.trace(SpanKind.INTERNAL, 'clean', this.name, async ({ span }) => {
      await this.waitUntilReady();
      const ids = await this.store.clean(this.qualifiedName, grace, limit, type, Date.now());
      this.emit('cleaned', ids, type === 'waiting' ? 'wait' : type);
      span?.setAttributes({
        [A.QueueGrace]: grace,
        [A.JobType]: type,
        [A.QueueCleanLimit]: limit || Number.POSITIVE_INFINITY,
        [A.QueueCleanCount]: ids.length,
      });
      return ids;
    });
  }

  /** Removes the whole queue. Refuses while jobs are active unless `force`. */
  async obliterate(opts: { force?: boolean; count?: number } = {}): Promise<void> {
    await this.trace(SpanKind.INTERNAL, 'obliterate', this.name, async () => {
      await this.waitUntilReady();
      await this.store.pause(this.qualifiedName, true);
      for (;;) {
        const left = await this.store.obliterate(this.qualifiedName, opts.force ?? false, opts.count ?? 1000);
        // BullMQ's exact text: tools match it whole (bull-board answers 409 "has active jobs" on it).
        if (left === -1) throw new Error('Cannot obliterate queue with active jobs');
        if (left === 0) return;
      }
    });
  }

  /** Moves failed (or completed) jobs back to waiting, `count` per step. */
  async retryJobs(opts: { count?: number; state?: 'completed' | 'failed'; timestamp?: number } = {}): Promise<void> {
    await this.trace(SpanKind.PRODUCER, 'retryJobs', this.name, async ({ span }) => {
      span?.setAttributes({ [A.QueueOptions]: JSON.stringify(opts) });
      await this.waitUntilReady();
      const { count = 1000, state = 'failed', timestamp = Date.now() } = opts;
      while ((await this.store.retryJobs(this.qualifiedName, state, count, timestamp)) > 0);
    });
  }

  /** Moves delayed jobs to waiting, `count` per step. */
  async promoteJobs(opts: { count?: number } = {}): Promise<void> {
    await this.trace(SpanKind.INTERNAL, 'promoteJobs', this.name, async ({ span }) => {
      span?.setAttributes({ [A.QueueOptions]: JSON.stringify(opts) });
      await this.waitUntilReady();
      while ((await this.store.promoteJobs(this.qualifiedName, opts.count ?? 1000)) > 0);
    });
  }

  /** Keeps only the newest `maxLength` entries of the queue's event log; returns how many went. */
  async trimEvents(maxLength: number): Promise<number> {
    return this.trace(SpanKind.INTERNAL, 'trimEvents', this.name, async ({ span }) => {
      span?.setAttributes({ [A.QueueEventMaxLength]: maxLength });
      await this.waitUntilReady();
      return this.store.trimEvents(this.qualifiedName, maxLength);
    });
  }

  /** BullMQ removes a key its versions before 5 wrote; Docket never had it. Resolves 0. */
  async removeDeprecatedPriorityKey(): Promise<number> {
    return 0;
  }

  /**
   * Removes what is left of jobs in no state, as BullMQ: `count` keys read per SCAN step, `limit` (0 = none)
   * stops after the step that reached it. Returns how many (always 0 on SQL stores: rows have a state).
   */
  async removeOrphanedJobs(count = 1000, limit = 0): Promise<number> {
    if (!Number.isInteger(count) || count < 1) {
      throw new ValidationError(`removeOrphanedJobs: count must be a positive integer (got ${count})`);
    }
    if (!Number.isInteger(limit) || limit < 0) {
      throw new ValidationError(`removeOrphanedJobs: limit must be an integer of 0 or more (got ${limit})`);
    }
    await this.waitUntilReady();
    return this.store.removeOrphanedJobs(this.qualifiedName, count, limit);
  }
}
