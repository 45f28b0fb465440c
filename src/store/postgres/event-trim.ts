import type { Conn } from './conn.js';
import type { EventLog } from './event-log.js';

/** Keeps the queue's newest `maxLen` events; returns how many went. */
export async function trimEvents(db: Conn, queue: string, maxLen: number): Promise<number> {
  const cut = (await db
    .stmt('SELECT id FROM events WHERE queue = ? ORDER BY id DESC LIMIT 1 OFFSET ?')
    .get(queue, maxLen)) as { id: number } | undefined;
  if (!cut) return 0;
  return (await db.stmt('DELETE FROM events WHERE queue = ? AND id <= ?').run(queue, cut.id)).changes;
}

/** Trims to the cap a Queue recorded for the queue's log (BullMQ's streams.events.maxLen), else the default. */
export async function trimToCap(db: Conn, log: EventLog, queue: string): Promise<number> {
  const row = (await db.stmt('SELECT max_events FROM queues WHERE queue = ?').get(queue)) as
    | { max_events: number | null }
    | undefined;
  const cap = row?.max_events ?? log.maxEvents;
  log.caps.note(queue, cap);
  return trimEvents(db, queue, cap);
}
