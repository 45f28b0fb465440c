import type { GroupChange, GroupInfo } from '../store.js';
import type { SharedDatabase } from './database.js';
import type { Transitions } from './transitions.js';

/** A `groups` row with its job counts, as the getters read it. */
interface GroupRow {
  id: string;
  paused: number;
  concurrency: number | null;
  limit_max: number | null;
  limit_duration: number | null;
  window_end: number;
  window_count: number;
  rate_limit_until: number;
  waiting: number;
  active: number;
}

// Counts come from the jobs table (index jobs_by_group), never kept apart, so they cannot drift.
const SELECT_GROUP = `SELECT g.id, g.paused, g.concurrency, g.limit_max, g.limit_duration, g.window_end,
    g.window_count, g.rate_limit_until,
    (SELECT count(*) FROM jobs WHERE queue = g.queue AND grp = g.id AND state = 'waiting') AS waiting,
    (SELECT count(*) FROM jobs WHERE queue = g.queue AND grp = g.id AND state = 'active') AS active
  FROM groups g`;

function toInfo(r: GroupRow): GroupInfo {
  const info: GroupInfo = {
    id: r.id,
    waiting: r.waiting,
    active: r.active,
    paused: r.paused === 1,
    limitedUntil: r.rate_limit_until,
    windowEnd: r.window_end,
    windowCount: r.window_count,
  };
  if (r.concurrency !== null) info.concurrency = r.concurrency;
  if (r.limit_max !== null && r.limit_duration !== null) info.limit = { max: r.limit_max, duration: r.limit_duration };
  return info;
}

/** Groups' settings and getters on SQLite (Store.updateGroup, getGroup, getGroups, getGroupJobIds). */
export class GroupRecords {
  constructor(
    private readonly sdb: SharedDatabase,
    private readonly t: Transitions,
  ) {}

  /** Runs inside the caller's write transaction. */
  update(queue: string, id: string, change: GroupChange): boolean {
    this.t.ensureQueue(queue);
    const before = this.sdb.stmt('SELECT paused FROM groups WHERE queue = ? AND id = ?').get(queue, id) as
      | { paused: number }
      | undefined;
    if (change.paused === true && before?.paused === 1) return false;
    if (change.paused === false && before?.paused !== 1) return false;
    if (!before) {
      // A group seen first through its settings takes the last turn, as a new group with a job does.
      this.sdb.stmt('INSERT INTO groups (queue, id, rr) VALUES (?, ?, ?)').run(queue, id, this.t.nextSeq(queue));
    }
    const set = (column: string, value: number | null) =>
      this.sdb.stmt(`UPDATE groups SET ${column} = ? WHERE queue = ? AND id = ?`).run(value, queue, id);
    if (change.paused !== undefined) set('paused', change.paused ? 1 : 0);
    if (change.concurrency !== undefined) set('concurrency', change.concurrency);
    if (change.limit !== undefined) {
      set('limit_max', change.limit?.max ?? null);
      set('limit_duration', change.limit?.duration ?? null);
    }
    if (change.limitedUntil !== undefined) set('rate_limit_until', change.limitedUntil);
    // A resumed group (or one whose limits changed) may have jobs to start: wake the waiting workers
    // (the store wakes them when a transaction counted an event; this one writes none to the log).
    this.t.emitted++;
    return true;
  }

  get(queue: string, id: string): GroupInfo | undefined {
    const row = this.sdb.stmt(`${SELECT_GROUP} WHERE g.queue = ? AND g.id = ?`).get(queue, id) as GroupRow | undefined;
    return row ? toInfo(row) : undefined;
  }

  /** In the order first seen: by rowid (a group's `rr` changes with its turns). */
  list(queue: string, start: number, end: number): GroupInfo[] {
    const limit = end < 0 ? -1 : end - start + 1;
    const rows = this.sdb
      .stmt(`${SELECT_GROUP} WHERE g.queue = ? ORDER BY g.rowid LIMIT ? OFFSET ?`)
      .all(queue, limit, start) as GroupRow[];
    return rows.map(toInfo);
  }

  jobIds(queue: string, id: string, start: number, end: number): string[] {
    const limit = end < 0 ? -1 : end - start + 1;
    return this.sdb
      .rawStmt(
        "SELECT id FROM jobs WHERE queue = ? AND grp = ? AND state = 'waiting' ORDER BY lane, sort LIMIT ? OFFSET ?",
        true,
      )
      .all(queue, id, limit, start) as string[];
  }
}
