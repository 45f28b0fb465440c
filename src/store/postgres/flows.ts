import { moveError } from '../../errors.js';
import type { JobRow } from '../sql/rows.js';
import { parentOf } from '../sqlite/flows.js';
import type { Dependencies, ParentRef } from '../store.js';
import type { Conn } from './conn.js';
import type { Removal, Transitions } from './transitions.js';

/**
 * A child completed, in one round trip: its link marked processed, the parent's row, and how many
 * of the parent's other children are pending. The SELECT sees the rows as they were before the
 * UPDATE (one snapshot), hence the count leaves the child's own link out: after the UPDATE it is
 * not pending whatever it was.
 */
const CHILD_PROCESSED = `
WITH marked AS (
  UPDATE deps SET status = 'processed', value = ? WHERE parent_queue = ? AND parent_id = ? AND child_key = ?
  RETURNING 1
)
SELECT jobs.*, (SELECT count(*) FROM deps WHERE parent_queue = jobs.queue AND parent_id = jobs.id
                AND status = 'pending' AND child_key <> ?) AS pending_others
FROM jobs WHERE queue = ? AND id = ?`;

/**
 * Parent/child bookkeeping; each method runs inside the caller's transaction. Mirrors
 * src/store/sqlite/flows.ts. A step that changes a parent's links first takes the parent queue's
 * lock (`touch`): two children of one parent finishing at once in two queues then see each
 * other's outcome, and the last one releases the parent.
 */
export class FlowLinks {
  constructor(
    private readonly db: Conn,
    private readonly t: Transitions,
  ) {
    t.childRemoved = (queue, id, parent, now, hard) => this.childRemoved(queue, id, parent, now, hard);
  }

  /** Adds `<queue>:<id>` to the parent's pending children; throws (-5) when the parent is missing. */
  async link(queue: string, id: string, parent: ParentRef): Promise<void> {
    await this.t.touch(parent.queue);
    if (!(await this.t.exists(parent.queue, parent.id))) {
      throw moveError(-5, `${parent.queue}:${parent.id}`, 'addJob');
    }
    await this.setDep(parent, `${queue}:${id}`, 'pending', null);
  }

  /** An add met job `row` that exists already and names `parent` (see the SQLite store). */
  async linkExisting(queue: string, row: JobRow, parent: ParentRef): Promise<ParentRef | undefined> {
    const current = parentOf(row);
    const key = `${parent.queue}:${parent.id}`;
    if (current && `${current.queue}:${current.id}` !== key) {
      if (await this.t.exists(current.queue, current.id)) throw moveError(-7, key, 'addJob');
      return undefined;
    }
    await this.t.touch(parent.queue);
    const childKey = `${queue}:${row.id}`;
    await this.db.stmt('UPDATE jobs SET parent = ? WHERE rowid = ?').run(JSON.stringify(parent), row.rowid);
    if (row.state === 'completed') {
      await this.setDep(parent, childKey, 'processed', row.returnvalue ?? 'null');
      return parent;
    }
    await this.setDep(parent, childKey, 'pending', null);
    return undefined;
  }

  async pendingCount(queue: string, id: string): Promise<number> {
    return (
      (await this.db
        .stmt("SELECT count(*) AS n FROM deps WHERE parent_queue = ? AND parent_id = ? AND status = 'pending'")
        .get(queue, id)) as { n: number }
    ).n;
  }

  /** 0 when the job may finish; -4 when children are pending, -9 when one failed under failParentOnFailure. */
  async finishBlocker(queue: string, id: string): Promise<0 | -4 | -9> {
    const r = (await this.db
      .rawStmt(
        `SELECT status FROM deps WHERE parent_queue = ? AND parent_id = ? AND status IN ('pending', 'failed')
         ORDER BY status = 'failed' DESC LIMIT 1`,
        true,
      )
      .get(queue, id)) as string | undefined;
    return r === undefined ? 0 : r === 'failed' ? -9 : -4;
  }

