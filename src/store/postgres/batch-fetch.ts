import type { FetchRequest, JobRecord } from '../store.js';
import type { Conn } from './conn.js';
import type { Fetching } from './fetching.js';
import { type GroupTurn, room, TURNS_PER_READ } from './groups.js';
import type { Transitions } from './transitions.js';

/**
 * A worker's batch (issue 23; the rules: store/types.ts BatchFetch), as the SQLite store takes it
 * (src/store/sqlite/groups.ts takeBatch). The queue's lock is taken first, so that the jobs counted
 * for `minJobs` are still there when they are taken (fetches of one queue otherwise run side by side).
 */
export async function takeBatch(
  db: Conn,
  t: Transitions,
  f: Fetching,
  queue: string,
  req: FetchRequest,
  n: number,
): Promise<JobRecord[]> {
  await t.lockQueue(queue);
  const min = Math.min(Math.max(1, req.batch?.minJobs ?? 1), n);
  const own = (await db
    .rawStmt(
      "SELECT count(*)::int FROM (SELECT 1 FROM jobs WHERE queue = ? AND state = 'waiting' AND lane >= 0 LIMIT ?) w",
      true,
    )
    .get(queue, min)) as number;
  const grouped =
    (await db.rawStmt('SELECT 1 FROM groups WHERE queue = ? AND ready = 1 LIMIT 1', true).get(queue)) !== undefined;
  if (req.batch?.groupAffinity) {
    if (own > 0) return own >= min ? f.take(queue, req, n) : [];
    return grouped ? takeOneGroup(db, t, f, queue, req, n, min) : [];
  }
  if (own < min && !grouped) return [];
  return f.takeMixed(queue, req, n);
}

/** A batch of one group (groupAffinity), as the SQLite store's takeOneGroup. */
async function takeOneGroup(
  db: Conn,
  t: Transitions,
  f: Fetching,
  queue: string,
  req: FetchRequest,
  n: number,
  min: number,
): Promise<JobRecord[]> {
  let cursor = Number.MIN_SAFE_INTEGER;
  for (;;) {
    const groups = (await db
      .stmt(
        `SELECT id, rr, concurrency, limit_max, limit_duration, window_end, window_count, rate_limit_until
           FROM groups WHERE queue = ? AND ready = 1 AND rr > ? AND paused = 0 ORDER BY rr LIMIT ${TURNS_PER_READ}`,
      )
      .all(queue, cursor)) as GroupTurn[];
    if (groups.length === 0) return [];
    for (const g of groups) {
      cursor = Number(g.rr);
      const window = await room(db, queue, g, req);
      if (!window) continue;
      if (window.wakeAt !== undefined) {
        f.groupWakeAt = Math.min(f.groupWakeAt ?? window.wakeAt, window.wakeAt);
        continue;
      }
      let cap = n;
      const concurrency = g.concurrency !== null ? Number(g.concurrency) : req.group?.concurrency;
      if (concurrency !== undefined) {
        const active = (await db
          .rawStmt("SELECT count(*)::int FROM jobs WHERE queue = ? AND grp = ? AND state = 'active'", true)
          .get(queue, g.id)) as number;
        cap = Math.min(cap, concurrency - active);
      }
      const max = g.limit_max !== null ? Number(g.limit_max) : req.group?.limit?.max;
      const duration = g.limit_duration !== null ? Number(g.limit_duration) : req.group?.limit?.duration;
      if (max !== undefined && duration !== undefined) cap = Math.min(cap, Math.max(1, max) - window.count);
      const rowids = (await db
        .rawStmt(
          `SELECT rowid FROM jobs WHERE queue = ? AND grp = ? AND state = 'waiting' ORDER BY lane, sort LIMIT ?
             FOR UPDATE SKIP LOCKED`,
        )
        .all(queue, g.id, Math.max(cap, min))) as unknown[][];
      if (rowids.length === 0) {
        await db.stmt('UPDATE groups SET ready = 0 WHERE queue = ? AND id = ?').run(queue, g.id);
        continue;
      }
      if (rowids.length < min) return [];
      const lockUntil = (await t.lockClock()) + req.lockDuration;
      const jobs: JobRecord[] = [];
      for (const [i, [rowid]] of rowids.slice(0, cap).entries()) {
        jobs.push(await f.activate(queue, Number(rowid), req, req.tokens[i], lockUntil));
      }
      // Its next turn comes after every other group's; the window counts these starts.
      await db
        .stmt('UPDATE groups SET rr = ?, window_end = ?, window_count = ? WHERE queue = ? AND id = ?')
        .run(await t.nextSeq(queue), window.end, window.count + jobs.length, queue, g.id);
      return jobs;
    }
  }
}
