import type { AddResult, NewJob } from '../store.js';
import { type Conn, queueLockKey } from './conn.js';
import type { SharedPool } from './database.js';
import { COUNT_INSERTED } from './state-counts.js';

/** A job the one-statement add takes: an automatic id, no parent, no deduplication, no group. */
export function isPlainJob(job: NewJob): boolean {
  return job.id === undefined && job.parent === undefined && job.dedup === undefined && job.group === undefined;
}

/**
 * addJobs for plain jobs (isPlainJob) as ONE statement, run outside any BEGIN/COMMIT so that it is
 * its own transaction: one round trip per add, or per addBulk, where the general path (adding.ts)
 * takes five plus one per job. It does what the general path does, in the same order: the queue's
 * lock (transitions.ts), the queue's counters bumped by n (auto ids and waiting order), the jobs
 * inserted and counted (state-counts.ts), their `added` then `waiting`/`delayed` events in job order, and the NOTIFY.
 * (A CTE that only reads runs when referenced: the lock is read by the counters' INSERT, which every
 * other part reads, so nothing is written before the lock is held.)
 */
const ADD_PLAIN = `
WITH locked AS (SELECT pg_advisory_xact_lock(?::bigint) AS l),
counters AS (
  INSERT INTO queues (queue, next_id, seq) SELECT ?, ?, ? FROM locked
  ON CONFLICT (queue) DO UPDATE SET next_id = queues.next_id + excluded.next_id, seq = queues.seq + excluded.seq
  RETURNING next_id - ?::bigint AS id0, seq - ?::bigint AS seq0
),
v AS (
  SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::float8[], ?::float8[], ?::bigint[], ?::int[])
    WITH ORDINALITY AS v(name, data, opts, ts, delay, priority, lifo, n)
),
inserted AS (
  INSERT INTO jobs (queue, id, state, lane, sort, name, data, opts, timestamp, delay, priority, lifo)
  SELECT ?, (c.id0 + v.n)::text,
    CASE WHEN v.delay > 0 THEN 'delayed' ELSE 'waiting' END,
    CASE WHEN v.delay > 0 THEN 0 ELSE v.priority END,
    CASE WHEN v.delay > 0 THEN v.ts + v.delay WHEN v.lifo = 1 AND v.priority = 0 THEN -(c.seq0 + v.n) ELSE c.seq0 + v.n END,
    v.name, v.data, v.opts, v.ts, v.delay, v.priority, v.lifo
  FROM counters c, v
  RETURNING queue, state, lane
),
counted AS (${COUNT_INSERTED}),
written AS (
  INSERT INTO events (queue, event, fields)
  SELECT ?, e.event, e.fields FROM counters c, v,
    LATERAL (VALUES
      (1, 'added', json_build_object('jobId', (c.id0 + v.n)::text, 'name', v.name)::text),
      (2, CASE WHEN v.delay > 0 THEN 'delayed' ELSE 'waiting' END,
          CASE WHEN v.delay > 0 THEN json_build_object('jobId', (c.id0 + v.n)::text, 'delay', (v.ts + v.delay)::text)
               ELSE json_build_object('jobId', (c.id0 + v.n)::text) END::text)
    ) AS e(k, event, fields)
  ORDER BY v.n, e.k
)
SELECT c.id0, pg_notify(?, ? || ' ' || ?) FROM counters c`;

export async function addPlainJobs(
  db: Conn,
  log: { channel: string; sender: string },
  queue: string,
  jobs: NewJob[],
): Promise<AddResult> {
  const n = jobs.length;
  const row = (await db.rawStmt(ADD_PLAIN).get(
    queueLockKey(db.schema, queue),
    queue,
    n,
    n,
    n,
    n,
    jobs.map((j) => j.name),
    jobs.map((j) => j.data),
    jobs.map((j) => j.opts),
    jobs.map((j) => j.timestamp),
    jobs.map((j) => j.delay),
    jobs.map((j) => j.priority),
    jobs.map((j) => (j.lifo ? 1 : 0)),
    queue,
    queue,
    log.channel,
    log.sender,
    queue,
  )) as [number, unknown];
  const first = row[0];
  return { ids: jobs.map((_, i) => String(first + i + 1)), duplicated: jobs.map(() => false) };
}

/** addPlainJobs as its own transaction; once committed, this process's waiters of `queue` wake. */
export async function addPlainJobsNow(
  shared: SharedPool,
  log: { channel: string; sender: string },
  queue: string,
  jobs: NewJob[],
): Promise<AddResult> {
  const added = await shared.statement((db) => addPlainJobs(db, log, queue, jobs));
  shared.listener.notify(queue);
  return added;
}