  /** Replaces the link (a new row: dependencies() lists children in the order they were linked). */
  private async setDep(parent: ParentRef, childKey: string, status: string, value: string | null): Promise<void> {
    await this.db
      .stmt('DELETE FROM deps WHERE parent_queue = ? AND parent_id = ? AND child_key = ?')
      .run(parent.queue, parent.id, childKey);
    await this.db
      .stmt('INSERT INTO deps (parent_queue, parent_id, child_key, status, value) VALUES (?, ?, ?, ?, ?)')
      .run(parent.queue, parent.id, childKey, status, value);
  }

  /** Drops the child's pending dependency; true when it was pending. */
  private async dropPending(parent: ParentRef, childKey: string): Promise<boolean> {
    const res = await this.db
      .stmt("DELETE FROM deps WHERE parent_queue = ? AND parent_id = ? AND child_key = ? AND status = 'pending'")
      .run(parent.queue, parent.id, childKey);
    return res.changes > 0;
  }

  /** Moves a parent out of waiting-children when nothing is pending (or at once when `force`). */
  async releaseIfReady(parent: ParentRef, now: number, force = false): Promise<void> {
    await this.t.touch(parent.queue);
    const row = await this.t.row(parent.queue, parent.id);
    if (row?.state !== 'waiting-children') return;
    if (!force && (await this.pendingCount(parent.queue, parent.id)) > 0) return;
    if (row.delay > 0) await this.t.toDelayed(parent.queue, row, now + row.delay);
    else await this.t.toWaiting(parent.queue, row, 'waiting-children');
  }

  async childCompleted(
    queue: string,
    child: Pick<JobRow, 'id' | 'parent'>,
    returnvalue: string,
    now: number,
  ): Promise<void> {
    const parent = parentOf(child);
    if (!parent) return;
    await this.t.touch(parent.queue);
    const key = `${queue}:${child.id}`;
    const read = (await this.db
      .stmt(CHILD_PROCESSED)
      .get(returnvalue, parent.queue, parent.id, key, key, parent.queue, parent.id)) as
      | (JobRow & { pending_others: number })
      | undefined;
    if (read?.state !== 'waiting-children' || read.pending_others > 0) return;
    const { pending_others: _, ...row } = read;
    if (row.delay > 0) await this.t.toDelayed(parent.queue, row, now + row.delay);
    else await this.t.toWaiting(parent.queue, row, 'waiting-children');
  }

  /** A child with a parent is being deleted: it leaves the parent's pending children (see the SQLite store). */
  private async childRemoved(
    queue: string,
    id: string,
    parentJson: string,
    now: number,
    hard: Removal['hard'],
  ): Promise<void> {
    const parent = JSON.parse(parentJson) as ParentRef;
    if (hard === 'queue' && parent.queue === queue) return;
    await this.t.touch(parent.queue);
    if (!(await this.dropPending(parent, `${queue}:${id}`))) return;
    if ((await this.pendingCount(parent.queue, parent.id)) > 0) return;
    const row = await this.t.row(parent.queue, parent.id);
    if (row?.state !== 'waiting-children') return;
    if (hard === true && parent.queue === queue) {
      await this.t.deleteJob(queue, row.id, row.rowid, row.parent, { now, hard });
    } else await this.releaseIfReady(parent, now);
  }

  /** Unlinks a child from its parent: 0 done, 1 not a pending child, -1 no such job, -5 no such parent. */
  async unlink(queue: string, id: string, now: number): Promise<number> {
    const row = await this.t.row(queue, id);
    if (!row) return -1;
    const parent = parentOf(row);
    if (!parent) return 1;
    await this.t.touch(parent.queue);
    if (!(await this.t.exists(parent.queue, parent.id))) return -5;
    if (!(await this.dropPending(parent, `${queue}:${id}`))) return 1;
    await this.db.stmt('UPDATE jobs SET parent = NULL WHERE rowid = ?').run(row.rowid);
    await this.releaseIfReady(parent, now);
    return 0;
  }

