import { ValidationError } from '../errors.js';
import { EVENTS_MAX_LEN } from '../version.js';

/** BullMQ's `QueueOptions.streams`: the cap of the queue's event log. */
export interface StreamsOptions {
  events: {
    /**
     * About how many events the queue's log keeps (default 10 000). Kept in the queue's meta when a
     * Queue opens it (the last one opened wins, as BullMQ's), and honoured by every process that
     * writes events: on Redis as `XADD MAXLEN ~` (whole stream nodes, ~100 entries, go at once), on
     * SQLite and PostgreSQL at the periodic trim (every ~5 000 events a process writes).
     */
    maxLen: number;
  };
}

/** The event cap a Queue records: `streams.events.maxLen`, checked, or BullMQ's default. */
export function eventsMaxLen(streams: StreamsOptions | undefined): number {
  const maxLen = streams?.events?.maxLen;
  if (maxLen === undefined) return EVENTS_MAX_LEN;
  if (typeof maxLen !== 'number' || !Number.isSafeInteger(maxLen) || maxLen < 0) {
    throw new ValidationError(`streams.events.maxLen must be an integer of 0 or more (got ${String(maxLen)})`);
  }
  return maxLen;
}
