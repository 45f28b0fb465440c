import { QueueGroups } from './queue-groups.js';
import { TelemetryAttributes as A } from './telemetry/attributes.js';
import { SpanKind } from './telemetry/interface.js';

/** The Queue's deduplication keys (BullMQ's `deduplication` option), and their legacy debounce names. */
export class QueueDedup<DataType = any, ResultType = any, NameType extends string = string> extends QueueGroups<
  DataType,
  ResultType,
  NameType
> {
  async getDeduplicationJobId(id: string): Promise<string | null> {
    await this.waitUntilReady();
    return (await this.store.getDedupJobId(this.qualifiedName, id, Date.now())) ?? null;
  }

  async removeDeduplicationKey(id: string): Promise<number> {
    return this.trace(SpanKind.INTERNAL, 'removeDeduplicationKey', this.name, async ({ span }) => {
      span?.setAttributes({ [A.DeduplicationKey]: id });
      await this.waitUntilReady();
      return this.store.removeDedupKey(this.qualifiedName, id);
    });
  }

  /** Legacy name of getDeduplicationJobId. */
  getDebounceJobId(id: string): Promise<string | null> {
    return this.getDeduplicationJobId(id);
  }

  /** Legacy name of removeDeduplicationKey. */
  async removeDebounceKey(id: string): Promise<number> {
    return this.trace(SpanKind.INTERNAL, 'removeDebounceKey', this.name, async ({ span }) => {
      span?.setAttributes({ [A.JobKey]: id });
      await this.waitUntilReady();
      return this.store.removeDedupKey(this.qualifiedName, id);
    });
  }
}