  /** A retried child is pending in its parent again, whatever outcome the parent recorded. */
  async childRetried(queue: string, child: Pick<JobRow, 'id' | 'parent'>): Promise<void> {
    const parent = parentOf(child);
    if (!parent) return;
    await this.t.touch(parent.queue);
    await this.db
      .stmt(
        `UPDATE deps SET status = 'pending', value = NULL
         WHERE parent_queue = ? AND parent_id = ? AND child_key = ? AND status <> 'pending'`,
      )
      .run(parent.queue, parent.id, `${queue}:${child.id}`);
  }

  /** Applies the child's parent policy once it failed for good. */
  async childFailed(queue: string, child: Pick<JobRow, 'id' | 'parent'>, reason: string, now: number): Promise<void> {
    const parent = parentOf(child);
    if (!parent) return;
    await this.t.touch(parent.queue);
    const key = `${queue}:${child.id}`;
    switch (parent.policy) {
      case 'fail':
        if (!(await this.dropPending(parent, key))) return;
        await this.setDep(parent, key, 'failed', reason);
        await this.failParentLater(parent, `child ${key} failed`, now);
        return;
      case 'continue':
        if (!(await this.dropPending(parent, key))) return;
        await this.setDep(parent, key, 'ignored', reason);
        await this.releaseIfReady(parent, now, true);
        return;
      case 'ignore':
        if (!(await this.dropPending(parent, key))) return;
        await this.setDep(parent, key, 'ignored', reason);
        await this.releaseIfReady(parent, now);
        return;
      case 'remove':
        if (!(await this.dropPending(parent, key))) return;
        await this.releaseIfReady(parent, now);
        return;
      default:
        return; // the dependency stays pending: the parent keeps waiting, as in BullMQ
    }
  }

  /** failParentOnFailure, as BullMQ (see the SQLite store). */
  private async failParentLater(parent: ParentRef, reason: string, now: number): Promise<void> {
    const row = await this.t.row(parent.queue, parent.id);
    if (!row || row.state === 'failed') return;
    await this.db.stmt('UPDATE jobs SET deferred_failure = ? WHERE rowid = ?').run(reason, row.rowid);
    if (row.state === 'waiting-children') {
      if (row.delay > 0) await this.t.toDelayed(parent.queue, row, now + row.delay);
      else await this.t.toWaiting(parent.queue, row, 'waiting-children');
    } else if (row.state === 'delayed') {
      await this.db.stmt('UPDATE jobs SET delay = 0 WHERE rowid = ?').run(row.rowid);
      await this.t.toWaiting(parent.queue, { ...row, delay: 0 }, 'delayed');
    }
  }

  /** active → waiting-children when children are pending: 1; 0 when none is; -9 when one failed. */
  async toWaitingChildren(queue: string, row: JobRow, now: number): Promise<number> {
    const blocker = await this.finishBlocker(queue, row.id);
    if (blocker === -9) return -9;
    if (blocker === 0) return 0;
    await this.db
      .stmt("UPDATE jobs SET state = 'waiting-children', lane = 0, sort = ?, token = NULL WHERE rowid = ?")
      .run(now, row.rowid);
    this.t.emit(queue, 'waiting-children', { jobId: row.id });
    return 1;
  }

  async dependencies(queue: string, id: string): Promise<Dependencies> {
    const rows = (await this.db
      .stmt('SELECT child_key, status, value FROM deps WHERE parent_queue = ? AND parent_id = ? ORDER BY rowid')
      .all(queue, id)) as { child_key: string; status: string; value: string | null }[];
    const out: Dependencies = { processed: {}, unprocessed: [], failed: {}, ignored: {} };
    for (const r of rows) {
      if (r.status === 'pending') out.unprocessed.push(r.child_key);
      else if (r.status === 'processed') out.processed[r.child_key] = r.value ?? 'null';
      else if (r.status === 'failed') out.failed[r.child_key] = r.value ?? '';
      else if (r.status === 'ignored') out.ignored[r.child_key] = r.value ?? '';
    }
    return out;
  }
}
