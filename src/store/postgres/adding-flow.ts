import type { AddResult, FlowJob } from '../store.js';
import type { Conn } from './conn.js';
import { COUNT_INSERTED } from './state-counts.js';
import type { Transitions } from './transitions.js';

/**
 * What an add finds before it writes, in one read: which of the nodes' jobs exist already (`j`),
 * which parents outside the add exist (`j` too), and any dependency row a link would replace (`d`).
 */
const FLOW_READ = `
SELECT 'j', queue, id FROM jobs WHERE (queue, id) IN (SELECT * FROM unnest(?::text[], ?::text[]))
UNION ALL
SELECT 'd', parent_queue, parent_id FROM deps
WHERE (parent_queue, parent_id, child_key) IN (SELECT * FROM unnest(?::text[], ?::text[], ?::text[]))`;

/** All the flow's jobs in one INSERT; rowids follow the nodes' order (ORDER BY n), as one INSERT a node would. */
const FLOW_INSERT_JOBS = `
WITH inserted AS (
INSERT INTO jobs (queue, id, state, lane, sort, name, data, opts, timestamp, delay, priority, lifo, parent)
SELECT queue, id, state, lane, sort, name, data, opts, ts, delay, priority, lifo, parent
FROM unnest(?::text[], ?::text[], ?::text[], ?::bigint[], ?::float8[], ?::text[], ?::text[], ?::text[],
            ?::float8[], ?::float8[], ?::bigint[], ?::int[], ?::text[])
  WITH ORDINALITY AS v(queue, id, state, lane, sort, name, data, opts, ts, delay, priority, lifo, parent, n)
ORDER BY n
RETURNING queue, state, lane
)
${COUNT_INSERTED}`;

/** The children's links in one INSERT, in the order they were linked (dependencies() lists them so). */
const FLOW_INSERT_DEPS = `
INSERT INTO deps (parent_queue, parent_id, child_key, status, value)
SELECT pq, pid, ck, 'pending', NULL FROM unnest(?::text[], ?::text[], ?::text[]) WITH ORDINALITY AS v(pq, pid, ck, n)
ORDER BY n`;

/**
 * addFlow in set-based statements (adding.ts takes five or more round trips a node): one read,
 * one INSERT of the jobs, one of the links, inside the caller's transaction. It applies to the
 * common add only: new ids, no deduplication, no group, every parent either an earlier node of
 * the add or an existing job, no old link to replace. Otherwise it returns undefined having
 * written nothing (locks and queue rows aside, which the general path takes too, in the same
 * order), and the general path runs: its errors and `duplicated` handling stay the only ones.
 */
export async function addFlowSetBased(db: Conn, t: Transitions, nodes: FlowJob[]): Promise<AddResult | undefined> {
  if (nodes.some((n) => n.dedup !== undefined || n.group !== undefined)) return undefined;
  const keys = new Set<string>();
  const outside = new Map<string, { queue: string; id: string }>();
  const links: { pq: string[]; pid: string[]; ck: string[] } = { pq: [], pid: [], ck: [] };
  for (const node of nodes) {
    // The general path's locks, in its order: the node's queue, then its parent's.
    await t.touch(node.queue);
    await t.ensureQueue(node.queue);
    const key = JSON.stringify([node.queue, node.id]);
    if (keys.has(key)) return undefined; // the same job twice: the second is a duplicate
    keys.add(key);
    if (!node.parent) continue;
    await t.touch(node.parent.queue);
    const parentKey = JSON.stringify([node.parent.queue, node.parent.id]);
    if (!keys.has(parentKey)) outside.set(parentKey, node.parent);
    links.pq.push(node.parent.queue);
    links.pid.push(node.parent.id);
    links.ck.push(`${node.queue}:${node.id}`);
  }
  const lookQueues = [...nodes.map((n) => n.queue), ...[...outside.values()].map((p) => p.queue)];
  const lookIds = [...nodes.map((n) => n.id), ...[...outside.values()].map((p) => p.id)];
  const found = (await db.rawStmt(FLOW_READ).all(lookQueues, lookIds, links.pq, links.pid, links.ck)) as string[][];
  if (found.some(([k]) => k === 'd')) return undefined;
  // Queue names hold colons: the existing jobs are matched on both parts, not on a joined key.
  const existing = new Set(found.map(([, q, id]) => JSON.stringify([q, id])));
  if (nodes.some((n) => existing.has(JSON.stringify([n.queue, n.id])))) return undefined;
  if ([...outside.values()].some((p) => !existing.has(JSON.stringify([p.queue, p.id])))) return undefined;

  const places: { state: string; lane: number; sort: number }[] = [];
  for (const node of nodes) {
    const delayed = node.delay > 0 && !node.hasChildren;
    places.push(
      node.hasChildren
        ? { state: 'waiting-children', lane: 0, sort: node.timestamp }
        : delayed
          ? { state: 'delayed', lane: 0, sort: node.timestamp + node.delay }
          : await t.waitingPlace(node.queue, node.priority, node.lifo, false),
    );
  }
  await db.stmt(FLOW_INSERT_JOBS).run(
    nodes.map((n) => n.queue),
    nodes.map((n) => n.id),
    places.map((p) => p.state),
    places.map((p) => p.lane),
    places.map((p) => p.sort),
    nodes.map((n) => n.name),
    nodes.map((n) => n.data),
    nodes.map((n) => n.opts),
    nodes.map((n) => n.timestamp),
    nodes.map((n) => n.delay),
    nodes.map((n) => n.priority),
    nodes.map((n) => (n.lifo ? 1 : 0)),
    nodes.map((n) => (n.parent ? JSON.stringify(n.parent) : null)),
  );
  if (links.ck.length > 0) await db.stmt(FLOW_INSERT_DEPS).run(links.pq, links.pid, links.ck);
  // The events a node at a time would have kept (Transitions.insert), in the same order.
  nodes.forEach((node, i) => {
    const state = places[i].state;
    t.emit(node.queue, 'added', { jobId: node.id, name: node.name });
    if (state === 'delayed') t.emit(node.queue, 'delayed', { jobId: node.id, delay: node.timestamp + node.delay });
    else t.emit(node.queue, state, { jobId: node.id });
  });
  return { ids: nodes.map((n) => n.id), duplicated: nodes.map(() => false) };
}
