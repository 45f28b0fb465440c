import type { GroupChange, GroupInfo } from '../store.js';
import type { Conn } from './conn.js';
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
    (SELECT count(*)::int FROM jobs WHERE queue = g.queue AND grp = g.id AND state = 'waiting') AS waiting,
    (SELECT count(*)::int FROM jobs WHERE queue = g.queue AND grp = g.id AND state = 'active') AS active
  FROM groups g`;

function toInfo(r: GroupRow): GroupInfo {
  const info: GroupInfo = {
    id: r.id,
    waiting: Number(r.waiting),
    active: Number(r.active),
    paused: Number(r.paused) === 1,
    limitedUntil: Number(r.rate_limit_until),
    windowEnd: Number(r.window_end),
    windowCount: Number(r.window_count),
  };
  if (r.concurrency !== null) info.concurrency = Number(r.concurrency);
  if (r.limit_max !== null && r.limit_duration !== null) {
    info.limit = { max: Number(r.limit_max), duration: Number(r.limit_duration) };
  }
  return info;
}

/** Groups' settings and getters on PostgreSQL, as src/store/sqlite/group-records.ts (awaited). */
export class GroupRecords {
  constructor(
    private readonly db: Conn,
    private readonly t: Transitions,
  ) {}

  /** Runs inside the caller's transaction (the queue's lock held). */
  async update(queue: string, id: string, change: GroupChange): Promise<boolean> {
    await this.t.ensureQueue(queue);
    const before = (await this.db.stmt('SELECT paused FROM groups WHERE queue = ? AND id = ?').get(queue, id)) as
      | { paused: number }
      | undefined;
    if (change.paused === true && before?.paused === 1) return false;
    if (change.paused === false && before?.paused !== 1) return false;
    if (!before) {
      // A group seen first through its settings takes the last turn, as a new group with a job does.
      await this.db
        .stmt('INSERT INTO groups (queue, id, rr) VALUES (?, ?, ?)')
        .run(queue, id, await this.t.nextSeq(queue));
    }
    const set = (column: string, value: number | null) =>
      this.db.stmt(`UPDATE groups SET ${column} = ? WHERE queue = ? AND id = ?`).run(value, queue, id);
    if (change.paused !== undefined) await set('paused', change.paused ? 1 : 0);
    if (change.concurrency !== undefined) await set('concurrency', change.concurrency);
    if (change.limit !== undefined) {
      await set('limit_max', change.limit?.max ?? null);
      await set('limit_duration', change.limit?.duration ?? null);
    }
    if (change.limitedUntil !== undefined) await set('rate_limit_until', change.limitedUntil);
    // A resumed group (or one whose limits changed) may have jobs to start: wake the waiting workers,
    // though this transaction writes no event.
    this.t.wake(queue);
    return true;
  }

  async get(queue: string, id: string): Promise<GroupInfo | undefined> {
    const row = (await this.db.stmt(`${SELECT_GROUP} WHERE g.queue = ? AND g.id = ?`).get(queue, id)) as
      | GroupRow
      | undefined;
    return row ? toInfo(row) : undefined;
  }

  /** In the order first seen: by rowid (a group's `rr` changes with its turns). */
  async list(queue: string, start: number, end: number): Promise<GroupInfo[]> {
    const limit = end < 0 ? null : Math.max(0, end - start + 1);
    const rows = (await this.db
      .stmt(`${SELECT_GROUP} WHERE g.queue = ? ORDER BY g.rowid LIMIT ? OFFSET ?`)
      .all(queue, limit, Math.max(0, start))) as GroupRow[];
    return rows.map(toInfo);
  }

  async jobIds(queue: string, id: string, start: number, end: number): Promise<string[]> {
    const limit = end < 0 ? null : Math.max(0, end - start + 1);
    return (await this.db
      .rawStmt(
        "SELECT id FROM jobs WHERE queue = ? AND grp = ? AND state = 'waiting' ORDER BY lane, sort LIMIT ? OFFSET ?",
        true,
      )
      .all(queue, id, limit, Math.max(0, start))) as string[];
  }
}
