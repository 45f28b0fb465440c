import { GroupMaxSizeExceededError } from '../../errors.js';
import type { AddResult, FlowJob, NewJob, ParentRef } from '../store.js';
import { addFlowSetBased } from './adding-flow.js';
import type { Conn } from './conn.js';
import type { FlowLinks } from './flows.js';
import type { Parity } from './parity.js';
import type { Transitions } from './transitions.js';
import type { WorkerPath } from './worker-path.js';

/** Adding jobs and flows, inside the caller's transaction (mirrors src/store/sqlite/adding.ts). */
export class Adding {
  constructor(
    private readonly t: Transitions,
    private readonly f: FlowLinks,
    private readonly p: Parity,
    private readonly w: WorkerPath,
    private readonly db: Conn,
  ) {}

  async addJobs(queue: string, jobs: NewJob[], now: number): Promise<AddResult> {
    await this.t.ensureQueue(queue);
    const ids: string[] = [];
    const duplicated: boolean[] = [];
    const released: ParentRef[] = [];
    const absent = await this.absentIds(queue, jobs);
    for (const job of jobs) {
      // As BullMQ: an auto id is taken first (a deduplicated add uses one up), and an existing custom id wins.
      const id = job.id ?? String(await this.t.nextId(queue));
      // An id known absent is so once: the same id again in this add (custom, or taken as an auto id
      // before) meets the job just added.
      const knownAbsent = absent.delete(id);
      if (job.id !== undefined && !knownAbsent && (await this.existingJob(queue, id, job.parent, released))) {
        ids.push(id);
        duplicated.push(true);
        continue;
      }
      if (job.group?.maxSize !== undefined) {
        // The whole add rolls back: nothing of it is stored (as SQLite's and Redis's).
        const n = await this.t.groupWaitingCount(queue, job.group.id, job.group.maxSize);
        if (n >= job.group.maxSize) throw new GroupMaxSizeExceededError(job.group.id, job.group.maxSize, queue);
      }
      const { existing, expiresAt } = await this.p.dedup.beforeAdd(queue, job, id, now);
      ids.push(existing ?? (await this.w.insertJob(queue, { ...job, id }, now, expiresAt)));
      duplicated.push(existing !== undefined);
    }
    for (const parent of released) await this.f.releaseIfReady(parent, now);
    return { ids, duplicated };
  }

  /** See Store.addFlow. */
  async addFlow(nodes: FlowJob[], now: number): Promise<AddResult> {
    const setBased = await addFlowSetBased(this.db, this.t, nodes);
    if (setBased) return setBased;
    const ids: string[] = [];
    const duplicated: boolean[] = [];
    const released: ParentRef[] = [];
    for (const node of nodes) {
      await this.t.touch(node.queue);
      await this.t.ensureQueue(node.queue);
      const { existing, expiresAt } = await this.p.dedup.beforeAdd(node.queue, node, node.id, now);
      if (existing !== undefined) {
        ids.push(existing);
        duplicated.push(true);
      } else if (await this.existingJob(node.queue, node.id, node.parent, released)) {
        ids.push(node.id);
        duplicated.push(true);
      } else {
        await this.t.insert(node.queue, node.id, node, node.hasChildren);
        if (node.parent) await this.f.link(node.queue, node.id, node.parent);
        await this.p.dedup.claim(node.queue, node, node.id, now, expiresAt);
        ids.push(node.id);
        duplicated.push(false);
      }
    }
    // Parents whose children all exist already move on once the whole add is in.
    for (const parent of released) await this.f.releaseIfReady(parent, now);
    return { ids, duplicated };
  }

  /** The custom ids of `jobs` no job of `queue` has yet, read at once when there are several to look up. */
  private async absentIds(queue: string, jobs: NewJob[]): Promise<Set<string>> {
    const ids = [...new Set(jobs.flatMap((j) => (j.id === undefined ? [] : [j.id])))];
    if (ids.length < 2) return new Set();
    const found = (await this.db
      .rawStmt('SELECT id FROM jobs WHERE queue = ? AND id = ANY(?::text[])', true)
      .all(queue, ids)) as string[];
    const existing = new Set(found);
    return new Set(ids.filter((id) => !existing.has(id)));
  }

  /** When job `id` exists: links it to `parent` as BullMQ does for a duplicated child; emits `duplicated`. */
  private async existingJob(
    queue: string,
    id: string,
    parent: ParentRef | undefined,
    released: ParentRef[],
  ): Promise<boolean> {
    if (!parent) {
      if (!(await this.t.exists(queue, id))) return false;
    } else {
      const row = await this.t.row(queue, id);
      if (!row) return false;
      const release = await this.f.linkExisting(queue, row, parent);
      if (release) released.push(release);
    }
    this.t.emit(queue, 'duplicated', { jobId: id });
    return true;
  }
}
