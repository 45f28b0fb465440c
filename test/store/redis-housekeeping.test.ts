import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import type { NewJob } from '../../src/store/store.js';
import { RedisServer } from '../support/redis-server.js';

// Moves outside the worker path and bulk housekeeping of the Redis store.

const srv = new RedisServer();
const T0 = 1_700_000_000_000;
let store: RedisStore;
let n = 0;
const fresh = () => `bull:h${++n}`;
const job = (over: Partial<NewJob> = {}): NewJob => ({
  name: 'n',
  data: '{}',
  opts: '{}',
  timestamp: T0,
  delay: 0,
  priority: 0,
  lifo: false,
  ...over,
});
const fetch = async (q: string, count: number, now = T0, lockDuration = 1000) =>
  (
    await store.fetchNext(q, {
      tokens: Array.from({ length: count }, (_, i) => `t${i}`),
      lockDuration,
      now,
    })
  ).jobs.map((j) => j.id);
/** Completes or fails active jobs with the token each one holds. */
const finish = async (q: string, ids: string[], ok: boolean, now = T0) => {
  for (const id of ids) {
    const token = (await store.getJob(q, id))?.token ?? '';
    const base = { id, token, retention: {} };
    const res = ok
      ? await store.complete(q, [{ ...base, returnvalue: '1' }], now)
      : await store.fail(q, [{ ...base, failedReason: 'x', stacktrace: '[]', retryDelay: null }], now);
    expect(res.codes).toEqual([0]);
  }
};

beforeAll(async () => {
  await srv.start();
  store = new RedisStore(new Redis(srv.url), { ownsClient: true });
});
afterAll(async () => {
  await store.close();
  await srv.destroy();
});

