import type { JobState, WorkerInfo } from '../store.js';
import { type RedisClient, scanAll } from './cluster.js';
import { execAll } from './codec.js';
import { isReservedId, keyOf } from './keys.js';

/** What orphan removal reuses from the store: its state read and its remove transition. */
export interface OrphanOps {
  getState(queue: string, id: string): Promise<JobState | 'unknown'>;
  remove(queue: string, id: string, now: number): Promise<number>;
  /** The removeOrphan script: what is left of an id in no state; 1 when a key went. */
  removeOrphanKeys(queue: string, id: string): Promise<number>;
}

/**
 * Queue-wide settings, logs and events housekeeping, the worker registry and orphan removal: the
 * writes that need no script (one key each, or a MULTI, or a one-line compare-and-set).
 * Each first waits for the queue's stamp (`ready`), as every store method does.
 */
export class Admin {
  constructor(
    private readonly client: RedisClient,
    private readonly ready: (queue: string) => Promise<void>,
  ) {}

  async clearLogs(queue: string, id: string, keep: number): Promise<void> {
    await this.ready(queue);
    const key = keyOf.logs(queue, id);
    if (keep > 0) await this.client.ltrim(key, -keep, -1);
    else await this.client.del(key);
  }

  /** Returns how many entries went (an entry holds the events of one transition). */
  async trimEvents(queue: string, maxLen: number): Promise<number> {
    await this.ready(queue);
    return this.client.xtrim(keyOf.events(queue), 'MAXLEN', Math.max(0, maxLen));
  }

  /** One stream entry as BullMQ's producer writes it: `event <name>` and the fields, `MAXLEN ~`. */
  async publishEvent(queue: string, event: string, fields: Record<string, string>, maxEvents: number): Promise<void> {
    await this.ready(queue);
    await this.client.xadd(
      keyOf.events(queue),
      'MAXLEN',
      '~',
      maxEvents,
      '*',
      'event',
      event,
      ...Object.entries(fields).flat(),
    );
  }

  async removeDedupKey(queue: string, dedupId: string, jobId?: string): Promise<number> {
    await this.ready(queue);
    const key = keyOf.dedup(queue, dedupId);
    if (jobId === undefined) return this.client.del(key);
    // Compare-and-delete in one step.
    const removed = await this.client.eval(
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
      1,
      key,
      jobId,
    );
    return Number(removed);
  }

  async setGlobalConcurrency(queue: string, n: number | undefined): Promise<void> {
    await this.ready(queue);
    const meta = keyOf.meta(queue);
    if (n === undefined) await this.client.hdel(meta, 'concurrency');
    else await this.client.hset(meta, 'concurrency', n);
    // Room may have grown: wake a blocked worker (a spurious wake-up is harmless).
    await this.client.zadd(keyOf.marker(queue), 0, '0');
  }

  async setGlobalRateLimit(queue: string, limit: { max: number; duration: number } | undefined): Promise<void> {
    await this.ready(queue);
    const meta = keyOf.meta(queue);
    if (limit === undefined) await this.client.hdel(meta, 'max', 'duration');
    else await this.client.hset(meta, 'max', limit.max, 'duration', limit.duration);
    await this.client.zadd(keyOf.marker(queue), 0, '0');
  }

  // ── the worker registry ───────────────────────────────────────────────────────────

  async registerWorker(queue: string, info: WorkerInfo, ttlMs: number): Promise<void> {
    await this.ready(queue);
    await execAll(
      this.client
        .multi()
        .hset(keyOf.workers(queue), info.id, JSON.stringify(info))
        .zadd(keyOf.workersAlive(queue), info.heartbeat + ttlMs, info.id),
      `Registering worker ${info.id} of queue ${queue}`,
    );
  }

  async unregisterWorker(queue: string, id: string): Promise<void> {
    await this.ready(queue);
    await execAll(
      this.client.multi().hdel(keyOf.workers(queue), id).zrem(keyOf.workersAlive(queue), id),
      `Unregistering worker ${id} of queue ${queue}`,
    );
  }

