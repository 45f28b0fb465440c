import { describeJob, splitJobKey } from '../cli/job-view.js';
import type { Job } from '../job.js';
import type { Queue } from '../queue.js';
import { allowedActions } from './actions.js';
import { HttpError } from './http.js';
import type { QueueRegistry } from './registry.js';

/** A node of a flow tree as the page draws it. */
export interface FlowNode {
  queueName: string;
  id: string;
  name?: string;
  state: string;
  children: FlowNode[];
}

/**
 * The job in full for its page: detail, when a delayed job runs, its group, parent and children
 * (each with its queue, to link to), the flow from its root, and the actions its state allows.
 */
export async function jobDetail(registry: QueueRegistry, name: string, id: string, readOnly: boolean) {
  const queue = await registry.get(name);
  const job = await queue.getJob(id);
  if (!job) throw new HttpError(404, `job ${id} not found in queue ${name}`);
  const detail = await describeJob(queue, job);
  const parent = job.parent ? { ...splitJobKey(`${job.parent.queueKey}:${job.parent.id}`) } : undefined;
  let root = { queue, job };
  for (let hops = 0; root.job.parent && hops < 10; hops++) {
    const { prefix, queueName } = splitJobKey(`${root.job.parent.queueKey}:${root.job.parent.id}`);
    const parentQueue = await registry.get(queueName, prefix);
    const parentJob = await parentQueue.getJob(root.job.parent.id);
    if (!parentJob) break;
    root = { queue: parentQueue, job: parentJob };
  }
  const flow = detail.children.length > 0 || job.parent ? await flowNode(registry, root.queue, root.job, 5) : undefined;
  return {
    ...detail,
    queueName: name,
    runsAt: detail.state === 'delayed' ? job.timestamp + job.delay : undefined,
    group: job.opts.group?.id !== undefined ? String(job.opts.group.id) : undefined,
    parent: parent ? { queueName: parent.queueName, id: parent.id } : undefined,
    flow,
    actions: readOnly ? [] : allowedActions(detail.state),
  };
}

async function flowNode(registry: QueueRegistry, queue: Queue, job: Job, depth: number): Promise<FlowNode> {
  const node: FlowNode = {
    queueName: queue.name,
    id: job.id!,
    name: job.name,
    state: await job.getState(),
    children: [],
  };
  if (depth <= 1) return node;
  const deps = await job.getDependencies();
  const keys = [
    ...Object.keys(deps.processed ?? {}),
    ...(deps.unprocessed ?? []),
    ...(deps.failed ?? []),
    ...Object.keys(deps.ignored ?? {}),
  ].slice(0, 50);
  for (const key of keys) {
    const { prefix, queueName, id } = splitJobKey(key);
    const childQueue = await registry.get(queueName, prefix);
    const child = await childQueue.getJob(id);
    node.children.push(
      child
        ? await flowNode(registry, childQueue, child, depth - 1)
        : { queueName, id, state: 'removed', children: [] },
    );
  }
  return node;
}