describe('RedisStore housekeeping', () => {
  it('promotes one or many delayed jobs, and re-times one', async () => {
    const q = fresh();
    await store.addJobs(q, [job({ id: 'a', delay: 100 }), job({ id: 'b', delay: 200 }), job({ id: 'c', delay: 300 })]);
    expect(await store.promote(q, 'b')).toBe(0);
    expect(await store.promote(q, 'b')).toBe(-3);
    expect(await store.promote(q, 'x')).toBe(-1);
    expect(await store.getState(q, 'b')).toBe('waiting');
    expect(await store.changeDelay(q, 'c', 10, T0)).toBe(0);
    expect(await store.changeDelay(q, 'b', 10, T0)).toBe(-3);
    expect(await store.getRange(q, ['delayed'], 0, -1, true)).toEqual(['c', 'a']);
    expect(await store.promoteJobs(q, 1)).toBe(1);
    const taken = await store.fetchNext(q, { tokens: ['x', 'y'], lockDuration: 1, now: T0 });
    expect(taken.jobs.map((j) => j.id)).toEqual(['b', 'c']);
    // Nothing left to take: the worker learns when the next delayed job ('a') is due.
    expect(await store.fetchNext(q, { tokens: ['z'], lockDuration: 1, now: T0 })).toMatchObject({
      jobs: [],
      nextDelayedAt: T0 + 100,
    });
  });

  it('retries finished jobs, one or in bulk', async () => {
    const q = fresh();
    await store.addJobs(q, [job(), job(), job()]);
    const ids = await fetch(q, 3);
    await finish(q, ['1'], true, T0 + 10);
    await finish(q, ['2', '3'], false, T0 + 20);
    expect(await store.retryJob(q, '1', 'failed', {})).toBe(-3);
    expect(await store.retryJob(q, '1', 'completed', { attemptsMade: true })).toBe(0);
    const rec = await store.getJob(q, '1');
    expect(rec).toMatchObject({ attemptsMade: 0, attemptsStarted: 1 });
    expect(rec?.returnvalue ?? rec?.finishedOn ?? rec?.processedOn).toBeUndefined();
    expect(await store.retryJobs(q, 'failed', 0, T0 + 19)).toBe(0);
    expect(await store.retryJobs(q, 'failed', 0, T0 + 20)).toBe(2);
    expect(await store.getCounts(q, ['wait', 'failed'])).toEqual({ wait: 3, failed: 0 });
    expect(ids).toEqual(['1', '2', '3']);
  });

  it('changes priority and moves a waiting job to its new place', async () => {
    const q = fresh();
    await store.addJobs(q, [job({ id: 'a' }), job({ id: 'b' }), job({ id: 'p', priority: 5 })]);
    expect(await store.changePriority(q, 'b', 1, false)).toBe(0);
    expect(await store.changePriority(q, 'p', 0, true)).toBe(0);
    expect(await store.changePriority(q, 'x', 0, true)).toBe(-1);
    expect(await fetch(q, 3)).toEqual(['p', 'a', 'b']);
  });

  it('cleans by type and age, never a live lock', async () => {
    const q = fresh();
    await store.addJobs(q, [job(), job(), job(), job(), job({ timestamp: T0 + 500 })]);
    await fetch(q, 2, T0, 60_000);
    await fetch(q, 1, T0, 60);
    await finish(q, ['1'], true, T0 + 10);
    await finish(q, ['2'], true, T0 + 100);
    expect(await store.clean(q, 50, 0, 'completed', T0 + 100)).toEqual(['1']);
    // Job 3's 60 ms lock (on the server's clock) is live at first, lapsed later.
    expect(await store.clean(q, 0, 0, 'active', T0 + 500)).toEqual([]);
    await new Promise((r) => setTimeout(r, 120));
    expect(await store.clean(q, 0, 0, 'active', T0 + 2000)).toEqual(['3']);
    expect(await store.clean(q, 100, 0, 'wait', T0 + 200)).toEqual(['4']);
    expect(await store.getJob(q, '4')).toBeUndefined();
    const cleaned = (await store.readEvents(q, '0', 0, new AbortController().signal)).filter(
      (e) => e.event === 'cleaned',
    );
    expect(cleaned.map((e) => e.count)).toEqual(['1', '0', '1', '1']);
  });

  it('drains waiting jobs, and delayed ones when asked', async () => {
    const q = fresh();
    await store.addJobs(q, [job(), job({ priority: 3 }), job({ delay: 100 })]);
    await store.drain(q, false);
    expect(await store.getCounts(q, ['wait', 'prioritized', 'delayed'])).toEqual({
      wait: 0,
      prioritized: 0,
      delayed: 1,
    });
    expect(await store.getJob(q, '1')).toBeUndefined();
    await store.drain(q, true);
    expect(await store.getCounts(q, ['delayed'])).toEqual({ delayed: 0 });
  });

  it('obliterates in steps, refusing active jobs unless forced, and stamps the queue again on reuse', async () => {
    const q = fresh();
    await store.addJobs(q, [job(), job(), job(), job()]);
    await fetch(q, 1);
    await store.addLog(q, '1', 'row');
    expect(await store.obliterate(q, false, 0)).toBe(-1);
    expect(await store.obliterate(q, true, 2)).toBe(2);
    expect(await store.obliterate(q, true, 2)).toBe(0);
    const redis = new Redis(srv.url);
    expect(await redis.keys(`${q}:*`)).toEqual([]);
    await store.addJobs(q, [job()]);
    expect(await redis.hget(`${q}:meta`, 'docket-version')).toBe('1');
    redis.disconnect();
  });

  it('trims events and tells the newest event id', async () => {
    const q = fresh();
    await store.ready(q);
    expect(await store.lastEventId(q)).toBe('0');
    await store.addJobs(q, [job(), job()]);
    const all = await store.readEvents(q, '0', 0, new AbortController().signal);
    expect(await store.lastEventId(q)).toBe(all[all.length - 1].id);
    await store.trimEvents(q, 1);
    // One stream entry is left: the events of the last script call (one add of two jobs), in order.
    const newest = all.filter((e) => e.id === all[all.length - 1].id);
    expect(newest.map((e) => e.event)).toEqual(['added', 'waiting', 'added', 'waiting']);
    expect(await store.readEvents(q, '0', 0, new AbortController().signal)).toEqual(newest);
  });
});
