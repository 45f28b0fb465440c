import { moveError } from '../../errors.js';
import type { JobRow } from '../sql/rows.js';
import type { Dependencies, ParentRef } from '../store.js';
import type { SharedDatabase } from './database.js';
import type { Removal, Transitions } from './transitions.js';

/**
 * Parent/child bookkeeping; each method runs inside the caller's transaction. Mirrors
 * src/store/redis/scripts/includes/flows.lua. A `deps` row's status is BullMQ's list the child is in:
 * pending (`:dependencies`), processed, failed (`:unsuccessful`: failParentOnFailure children) or
 * ignored (`:failed`: continueParentOnFailure and ignoreDependencyOnFailure children, with reason).
 */
export class FlowLinks {
  constructor(
    private readonly sdb: SharedDatabase,
    private readonly t: Transitions,
  ) {
    t.childRemoved = (queue, id, parent, now, hard) => this.childRemoved(queue, id, parent, now, hard);
  }

  /** Adds `<queue>:<id>` to the parent's pending children; throws (-5) when the parent is missing. */
  link(queue: string, id: string, parent: ParentRef): void {
    if (!this.t.exists(parent.queue, parent.id)) {
      throw moveError(-5, `${parent.queue}:${parent.id}`, 'addJob');
    }
    this.setDep(parent, `${queue}:${id}`, 'pending', null);
  }

  /**
   * An add met job `row` that exists already and names `parent` (BullMQ's handling of a duplicated
   * child): a job with no parent, or with this one, is linked to it (a completed job as processed,
   * with its return value; then the parent may move on: returned, for the caller to release once
   * the whole add is in). A job whose other parent still exists refuses the add (-7).
   */
  linkExisting(queue: string, row: JobRow, parent: ParentRef): ParentRef | undefined {
    const current = parentOf(row);
    const key = `${parent.queue}:${parent.id}`;
    if (current && `${current.queue}:${current.id}` !== key) {
      if (this.t.exists(current.queue, current.id)) throw moveError(-7, key, 'addJob');
      return undefined;
    }
    const childKey = `${queue}:${row.id}`;
    this.sdb.stmt('UPDATE jobs SET parent = ? WHERE rowid = ?').run(JSON.stringify(parent), row.rowid);
    if (row.state === 'completed') {
      this.setDep(parent, childKey, 'processed', row.returnvalue ?? 'null');
      return parent;
    }
    this.setDep(parent, childKey, 'pending', null);
    return undefined;
  }

  pendingCount(queue: string, id: string): number {
    return (
      this.sdb
        .stmt("SELECT count(*) AS n FROM deps WHERE parent_queue = ? AND parent_id = ? AND status = 'pending'")
        .get(queue, id) as { n: number }
    ).n;
  }

  /** 0 when the job may finish; -4 when children are pending, -9 when one failed under failParentOnFailure. */
  finishBlocker(queue: string, id: string): 0 | -4 | -9 {
    const r = this.sdb
      .rawStmt(
        `SELECT status FROM deps WHERE parent_queue = ? AND parent_id = ? AND status IN ('pending', 'failed')
         ORDER BY status = 'failed' DESC LIMIT 1`,
        true,
      )
      .get(queue, id) as string | undefined;
    return r === undefined ? 0 : r === 'failed' ? -9 : -4;
  }

  private setDep(parent: ParentRef, childKey: string, status: string, value: string | null): void {
    this.sdb
      .stmt('INSERT OR REPLACE INTO deps (parent_queue, parent_id, child_key, status, value) VALUES (?, ?, ?, ?, ?)')
      .run(parent.queue, parent.id, childKey, status, value);
  }

  private setStatus(parent: ParentRef, childKey: string, status: string, value: string | null): void {
    this.sdb
      .stmt('UPDATE deps SET status = ?, value = ? WHERE parent_queue = ? AND parent_id = ? AND child_key = ?')
      .run(status, value, parent.queue, parent.id, childKey);
  }

  /** Drops the child's pending dependency; true when it was pending. */
  private dropPending(parent: ParentRef, childKey: string): boolean {
    return (
      this.sdb
        .stmt("DELETE FROM deps WHERE parent_queue = ? AND parent_id = ? AND child_key = ? AND status = 'pending'")
        .run(parent.queue, parent.id, childKey).changes > 0
    );
  }

  /** Moves a parent out of waiting-children when nothing is pending (or at once when `force`). */
  releaseIfReady(parent: ParentRef, now: number, force = false): void {
    const row = this.t.row(parent.queue, parent.id);
    if (row?.state !== 'waiting-children') return;
    if (!force && this.pendingCount(parent.queue, parent.id) > 0) return;
    this.t.touched.add(parent.queue);
    if (row.delay > 0) this.t.toDelayed(parent.queue, row, now + row.delay);
    else this.t.toWaiting(parent.queue, row, 'waiting-children');
  }

  childCompleted(queue: string, child: Pick<JobRow, 'id' | 'parent'>, returnvalue: string, now: number): void {
    const parent = parentOf(child);
    if (!parent) return;
    this.setStatus(parent, `${queue}:${child.id}`, 'processed', returnvalue);
    this.releaseIfReady(parent, now);
  }

