import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  CancelResult,
  CompleteItem,
  FailItem,
  FetchRequest,
  FetchResult,
  MoveResult,
  Retention,
  StalledResult,
} from '../store.js';
import { fetchArgs, retentionArgs, toFetchResult, toMoveResult } from './codec.js';
import type { RedisConnection } from './connection.js';
import { keyOf } from './keys.js';

/** Waits up to this long (ms) are timed locally: see waitForWork. */
const SHORT_WAIT_MS = 250;

/**
 * The worker path on Redis: fetching, waiting for work, finishing, lock extension and stalled recovery.
 * Fetches and finishing moves carry a call id (a uuid per call): ioredis resends a call whose reply a
 * dropped connection lost, and the script answers the resent call as it answered the first
 * (scripts/includes/calls.lua) instead of refusing a move already made or taking more jobs.
 */
export class WorkerPath {
  constructor(private readonly conn: RedisConnection) {}

  async fetchNext(queue: string, req: FetchRequest): Promise<FetchResult> {
    return toFetchResult(await this.conn.run('fetchNext', queue, [req.now, randomUUID(), ...fetchArgs(req)]));
  }

  /**
   * Blocks on `<q>:marker` (BZPOPMIN) on a connection of its own. Every transition that makes a job
   * runnable, or adds a delayed one, puts a member in the marker; popping it wakes one waiter.
   */
  async waitForWork(queue: string, timeoutMs: number, signal: AbortSignal): Promise<void> {
    await this.conn.queueReady(queue);
    if (timeoutMs <= 0) return;
    // Redis ends a blocking command's timeout only on its next cron tick (every 100 ms at the
    // default hz 10), so a worker waiting for a delayed job that is due soon would start it up to
    // 100 ms late. Short waits therefore use a local timer, and long ones leave the last
    // SHORT_WAIT_MS to it (the worker re-fetches, then waits the rest locally).
    if (timeoutMs <= SHORT_WAIT_MS) {
      await sleep(timeoutMs, undefined, { signal }).catch(() => undefined);
      return;
    }
    // BZPOPMIN takes seconds (fractions allowed); 0 would mean forever.
    const seconds = (timeoutMs - SHORT_WAIT_MS / 2) / 1000;
    await this.conn.blocking.run(signal, undefined, async (client) => {
      await client.bzpopmin(keyOf.marker(queue), seconds.toFixed(3));
    });
  }

  async complete(queue: string, items: CompleteItem[], now: number, fetch?: FetchRequest): Promise<MoveResult> {
    // The items travel as one JSON argument (scripts/complete.lua).
    const flat: (string | number)[] = [];
    for (const item of items) {
      flat.push(item.id, item.token, item.returnvalue, ...retentionArgs(item.retention), item.metrics ?? 0);
    }
    const args = [now, JSON.stringify(flat), randomUUID(), ...fetchArgs(fetch)];
    return toMoveResult(await this.conn.run('complete', queue, args));
  }

  async fail(queue: string, items: FailItem[], now: number, fetch?: FetchRequest): Promise<MoveResult> {
    const flat: (string | number)[] = [];
    for (const item of items) {
      flat.push(item.id, item.token, item.failedReason, item.stacktrace, item.retryDelay ?? '');
      flat.push(...retentionArgs(item.retention), item.retriesExhausted ? '1' : '0', item.metrics ?? 0);
    }
    const args = [now, JSON.stringify(flat), randomUUID(), ...fetchArgs(fetch)];
    return toMoveResult(await this.conn.run('fail', queue, args));
  }

  /** Store.cancelJob: scripts/cancelJob.lua fails the job and PUBLISHes the notice (cancels.ts) in one call. */
  async cancelJob(
    queue: string,
    id: string,
    failedReason: string,
    now: number,
    retention: Retention,
    metrics?: number,
  ): Promise<CancelResult> {
    const args = [now, id, failedReason, ...retentionArgs(retention), metrics ?? 0];
    const [code, prev, token] = (await this.conn.run('cancelJob', queue, args)) as [number, string, string];
    return { code: Number(code) as CancelResult['code'], prev: (prev || undefined) as CancelResult['prev'], token };
  }

  async extendLocks(
    queue: string,
    ids: string[],
    tokens: string[],
    durationMs: number,
    now: number,
  ): Promise<string[]> {
    if (ids.length === 0) return [];
    const args: (string | number)[] = [now, durationMs];
    for (const [i, id] of ids.entries()) args.push(id, tokens[i]);
    return ((await this.conn.run('extendLocks', queue, args)) as string[]).map(String);
  }

  async recoverStalled(
    queue: string,
    opts: { maxStalledCount: number; intervalMs: number; now: number; force?: boolean },
  ): Promise<StalledResult> {
    const args = [opts.now, opts.maxStalledCount, opts.intervalMs, opts.force ? '1' : '0'];
    const [recovered, failing] = (await this.conn.run('recoverStalled', queue, args)) as [string[], string[]];
    return { recovered: recovered.map(String), failing: failing.map(String) };
  }
}
