import { Adding } from './adding.js';
import { Admin } from './admin.js';
import type { Conn, Prelude } from './conn.js';
import type { SharedPool } from './database.js';
import type { EventLog } from './event-log.js';
import { FlowLinks } from './flows.js';
import { GroupRecords } from './group-records.js';
import { Housekeeping } from './housekeeping.js';
import { Parity } from './parity.js';
import { Reads } from './reads.js';
import { Schedulers } from './schedulers.js';
import { Transitions } from './transitions.js';
import { WorkerPath } from './worker-path.js';

/**
 * The store's facets bound to one pooled client for one transaction (or read). Built afresh each
 * time, unlike the SQLite store's single set: transactions run side by side here, and each keeps
 * its own pending events, counters and locks (transitions.ts). A handful of small objects per
 * transaction, nothing next to a round trip.
 */
export class Session {
  readonly t: Transitions;
  readonly f: FlowLinks;
  readonly p: Parity;
  readonly w: WorkerPath;
  readonly h: Housekeeping;
  readonly r: Reads;
  readonly a: Admin;
  readonly s: Schedulers;
  readonly add: Adding;
  readonly g: GroupRecords;

  constructor(
    readonly db: Conn,
    readonly log: EventLog,
  ) {
    this.t = new Transitions(db, log);
    this.f = new FlowLinks(db, this.t);
    this.p = new Parity(db, this.t, this.f);
    this.w = new WorkerPath(db, this.t, this.f, this.p);
    this.h = new Housekeeping(db, this.t, this.f);
    this.r = new Reads(db, this.t);
    this.a = new Admin(db, this.t);
    this.s = new Schedulers(db, this.t);
    this.add = new Adding(this.t, this.f, this.p, this.w, db);
    this.g = new GroupRecords(db, this.t);
  }
}

/**
 * One transition of `queue`: one transaction that takes the queue's lock first (transitions.ts)
 * and writes its pending events, counters and notices last. Once committed, this process's waiters
 * of the queues it changed wake at once, as on SQLite; other processes get the NOTIFY.
 */
export async function runTransition<T>(
  shared: SharedPool,
  log: EventLog,
  queue: string,
  fn: (s: Session) => Promise<T>,
  prelude?: Prelude,
): Promise<T> {
  let notified: string[] = [];
  const out = await shared.transact(
    async (db) => {
      const s = new Session(db, log);
      const result = await fn(s);
      await s.t.flushPending(true); // and COMMIT, in one round trip
      notified = s.t.notified;
      return result;
    },
    queue,
    prelude,
  );
  for (const changed of notified) shared.listener.notify(changed);
  return out;
}
