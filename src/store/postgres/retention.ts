import { finishPlace } from '../finish-order.js';
import type { JobRow } from '../sql/rows.js';
import type { Retention } from '../store.js';
import type { Conn } from './conn.js';
import type { Transitions } from './transitions.js';

type Old = { rowid: number; id: string; parent: string | null };

/**
 * Applies BullMQ's KeepJobs after job `row` finished in `state` at `now`, inside the caller's
 * transaction (the rules: src/store/sqlite/retention.ts).
 */
export async function applyRetention(
  db: Conn,
  t: Transitions,
  queue: string,
  state: 'completed' | 'failed',
  row: Pick<JobRow, 'rowid' | 'id' | 'parent'>,
  keep: Retention,
  now: number,
): Promise<void> {
  if (keep.remove) {
    await t.deleteJob(queue, row.id, row.rowid, row.parent, { now, hard: false });
    return;
  }
  if (keep.ageMs !== undefined) {
    const old = (await db
      .stmt(
        'SELECT rowid, id, parent FROM jobs WHERE queue = ? AND state = ? AND lane = 0 AND sort < ? ORDER BY sort DESC LIMIT ?',
      )
      .all(queue, state, Math.floor(now - keep.ageMs) + 1, keep.limit ?? null)) as Old[];
    for (const r of old) await t.deleteJob(queue, r.id, r.rowid, r.parent, { now, hard: false });
  }
  if (keep.count !== undefined) {
    const extra = (await db
      .stmt('SELECT rowid, id, parent FROM jobs WHERE queue = ? AND state = ? AND lane = 0 ORDER BY sort DESC OFFSET ?')
      .all(queue, state, keep.count)) as Old[];
    for (const r of extra) await t.deleteJob(queue, r.id, r.rowid, r.parent, { now, hard: false });
  }
}

/** The sort of a job finishing at `now` in `state`: its finishPlace (src/store/finish-order.ts). */
export async function finishSort(db: Conn, queue: string, state: 'completed' | 'failed', now: number): Promise<number> {
  return finishPlace(await lastFinishPlace(db, queue, state), now);
}

/** The place of the newest job in the list (undefined when empty). */
export async function lastFinishPlace(
  db: Conn,
  queue: string,
  state: 'completed' | 'failed',
): Promise<number | undefined> {
  return (await db
    .rawStmt('SELECT sort FROM jobs WHERE queue = ? AND state = ? AND lane = 0 ORDER BY sort DESC LIMIT 1', true)
    .get(queue, state)) as number | undefined;
}
