import type { FetchRequest, JobRecord } from '../store.js';
import type { Conn } from './conn.js';
import type { Fetching } from './fetching.js';
import type { Transitions } from './transitions.js';

/** A `groups` row as the grouped fetch reads it (schema.ts). */
export interface GroupTurn {
  id: string;
  rr: number;
  concurrency: number | null;
  limit_max: number | null;
  limit_duration: number | null;
  window_end: number;
  window_count: number;
  rate_limit_until: number;
}

/** Ready groups read per statement while a fetch goes round them. */
export const TURNS_PER_READ = 16;

/**
 * Takes up to `n` grouped jobs, one per group per turn, as the SQLite store does
 * (src/store/sqlite/groups.ts: the order, the limits, why active jobs are counted, not kept). The
 * queue's lock is taken first: transactions of one queue run side by side on PostgreSQL until they
 * lock it, and two fetches must not both see a group below its concurrency and both start a job.
 */
export async function takeGrouped(
  db: Conn,
  t: Transitions,
  fetching: Fetching,
  queue: string,
  req: FetchRequest,
  n: number,
  from: number,
): Promise<JobRecord[]> {
  const jobs: JobRecord[] = [];
  await t.lockQueue(queue);
  const lockUntil = (await t.lockClock()) + req.lockDuration;
  let cursor = Number.MIN_SAFE_INTEGER;
  while (jobs.length < n) {
    const groups = (await db
      .stmt(
        `SELECT id, rr, concurrency, limit_max, limit_duration, window_end, window_count, rate_limit_until
           FROM groups WHERE queue = ? AND ready = 1 AND rr > ? AND paused = 0 ORDER BY rr LIMIT ${TURNS_PER_READ}`,
      )
      .all(queue, cursor)) as GroupTurn[];
    if (groups.length === 0) break;
    for (const g of groups) {
      if (jobs.length >= n) break;
      cursor = Number(g.rr);
      const window = await room(db, queue, g, req);
      if (!window) continue;
      if (window.wakeAt !== undefined) {
        fetching.groupWakeAt = Math.min(fetching.groupWakeAt ?? window.wakeAt, window.wakeAt);
        continue;
      }
      const next = (await db
        .rawStmt(
          `SELECT rowid FROM jobs WHERE queue = ? AND grp = ? AND state = 'waiting' ORDER BY lane, sort LIMIT 1
             FOR UPDATE SKIP LOCKED`,
          true,
        )
        .get(queue, g.id)) as number | undefined;
      if (next === undefined) {
        await db.stmt('UPDATE groups SET ready = 0 WHERE queue = ? AND id = ?').run(queue, g.id);
        continue;
      }
      jobs.push(await fetching.activate(queue, next, req, req.tokens[from + jobs.length], lockUntil));
      // Its next turn comes after every other group's; the window counts this start.
      await db
        .stmt('UPDATE groups SET rr = ?, window_end = ?, window_count = ? WHERE queue = ? AND id = ?')
        .run(await t.nextSeq(queue), window.end, window.count + 1, queue, g.id);
    }
  }
  return jobs;
}

/** Whether group `g` may start a job now and its rate window, as the SQLite store decides it. */
export async function room(
  db: Conn,
  queue: string,
  g: GroupTurn,
  req: FetchRequest,
): Promise<{ end: number; count: number; wakeAt?: number } | undefined> {
  const now = req.now;
  const limitedUntil = Number(g.rate_limit_until);
  if (limitedUntil > now) return { end: 0, count: 0, wakeAt: limitedUntil };
  const concurrency = g.concurrency !== null ? Number(g.concurrency) : req.group?.concurrency;
  if (concurrency !== undefined) {
    const active = (await db
      .rawStmt("SELECT count(*)::int FROM jobs WHERE queue = ? AND grp = ? AND state = 'active'", true)
      .get(queue, g.id)) as number;
    if (active >= concurrency) return undefined;
  }
  const max = g.limit_max !== null ? Number(g.limit_max) : req.group?.limit?.max;
  const duration = g.limit_duration !== null ? Number(g.limit_duration) : req.group?.limit?.duration;
  const windowEnd = Number(g.window_end);
  const windowCount = Number(g.window_count);
  if (max === undefined || duration === undefined) return { end: windowEnd, count: windowCount };
  if (windowEnd <= now) return { end: now + duration, count: 0 };
  if (windowCount >= Math.max(1, max)) return { end: 0, count: 0, wakeAt: windowEnd };
  return { end: windowEnd, count: windowCount };
}