  async getWorkers(queue: string, now: number): Promise<WorkerInfo[]> {
    await this.ready(queue);
    const alive = keyOf.workersAlive(queue);
    const dead = await this.client.zrangebyscore(alive, '-inf', `(${now}`);
    if (dead.length > 0) {
      // Lazily forget workers whose heartbeat lapsed.
      await this.forgetWorkers(queue, dead, now);
    }
    const ids = (await this.client.zrangebyscore(alive, now, '+inf')).sort();
    if (ids.length === 0) return [];
    const infos = await this.client.hmget(keyOf.workers(queue), ...ids);
    return infos.flatMap((info) => (info ? [JSON.parse(info) as WorkerInfo] : []));
  }

  /** Drops workers whose heartbeat lapsed before `now` (rechecked in one step, so a fresh heartbeat stays). */
  private async forgetWorkers(queue: string, ids: string[], now: number): Promise<void> {
    await this.client.eval(
      `for i = 2, #ARGV do
         local score = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[i]))
         if score and score < tonumber(ARGV[1]) then
           redis.call('ZREM', KEYS[1], ARGV[i])
           redis.call('HDEL', KEYS[2], ARGV[i])
         end
       end
       return 0`,
      2,
      keyOf.workersAlive(queue),
      keyOf.workers(queue),
      now,
      ...ids,
    );
  }

  // ── orphans ───────────────────────────────────────────────────────────────────────

  /**
   * BullMQ's removeOrphanedJobs: scans the queue's keys (on every master of a Cluster), `count` keys a
   * SCAN step, for job ids whose hash or sub-keys are there while the id is in no state; each one's hash
   * goes through the remove transition (its parent's link with it), then what is left of its keys. Stops
   * after the scan step in which `limit` (0 = none) ids were removed. Returns how many ids were.
   */
  async removeOrphanedJobs(queue: string, count: number, limit: number, ops: OrphanOps): Promise<number> {
    const head = `${queue}:`;
    const pattern = `${head.replace(/[*?[\]\\]/g, '\\$&')}*`;
    let removed = 0;
    await scanAll(
      this.client,
      pattern,
      async (keys) => {
        for (const id of orphanCandidates(keys, head.length)) {
          if ((await this.client.type(keyOf.job(queue, id))) === 'hash') {
            // A live job, or one the remove transition keeps (a scheduler's current iteration): left as it is.
            if ((await ops.getState(queue, id)) !== 'unknown') continue;
            const code = await ops.remove(queue, id, Date.now());
            if (code < 0) continue;
            // The transition removed the hash (and its parent's link); the script what it left.
            await ops.removeOrphanKeys(queue, id);
            if (code > 0) removed++;
          } else if ((await ops.removeOrphanKeys(queue, id)) > 0) {
            removed++;
          }
        }
        return limit > 0 && removed >= limit;
      },
      count,
    );
    return removed;
  }
}

/** A job's own sub-keys, Docket's and those BullMQ writes: `<q>:<id>:<sub>`. */
const JOB_SUBKEYS = new Set(['logs', 'dependencies', 'processed', 'failed', 'ignored', 'unsuccessful', 'lock']);

/** The job ids a SCAN step's keys name (`<q>:<id>` or `<q>:<id>:<sub>`), each once; the queue's own keys left out. */
function orphanCandidates(keys: string[], headLength: number): Set<string> {
  const ids = new Set<string>();
  for (const key of keys) {
    const rest = key.slice(headLength).split(':');
    if (rest.length > 2 || (rest.length === 2 && !JOB_SUBKEYS.has(rest[1]!))) continue;
    if (rest[0] === '' || isReservedId(rest[0]!) || rest[0] === 'gr') continue;
    ids.add(rest[0]!);
  }
  return ids;
}