  /**
   * A child with a parent is being deleted (remove, retention, clean, drain): it leaves the parent's
   * pending children. A parent left with none moves on; with `hard` (clean, drain) a parent in the
   * same queue is deleted with its last pending child instead, as BullMQ does.
   */
  private childRemoved(queue: string, id: string, parentJson: string, now: number, hard: Removal['hard']): void {
    const parent = JSON.parse(parentJson) as ParentRef;
    if (hard === 'queue' && parent.queue === queue) return;
    if (!this.dropPending(parent, `${queue}:${id}`)) return;
    if (this.pendingCount(parent.queue, parent.id) > 0) return;
    const row = this.t.row(parent.queue, parent.id);
    if (row?.state !== 'waiting-children') return;
    this.t.touched.add(parent.queue);
    if (hard === true && parent.queue === queue) this.t.deleteJob(queue, row.id, row.rowid, row.parent, { now, hard });
    else this.releaseIfReady(parent, now);
  }

  /** Unlinks a child from its parent: 0 done, 1 not a pending child, -1 no such job, -5 no such parent. */
  unlink(queue: string, id: string, now: number): number {
    const row = this.t.row(queue, id);
    if (!row) return -1;
    const parent = parentOf(row);
    if (!parent) return 1;
    if (!this.t.exists(parent.queue, parent.id)) return -5;
    if (!this.dropPending(parent, `${queue}:${id}`)) return 1;
    this.sdb.stmt('UPDATE jobs SET parent = NULL WHERE rowid = ?').run(row.rowid);
    this.releaseIfReady(parent, now);
    return 0;
  }

  /**
   * A retried child is pending in its parent again, whatever outcome the parent recorded (as BullMQ:
   * not one a `remove` policy dropped).
   */
  childRetried(queue: string, child: Pick<JobRow, 'id' | 'parent'>): void {
    const parent = parentOf(child);
    if (!parent) return;
    this.sdb
      .stmt(
        `UPDATE deps SET status = 'pending', value = NULL
         WHERE parent_queue = ? AND parent_id = ? AND child_key = ? AND status <> 'pending'`,
      )
      .run(parent.queue, parent.id, `${queue}:${child.id}`);
  }

  /** Applies the child's parent policy once it failed for good. */
  childFailed(queue: string, child: Pick<JobRow, 'id' | 'parent'>, reason: string, now: number): void {
    const parent = parentOf(child);
    if (!parent) return;
    const key = `${queue}:${child.id}`;
    switch (parent.policy) {
      case 'fail':
        if (!this.dropPending(parent, key)) return;
        this.setDep(parent, key, 'failed', reason);
        this.failParentLater(parent, `child ${key} failed`, now);
        return;
      case 'continue':
        if (!this.dropPending(parent, key)) return;
        this.setDep(parent, key, 'ignored', reason);
        this.releaseIfReady(parent, now, true);
        return;
      case 'ignore':
        if (!this.dropPending(parent, key)) return;
        this.setDep(parent, key, 'ignored', reason);
        this.releaseIfReady(parent, now);
        return;
      case 'remove':
        if (!this.dropPending(parent, key)) return;
        this.releaseIfReady(parent, now);
        return;
      default:
        return; // the dependency stays pending: the parent keeps waiting, as in BullMQ
    }
  }

  /**
   * failParentOnFailure, as BullMQ: the parent gets a deferred failure; one waiting for its children
   * (or delayed) moves to waiting at once, and the worker that fetches it fails it with that reason.
   */
  private failParentLater(parent: ParentRef, reason: string, now: number): void {
    const row = this.t.row(parent.queue, parent.id);
    if (!row || row.state === 'failed') return;
    this.sdb.stmt('UPDATE jobs SET deferred_failure = ? WHERE rowid = ?').run(reason, row.rowid);
    if (row.state === 'waiting-children') {
      this.t.touched.add(parent.queue);
      if (row.delay > 0) this.t.toDelayed(parent.queue, row, now + row.delay);
      else this.t.toWaiting(parent.queue, row, 'waiting-children');
    } else if (row.state === 'delayed') {
      this.t.touched.add(parent.queue);
      this.sdb.stmt('UPDATE jobs SET delay = 0 WHERE rowid = ?').run(row.rowid);
      this.t.toWaiting(parent.queue, { ...row, delay: 0 }, 'delayed');
    }
  }

  /** active → waiting-children when children are pending: 1; 0 when none is; -9 when one failed. */
  toWaitingChildren(queue: string, row: JobRow, now: number): number {
    const blocker = this.finishBlocker(queue, row.id);
    if (blocker === -9) return -9;
    if (blocker === 0) return 0;
    this.sdb
      .stmt("UPDATE jobs SET state = 'waiting-children', lane = 0, sort = ?, token = NULL WHERE rowid = ?")
      .run(now, row.rowid);
    this.t.emit(queue, 'waiting-children', { jobId: row.id });
    return 1;
  }

  dependencies(queue: string, id: string): Dependencies {
    const rows = this.sdb
      .stmt('SELECT child_key, status, value FROM deps WHERE parent_queue = ? AND parent_id = ? ORDER BY rowid')
      .all(queue, id) as { child_key: string; status: string; value: string | null }[];
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

export function parentOf(row: Pick<JobRow, 'parent'>): ParentRef | undefined {
  return row.parent ? (JSON.parse(row.parent) as ParentRef) : undefined;
}
