import { ValidationError } from './errors.js';
import { QueueBase, type QueueBaseOptions, withBackendFactory } from './queue-base.js';

/**
 * BullMQ's QueueEventsProducer: publishes events of the user's own into a queue's event log, where
 * every QueueEvents of the queue receives them as it receives the queue's own events.
 */
export class QueueEventsProducer extends QueueBase {
  readonly opts: QueueBaseOptions;

  constructor(name: string, opts: QueueBaseOptions = {}, backendFactory?: unknown) {
    super(name, withBackendFactory(opts, backendFactory), false);
    this.opts = opts;
  }

  /**
   * Appends `{ eventName, ...fields }` to the event log (a QueueEvents listener of `eventName` gets
   * `(fields, eventId)`, values as strings), then keeps about the newest `maxEvents` events of the
   * queue, its own included, as BullMQ's `MAXLEN ~`.
   */
  async publishEvent<T extends { eventName: string }>(argsObj: T, maxEvents = 1000): Promise<void> {
    const { eventName, ...rest } = argsObj;
    if (typeof eventName !== 'string' || eventName === '') {
      throw new ValidationError('publishEvent needs an eventName string');
    }
    // The event log's own names: a batch entry holds several events, `id` and `event` name each one.
    if (eventName === 'batch') throw new ValidationError("publishEvent: the eventName 'batch' is Docket's own");
    for (const reserved of ['id', 'event']) {
      if (reserved in rest) throw new ValidationError(`publishEvent: a field cannot be named '${reserved}'`);
    }
    if (!Number.isInteger(maxEvents) || maxEvents < 1) {
      throw new ValidationError(`publishEvent's maxEvents must be a positive integer (got ${maxEvents})`);
    }
    const fields: Record<string, string> = {};
    for (const [key, value] of Object.entries(rest)) fields[key] = String(value);
    await this.waitUntilReady();
    await this.store.publishEvent(this.qualifiedName, eventName, fields, maxEvents);
  }
}
