import { randomUUID } from 'node:crypto';
import { GroupMaxSizeExceededError, moveError } from '../../errors.js';
import type { AddResult, FlowJob, NewJob } from '../store.js';
import { checkSameSlot } from './cluster.js';
import { dedupArg, jobArgs } from './codec.js';
import type { RedisConnection } from './connection.js';
import { checkCustomId } from './keys.js';

/** Adding jobs and flows on Redis: one script call each (scripts/addJobs.lua, scripts/addFlow.lua). */
export class Adding {
  constructor(private readonly conn: RedisConnection) {}

  async addJobs(queue: string, jobs: NewJob[]): Promise<AddResult> {
    if (jobs.length === 0) return { ids: [], duplicated: [] };
    // The jobs travel as one JSON argument (scripts/addJobs.lua).
    const parents = jobs.flatMap((job) => (job.parent ? [job.parent.queue] : []));
    checkSameSlot(this.conn.client, [queue, ...parents], `Adding jobs to queue ${queue}`);
    const values: (string | number)[] = [];
    for (const job of jobs) {
      if (job.id !== undefined) checkCustomId(queue, job.id);
      values.push(...jobArgs(job), dedupArg(job));
    }
    // The call id makes a resent call answer, not add again (see addJobs.lua).
    const flat = (await this.conn.run('addJobs', queue, [JSON.stringify(values), randomUUID()])) as (string | number)[];
    if (flat[0] === -10) throw new GroupMaxSizeExceededError(String(flat[1]), Number(flat[2]), queue);
    throwIfParentMissing(flat);
    const result: AddResult = { ids: [], duplicated: [] };
    for (let i = 0; i < flat.length; i += 2) {
      result.ids.push(String(flat[i]));
      result.duplicated.push(Number(flat[i + 1]) === 1);
    }
    return result;
  }

  async addFlow(nodes: FlowJob[]): Promise<AddResult> {
    if (nodes.length === 0) return { ids: [], duplicated: [] };
    const linked = nodes.flatMap((node) => [node.queue, ...(node.parent ? [node.parent.queue] : [])]);
    checkSameSlot(this.conn.client, linked, 'A flow');
    const args: (string | number)[] = [nodes.length];
    for (const node of nodes) {
      checkCustomId(node.queue, node.id);
      args.push(node.queue, node.hasChildren ? '1' : '0', ...jobArgs(node), dedupArg(node));
    }
    // Every queue of the flow is checked (not a BullMQ queue) and stamped before the script runs.
    const queues = new Set(nodes.map((node) => node.queue));
    await Promise.all([...queues].map((queue) => this.conn.queueReady(queue)));
    const flat = (await this.conn.run('addFlow', nodes[0].queue, args)) as (string | number)[];
    throwIfParentMissing(flat);
    const result: AddResult = { ids: [], duplicated: [] };
    for (let i = 0; i < flat.length; i += 2) {
      result.ids.push(String(flat[i]));
      result.duplicated.push(Number(flat[i + 1]) === 1);
    }
    return result;
  }
}

/**
 * addJobs / addFlow answer `{-5, '<parentKey>'}` when a parent is missing, `{-7, '<parentKey>'}` when an
 * existing child has another parent (nothing stored).
 */
function throwIfParentMissing(flat: (string | number)[]): void {
  if (typeof flat[0] === 'number' && (flat[0] === -5 || flat[0] === -7))
    throw moveError(flat[0], String(flat[1]), 'addJob');
}
