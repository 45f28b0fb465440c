import { GroupMaxSizeExceededError } from '../../errors.js';
import type { AddResult, FlowJob, NewJob, ParentRef } from '../store.js';
import type { FlowLinks } from './flows.js';
import type { Parity } from './parity.js';
import type { Transitions } from './transitions.js';
import type { WorkerPath } from './worker-path.js';

/**
 * Adding jobs and flows; each method runs inside the caller's transaction, so a refused add
 * (missing parent -5, a parent that cannot be replaced -7) stores nothing.
 */
export class Adding {
  constructor(
    private readonly t: Transitions,
    private readonly f: FlowLinks,
    private readonly p: Parity,
    private readonly w: WorkerPath,
  ) {}

  addJobs(queue: string, jobs: NewJob[], now: number): AddResult {
    this.t.knowQueue(queue);
    const ids: string[] = [];
    const duplicated: boolean[] = [];
    const released: ParentRef[] = [];
    for (const job of jobs) {
      // As BullMQ: an auto id is taken first (a deduplicated add uses one up), and an existing custom id wins.
      const id = job.id ?? String(this.t.nextId(queue));
      if (job.id !== undefined && this.existingJob(queue, id, job.parent, released)) {
        ids.push(id);
        duplicated.push(true);
        continue;
      }
      if (job.group?.maxSize !== undefined) this.checkGroupSize(queue, job.group.id, job.group.maxSize);
      const { existing, expiresAt } = this.p.dedup.beforeAdd(queue, job, id, now);
      ids.push(existing ?? this.w.insertJob(queue, { ...job, id }, now, expiresAt));
      duplicated.push(existing !== undefined);
    }
    for (const parent of released) this.f.releaseIfReady(parent, now);
    return { ids, duplicated };
  }

  /** See Store.addFlow. */
  addFlow(nodes: FlowJob[], now: number): AddResult {
    const ids: string[] = [];
    const duplicated: boolean[] = [];
    const released: ParentRef[] = [];
    for (const node of nodes) {
      this.t.ensureQueue(node.queue);
      this.t.touched.add(node.queue);
      const { existing, expiresAt } = this.p.dedup.beforeAdd(node.queue, node, node.id, now);
      if (existing !== undefined) {
        ids.push(existing);
        duplicated.push(true);
      } else if (this.existingJob(node.queue, node.id, node.parent, released)) {
        ids.push(node.id);
        duplicated.push(true);
      } else {
        this.t.insert(node.queue, node.id, node, node.hasChildren);
        if (node.parent) this.f.link(node.queue, node.id, node.parent);
        this.p.dedup.claim(node.queue, node, node.id, now, expiresAt);
        ids.push(node.id);
        duplicated.push(false);
      }
    }
    // Parents whose children all exist already move on once the whole add is in.
    for (const parent of released) this.f.releaseIfReady(parent, now);
    return { ids, duplicated };
  }

  /** Throws (rolling the whole add back) when group `id` already has `maxSize` waiting jobs. */
  private checkGroupSize(queue: string, id: string, maxSize: number): void {
    const n = this.t.sdbCount(
      "SELECT count(*) FROM (SELECT 1 FROM jobs WHERE queue = ? AND grp = ? AND state = 'waiting' LIMIT ?)",
      queue,
      id,
      maxSize,
    );
    if (n >= maxSize) throw new GroupMaxSizeExceededError(id, maxSize, queue);
  }

  /**
   * When job `id` exists: links it to `parent` as BullMQ does for a duplicated child (flows.ts
   * linkExisting), emits `duplicated` and returns true.
   */
  private existingJob(queue: string, id: string, parent: ParentRef | undefined, released: ParentRef[]): boolean {
    if (!parent) {
      if (!this.t.exists(queue, id)) return false;
    } else {
      const row = this.t.row(queue, id);
      if (!row) return false;
      const release = this.f.linkExisting(queue, row, parent);
      if (release) released.push(release);
    }
    this.t.emit(queue, 'duplicated', { jobId: id });
    return true;
  }
}
