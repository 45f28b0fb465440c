import { EventCaps } from '../event-caps.js';
import type { SharedDatabase } from './database.js';

/** Most events one INSERT writes (4 bound values each). */
const EVENTS_PER_INSERT = 64;
const insertEventsCache: string[] = [];

/** `INSERT INTO events ... VALUES (?, ?, ?, ?), ...` for `n` rows, built once per `n`. */
function insertEventsSql(n: number): string {
  insertEventsCache[n] ??=
    `INSERT INTO events (queue, id, event, fields) VALUES ${Array(n).fill('(?, ?, ?, ?)').join(', ')}`;
  return insertEventsCache[n];
}

/**
 * Event ids are at least the time of writing times this (as a Redis stream id is at least its ms):
 * the ids of a queue whose log was emptied (obliterate) go on above those a reader has seen.
 * 1024 per ms keeps ids below 2^53 until the year 2248.
 */
const IDS_PER_MS = 1024;

/**
 * An event's fields as stored: JSON of the defined ones, all as strings. JSON.stringify already
 * leaves out undefined values, so fields that are all strings (nearly every event) need no copy.
 */
function fieldsJson(fields: Record<string, string | number | undefined>): string {
  for (const k in fields) {
    const v = fields[k];
    if (v !== undefined && typeof v !== 'string') {
      const values: Record<string, string> = {};
      for (const [key, value] of Object.entries(fields)) if (value !== undefined) values[key] = String(value);
      return JSON.stringify(values);
    }
  }
  return JSON.stringify(fields);
}

/**
 * The SQLite event log (QueueEvents reads it): `events`, keyed by (queue, id) in one b-tree.
 * Ids are per queue, counted up from the queue's newest event (read in the same write transaction,
 * so they follow commit order) and never below the clock's floor (IDS_PER_MS). A global
 * AUTOINCREMENT id with an index on (queue, id) wrote two more pages per commit (the index and
 * `sqlite_sequence`): a one-job add wrote ~35.7 KB to the WAL, now ~27 KB (bench/NOTES.md).
 *
 * A write transaction's events are kept in memory and written as it commits (`flush`), one
 * multi-row INSERT per EVENTS_PER_INSERT events.
 */
export class SqliteEventLog {
  /** Events of the running transaction as flat (queue, event, fields JSON) triples. */
  private pending: string[] = [];
  private sinceTrim = 0;
  /** The newest id this process gave per queue (an emptied log starts above it). */
  private readonly given = new Map<string, number>();

  /** When to trim, and the small caps this process knows of (../event-caps.ts). */
  readonly caps: EventCaps;

  constructor(
    private readonly sdb: SharedDatabase,
    private readonly maxEvents: number,
  ) {
    this.caps = new EventCaps(maxEvents);
  }

  emit(queue: string, event: string, fields: Record<string, string | number | undefined>): void {
    this.pending.push(queue, event, fieldsJson(fields));
  }

  /** Drops what a transaction kept: it rolled back, or an attempt hit a busy file. */
  discard(): void {
    this.pending = [];
  }

  /** Writes the transaction's events, numbered; trims the log now and then. */
  flush(): void {
    const triples = this.pending;
    if (triples.length === 0) return;
    this.pending = [];
    const floor = Date.now() * IDS_PER_MS;
    const last = new Map<string, number>();
    const rows: (string | number)[] = [];
    for (let i = 0; i < triples.length; i += 3) {
      const queue = triples[i];
      let newest = last.get(queue);
      if (newest === undefined) {
        newest = this.newest(queue);
        // An empty log (obliterated, trimmed to 0) tells nothing of the ids readers saw: this process's
        // own, and the next millisecond's ids, are above any given in this one (a reader that took an
        // event in this very millisecond would otherwise miss the next).
        if (newest === 0) newest = Math.max(this.given.get(queue) ?? 0, floor + IDS_PER_MS - 1);
      }
      const id = Math.max(newest + 1, floor);
      last.set(queue, id);
      rows.push(queue, id, triples[i + 1], triples[i + 2]);
    }
    const step = EVENTS_PER_INSERT * 4;
    for (let at = 0; at < rows.length; at += step) {
      const chunk = at === 0 && rows.length <= step ? rows : rows.slice(at, at + step);
      this.sdb.stmt(insertEventsSql(chunk.length / 4)).run(chunk);
    }
    for (const [queue, id] of last) this.given.set(queue, id);
    this.sinceTrim += triples.length / 3;
    if (this.sinceTrim >= this.caps.threshold()) {
      this.sinceTrim = 0;
      for (const queue of new Set([...last.keys(), ...this.caps.queues()])) this.trim(queue, this.capOf(queue));
    }
  }

  /** The cap a Queue recorded for the queue's log (BullMQ's streams.events.maxLen), else the default. */
  private capOf(queue: string): number {
    const row = this.sdb.stmt('SELECT max_events FROM queues WHERE queue = ?').get(queue) as
      | { max_events: number | null }
      | undefined;
    const cap = row?.max_events ?? this.maxEvents;
    this.caps.note(queue, cap);
    return cap;
  }

  /** The id of the queue's newest event, 0 when it has none. */
  private newest(queue: string): number {
    const row = this.sdb.rawStmt('SELECT id FROM events WHERE queue = ? ORDER BY id DESC LIMIT 1').get(queue) as
      | [number]
      | undefined;
    return row ? row[0] : 0;
  }

  /** Keeps the queue's newest `maxLen` events; returns how many went. */
  trim(queue: string, maxLen: number): number {
    const cut = this.sdb
      .stmt('SELECT id FROM events WHERE queue = ? ORDER BY id DESC LIMIT 1 OFFSET ?')
      .get(queue, maxLen) as { id: number } | undefined;
    if (!cut) return 0;
    return this.sdb.stmt('DELETE FROM events WHERE queue = ? AND id <= ?').run(queue, cut.id).changes;
  }
}
