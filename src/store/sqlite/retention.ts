import { finishPlace } from '../finish-order.js';
import type { JobRow } from '../sql/rows.js';
import type { Retention } from '../store.js';
import type { SharedDatabase } from './database.js';
import type { Transitions } from './transitions.js';

/**
 * Applies BullMQ's KeepJobs after job `row` finished in `state` at `now` (inside the caller's
 * transaction): `remove` deletes it; `ageMs` deletes jobs that finished at or before now - ageMs,
 * the newest of them first and at most `limit` per call; `count` keeps the newest `count`.
 * A finished job's `sort` is its finishPlace (src/store/finish-order.ts), so "at or before ms m"
 * is `sort < m + 1` and the newest are the last to finish, also within one ms.
 */
type Old = { rowid: number; id: string; parent: string | null };

export function applyRetention(
  sdb: SharedDatabase,
  t: Transitions,
  queue: string,
  state: 'completed' | 'failed',
  row: Pick<JobRow, 'rowid' | 'id' | 'parent'>,
  keep: Retention,
  now: number,
): void {
  if (keep.remove) {
    t.deleteJob(queue, row.id, row.rowid, row.parent, { now, hard: false });
    return;
  }
  if (keep.ageMs !== undefined) {
    const old = sdb
      .stmt(
        'SELECT rowid, id, parent FROM jobs WHERE queue = ? AND state = ? AND lane = 0 AND sort < ? ORDER BY sort DESC LIMIT ?',
      )
      .all(queue, state, Math.floor(now - keep.ageMs) + 1, keep.limit ?? -1) as Old[];
    // A removed child that was still pending (it failed with no policy) leaves its parent (flows.ts).
    for (const r of old) t.deleteJob(queue, r.id, r.rowid, r.parent, { now, hard: false });
  }
  if (keep.count !== undefined) {
    const extra = sdb
      .stmt(
        'SELECT rowid, id, parent FROM jobs WHERE queue = ? AND state = ? AND lane = 0 ORDER BY sort DESC LIMIT -1 OFFSET ?',
      )
      .all(queue, state, keep.count) as Old[];
    for (const r of extra) t.deleteJob(queue, r.id, r.rowid, r.parent, { now, hard: false });
  }
}

/** The sort of a job finishing at `now` in `state`: its finishPlace (src/store/finish-order.ts). */
export function finishSort(sdb: SharedDatabase, queue: string, state: 'completed' | 'failed', now: number): number {
  const last = sdb
    .rawStmt('SELECT sort FROM jobs WHERE queue = ? AND state = ? AND lane = 0 ORDER BY sort DESC LIMIT 1', true)
    .get(queue, state) as number | undefined;
  return finishPlace(last, now);
}
