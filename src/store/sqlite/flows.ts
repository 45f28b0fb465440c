import { moveError } from '../../errors.js';
import type { Dependencies, ParentRef } from '../store.js';
import type { SharedDatabase } from './database.js';
import type { JobRow } from './rows.js';
import type { Transitions } from './transitions.js';

/** Parent/child bookkeeping; each method runs inside the caller's transaction. */
export class FlowLinks {
  constructor(
    private readonly sdb: SharedDatabase,
    private readonly t: Transitions,
  ) {}

  /** Adds `<queue>:<id>` to the parent's pending children; throws (-5) when the parent is missing. */
  link(queue: string, id: string, parent: ParentRef): void {
    if (!this.t.exists(parent.queue, parent.id)) {
      throw moveError(-5, `${parent.queue}:${parent.id}`, 'addJob');
    }
    this.sdb
      .stmt("INSERT OR REPLACE INTO deps (parent_queue, parent_id, child_key, status) VALUES (?, ?, ?, 'pending')")
      .run(parent.queue, parent.id, `${queue}:${id}`);
  }

  pendingCount(queue: string, id: string): number {
    return (
      this.sdb
        .stmt("SELECT count(*) AS n FROM deps WHERE parent_queue = ? AND parent_id = ? AND status = 'pending'")
        .get(queue, id) as { n: number }
    ).n;
  }

  private setStatus(parent: ParentRef, childKey: string, status: string, value: string | null): void {
    this.sdb
      .stmt('UPDATE deps SET status = ?, value = ? WHERE parent_queue = ? AND parent_id = ? AND child_key = ?')
      .run(status, value, parent.queue, parent.id, childKey);
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

  /** Applies the child's parent policy once it failed for good. */
  childFailed(queue: string, child: Pick<JobRow, 'id' | 'parent'>, reason: string, now: number): void {
    const parent = parentOf(child);
    if (!parent) return;
    const key = `${queue}:${child.id}`;
    switch (parent.policy) {
      case 'fail': {
        this.setStatus(parent, key, 'failed', reason);
        const row = this.t.row(parent.queue, parent.id);
        if (row?.state !== 'waiting-children') return;
        const parentReason = `child ${key} failed`;
        this.sdb
          .stmt(
            "UPDATE jobs SET state = 'failed', lane = 0, sort = ?, finished_on = ?, failed_reason = ? WHERE rowid = ?",
          )
          .run(this.t.finishSort(parent.queue, 'failed', now), now, parentReason, row.rowid);
        this.t.touched.add(parent.queue);
        this.t.emit(parent.queue, 'failed', { jobId: row.id, failedReason: parentReason, prev: 'waiting-children' });
        this.childFailed(parent.queue, row, parentReason, now);
        return;
      }
      case 'continue':
        this.setStatus(parent, key, 'failed', reason);
        this.releaseIfReady(parent, now, true);
        return;
      case 'ignore':
        this.setStatus(parent, key, 'ignored', reason);
        this.releaseIfReady(parent, now);
        return;
      case 'remove':
        this.sdb
          .stmt('DELETE FROM deps WHERE parent_queue = ? AND parent_id = ? AND child_key = ?')
          .run(parent.queue, parent.id, key);
        this.releaseIfReady(parent, now);
        return;
      default:
        return; // the dependency stays pending: the parent keeps waiting, as in BullMQ
    }
  }

  /** active → waiting-children when children are pending: 1; 0 when none is. */
  toWaitingChildren(queue: string, row: JobRow, now: number): number {
    if (this.pendingCount(queue, row.id) === 0) return 0;
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

function parentOf(row: Pick<JobRow, 'parent'>): ParentRef | undefined {
  return row.parent ? (JSON.parse(row.parent) as ParentRef) : undefined;
}
