import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import type { CompleteItem, FailItem, FetchRequest, NewJob } from '../../src/store/store.js';
import { RedisServer } from '../support/redis-server.js';

const srv = new RedisServer();
let client: Redis;
let store: RedisStore;
let n = 0;

const T0 = 1_700_000_000_000;

beforeAll(async () => {
  await srv.start();
  client = new Redis(srv.url);
  store = new RedisStore(client);
});

afterAll(async () => {
  await store.close();
  client.disconnect();
  await srv.destroy();
});

async function queue(): Promise<string> {
  const q = `bull:p${++n}`;
  await store.ready(q);
  return q;
}

function job(over: Partial<NewJob> = {}): NewJob {
  return { name: 'n', data: '{}', opts: '{}', timestamp: T0, delay: 0, priority: 0, lifo: false, ...over };
}

function req(tokens: string[], now = T0, over: Partial<FetchRequest> = {}): FetchRequest {
  return { tokens, lockDuration: 30_000, now, ...over };
}

async function fetchIds(q: string, count: number, now = T0): Promise<string[]> {
  const tokens = Array.from({ length: count }, (_, i) => `tok${i}`);
  return (await store.fetchNext(q, req(tokens, now))).jobs.map((j) => j.id);
}

const done = (id: string, over: Partial<CompleteItem> = {}): CompleteItem => ({
  id,
  token: 'tok0',
  returnvalue: '1',
  retention: {},
  ...over,
});

const failed = (id: string, over: Partial<FailItem> = {}): FailItem => ({
  id,
  token: 'tok0',
  failedReason: 'boom',
  stacktrace: '[]',
  retryDelay: null,
  retention: {},
  ...over,
});

async function lastEvent(q: string, name: string) {
  const all = await store.readEvents(q, '0', 0, new AbortController().signal);
  return all.filter((e) => e.event === name).at(-1);
}

describe('RedisStore parity: deduplication', () => {
  const dd = (extra: Partial<NonNullable<NewJob['dedup']>> = {}) => ({ id: 'd1', ...extra });
  const dopts = JSON.stringify({ deduplication: { id: 'd1' } });

  it('refuses an add while the job holding the id is unfinished, then frees it on completion', async () => {
    const q = await queue();
    const a = await store.addJobs(q, [job({ opts: dopts, dedup: dd() })]);
    const b = await store.addJobs(q, [job({ id: 'custom', opts: dopts, dedup: dd() })]);
    expect(b).toEqual({ ids: a.ids, duplicated: [true] });
    expect(await lastEvent(q, 'deduplicated')).toMatchObject({
      jobId: a.ids[0],
      deduplicationId: 'd1',
      deduplicatedJobId: 'custom',
    });
    expect(await store.getDedupJobId(q, 'd1', T0)).toBe(a.ids[0]);
    expect(await fetchIds(q, 1)).toEqual(a.ids);
    await store.complete(q, [done(a.ids[0])], T0);
    expect(await store.getDedupJobId(q, 'd1', T0)).toBeUndefined();
    const c = await store.addJobs(q, [job({ opts: dopts, dedup: dd() })]);
    expect(c.duplicated).toEqual([false]);
  });

  it('a key left by a finished job does not refuse', async () => {
    const q = await queue();
    const a = await store.addJobs(q, [job({ opts: dopts, dedup: dd() })]);
    await store.remove(q, a.ids[0], T0);
    expect((await store.addJobs(q, [job({ opts: dopts, dedup: dd() })])).duplicated).toEqual([false]);
  });

  it('with ttl the id is held until it expires, even after the job finished; extend renews it', async () => {
    const q = await queue();
    const a = await store.addJobs(q, [job({ opts: dopts, dedup: dd({ ttl: 60_000 }) })]);
    expect(await fetchIds(q, 1)).toEqual(a.ids);
    await store.complete(q, [done(a.ids[0])], T0);
    expect(await store.getDedupJobId(q, 'd1', T0)).toBe(a.ids[0]);
    expect((await store.addJobs(q, [job({ dedup: dd({ ttl: 60_000 }) })])).duplicated).toEqual([true]);
    const key = `${q}:de:d1`;
    await client.pexpire(key, 100);
    await store.addJobs(q, [job({ dedup: dd({ ttl: 60_000, extend: true }) })]);
    expect(await client.pttl(key)).toBeGreaterThan(50_000);
    await client.pexpire(key, 1);
    await new Promise((r) => setTimeout(r, 10));
    expect((await store.addJobs(q, [job({ dedup: dd({ ttl: 60_000 }) })])).duplicated).toEqual([false]);
  });

  it('replace swaps a delayed job for the new one', async () => {
    const q = await queue();
    const a = await store.addJobs(q, [job({ delay: 5000, opts: dopts, dedup: dd({ replace: true }) })]);
    const b = await store.addJobs(q, [
      job({ delay: 5000, data: '{"v":2}', opts: dopts, dedup: dd({ replace: true }) }),
    ]);
    expect(b.duplicated).toEqual([false]);
    expect(b.ids[0]).not.toBe(a.ids[0]);
    expect(await store.getJob(q, a.ids[0])).toBeUndefined();
    expect(await lastEvent(q, 'removed')).toMatchObject({ jobId: a.ids[0], prev: 'delayed' });
    expect(await store.getDedupJobId(q, 'd1', T0)).toBe(b.ids[0]);
    // Not delayed: refused as usual.
    const c = await store.addJobs(q, [job({ id: 'c', opts: dopts })]);
    const d = await store.addJobs(q, [
      job({ opts: dopts, dedup: { id: 'd2' } }),
      job({ opts: dopts, dedup: { id: 'd2', replace: true } }),
    ]);
    expect(c.duplicated).toEqual([false]);
    expect(d.duplicated).toEqual([false, true]);
  });

  it('keepLastIfActive adds the newest refused job when the active one finishes', async () => {
    const q = await queue();
    const a = await store.addJobs(q, [job({ opts: dopts, dedup: dd({ keepLastIfActive: true }) })]);
    expect(await fetchIds(q, 1)).toEqual(a.ids);
    await store.addJobs(q, [job({ data: '{"v":1}', opts: dopts, dedup: dd({ keepLastIfActive: true }) })]);
    const last = await store.addJobs(q, [
      job({ id: 'last', data: '{"v":2}', opts: dopts, dedup: dd({ keepLastIfActive: true }) }),
    ]);
    expect(last).toEqual({ ids: a.ids, duplicated: [true] });
    expect(await store.getCounts(q, ['waiting'])).toEqual({ waiting: 0 });
    await store.fail(q, [failed(a.ids[0])], T0);
    expect(await store.getJob(q, 'last')).toMatchObject({ data: '{"v":2}' });
    expect(await store.getState(q, 'last')).toBe('waiting');
    expect(await store.getCounts(q, ['waiting'])).toEqual({ waiting: 1 });
    expect(await store.getDedupJobId(q, 'd1', T0)).toBe('last');
  });

  it('dedups flow roots', async () => {
    const q = await queue();
    const node = (id: string) => ({ ...job({ opts: dopts, dedup: dd() }), id, queue: q, hasChildren: false });
    expect(await store.addFlow([node('r1')])).toEqual({ ids: ['r1'], duplicated: [false] });
    expect(await store.addFlow([node('r2')])).toEqual({ ids: ['r1'], duplicated: [true] });
    expect(await store.getJob(q, 'r2')).toBeUndefined();
  });

  it('removeDedupKey frees the id, optionally only for a given job', async () => {
    const q = await queue();
    const a = await store.addJobs(q, [job({ dedup: dd() })]);
    expect(await store.removeDedupKey(q, 'd1', 'other')).toBe(0);
    expect(await store.removeDedupKey(q, 'd1', a.ids[0])).toBe(1);
    expect(await store.getDedupJobId(q, 'd1', T0)).toBeUndefined();
    await store.addJobs(q, [job({ id: 'x', dedup: dd() })]);
    expect(await store.removeDedupKey(q, 'd1')).toBe(1);
    expect(await store.removeDedupKey(q, 'd1')).toBe(0);
  });
});

describe('RedisStore parity: global limits', () => {
  it('global concurrency caps active jobs across fetches', async () => {
    const q = await queue();
    await store.setGlobalConcurrency(q, 2);
    expect(await store.getGlobalLimits(q)).toEqual({ concurrency: 2 });
    await store.addJobs(q, [job(), job(), job(), job()]);
    expect(await fetchIds(q, 3)).toEqual(['1', '2']);
    const empty = await store.fetchNext(q, req(['t']));
    expect(empty).toMatchObject({ jobs: [], rateLimitTtl: 0 });
    const moved = await store.complete(q, [done('1')], T0, req(['t9']));
    expect(moved.next?.jobs.map((j) => j.id)).toEqual(['3']);
    await store.setGlobalConcurrency(q, undefined);
    expect(await store.getGlobalLimits(q)).toEqual({});
    expect(await fetchIds(q, 3)).toEqual(['4']);
  });

  it('a global rate limit replaces the worker limiter', async () => {
    const q = await queue();
    await store.setGlobalRateLimit(q, { max: 1, duration: 1000 });
    expect(await store.getGlobalLimits(q)).toEqual({ rateLimit: { max: 1, duration: 1000 } });
    await store.addJobs(q, [job(), job(), job()]);
    const first = await store.fetchNext(q, req(['a', 'b'], T0, { limiter: { max: 10, duration: 10 } }));
    expect(first.jobs.map((j) => j.id)).toEqual(['1']);
    const limited = await store.fetchNext(q, req(['c'], T0 + 400, { limiter: { max: 10, duration: 10 } }));
    expect(limited).toMatchObject({ jobs: [], rateLimitTtl: 600 });
    expect(await store.getRateLimitTtl(q, T0 + 400)).toBe(600);
    expect((await store.fetchNext(q, req(['d'], T0 + 1000))).jobs.map((j) => j.id)).toEqual(['2']);
    await store.setGlobalRateLimit(q, undefined);
    expect(await store.getGlobalLimits(q)).toEqual({});
  });
});

describe('RedisStore parity: metrics and counts', () => {
  it('records per-minute counts of completed and failed jobs', async () => {
    const q = await queue();
    const minute = 60_000;
    const now = Math.floor(T0 / minute) * minute;
    expect(await store.getMetrics(q, 'completed', now)).toEqual({ count: 0, data: [], prevCount: 0, prevTS: 0 });
    await store.addJobs(q, [job(), job(), job(), job()]);
    const hour = 3_600_000;
    await store.fetchNext(q, req(['tok0', 'tok1', 'tok2', 'tok3'], now, { lockDuration: hour }));
    await store.complete(q, [done('1', { metrics: 3, token: 'tok0' })], now);
    await store.complete(q, [done('2', { metrics: 3, token: 'tok1' })], now + minute);
    await store.complete(q, [done('3', { metrics: 3, token: 'tok2' })], now + minute + 5);
    await store.fail(q, [failed('4', { metrics: 3, token: 'tok3' })], now);
    // BullMQ's points: the minutes before the newest (which is still open), newest first.
    const newest = now + minute;
    expect(await store.getMetrics(q, 'completed', newest)).toEqual({
      count: 3,
      data: [1],
      prevCount: 1,
      prevTS: newest,
    });
    expect(await store.getMetrics(q, 'failed', now)).toEqual({ count: 1, data: [], prevCount: 0, prevTS: now });
    // Old minutes are trimmed.
    await store.addJobs(q, [job()]);
    await fetchIds(q, 1, now + 10 * minute);
    await store.complete(q, [done('5', { metrics: 3 })], now + 10 * minute);
    expect(await client.hlen(`${q}:metrics:completed:data`)).toBe(1);
    expect(await store.getMetrics(q, 'completed', now + 10 * minute)).toEqual({
      count: 4,
      data: [0, 0, 0],
      prevCount: 3,
      prevTS: now + 10 * minute,
    });
  });

  it('does not record metrics for a retried failure', async () => {
    const q = await queue();
    await store.addJobs(q, [job()]);
    await fetchIds(q, 1);
    await store.fail(q, [failed('1', { retryDelay: 0, metrics: 5 })], T0);
    expect(await store.getMetrics(q, 'failed', T0)).toEqual({ count: 0, data: [], prevCount: 0, prevTS: 0 });
  });

  it('counts waiting jobs per priority', async () => {
    const q = await queue();
    await store.addJobs(q, [
      job(),
      job({ priority: 1 }),
      job({ priority: 1 }),
      job({ priority: 3 }),
      job({ delay: 10 }),
    ]);
    expect(await store.getCountsPerPriority(q, [0, 1, 2, 3])).toEqual({ 0: 1, 1: 2, 2: 0, 3: 1 });
  });
});

describe('RedisStore parity: workers', () => {
  it('lists workers until their heartbeat lapses', async () => {
    const q = await queue();
    const info = (id: string, heartbeat: number) => ({ id, name: 'w', addr: 'h', started: T0, heartbeat });
    await store.registerWorker(q, info('b', T0), 1000);
    await store.registerWorker(q, info('a', T0), 5000);
    expect((await store.getWorkers(q, T0 + 500)).map((w) => w.id)).toEqual(['a', 'b']);
    expect(await store.getWorkers(q, T0 + 2000)).toEqual([info('a', T0)]);
    expect(await client.hexists(`${q}:workers`, 'b')).toBe(0);
    await store.registerWorker(q, info('a', T0 + 4000), 5000);
    expect(await store.getWorkers(q, T0 + 6000)).toEqual([info('a', T0 + 4000)]);
    await store.unregisterWorker(q, 'a');
    expect(await store.getWorkers(q, T0)).toEqual([]);
  });
});

describe('RedisStore parity: children', () => {
  const flowNode = (q: string, id: string, parent?: string, over: Partial<NewJob> = {}) => ({
    ...job(over),
    id,
    queue: q,
    hasChildren: parent === undefined,
    ...(parent ? { parent: { id: parent, queue: q } } : {}),
  });

  it('removeChildDependency unlinks a child and releases the parent', async () => {
    const q = await queue();
    await store.addFlow([flowNode(q, 'p'), flowNode(q, 'c1', 'p'), flowNode(q, 'c2', 'p')]);
    expect(await store.removeChildDependency(q, 'c1', T0)).toBe(0);
    expect((await store.getJob(q, 'c1'))?.parent).toBeUndefined();
    expect(await store.removeChildDependency(q, 'c1', T0)).toBe(1);
    expect(await store.getState(q, 'p')).toBe('waiting-children');
    expect(await store.removeChildDependency(q, 'c2', T0)).toBe(0);
    expect(await store.getState(q, 'p')).toBe('waiting');
    expect((await store.getDependencies(q, 'p')).unprocessed).toEqual([]);
    await store.addJobs(q, [job({ id: 'lonely' })]);
    expect(await store.removeChildDependency(q, 'lonely', T0)).toBe(1);
  });

  it('removeUnprocessedChildren removes pending children recursively, not active ones', async () => {
    const q = await queue();
    const other = await queue();
    await store.addFlow([
      flowNode(q, 'p'),
      { ...flowNode(q, 'c1', 'p'), hasChildren: true },
      flowNode(q, 'g1', 'c1'),
      { ...flowNode(other, 'c2', undefined), hasChildren: false, parent: { id: 'p', queue: q } },
      flowNode(q, 'c3', 'p'),
    ]);
    await store.addJobs(q, []);
    // g1 is the first waiting job of q: make c3 active instead.
    expect(await fetchIds(q, 2)).toEqual(['g1', 'c3']);
    await store.removeUnprocessedChildren(q, 'p', T0);
    expect(await store.getJob(q, 'c1')).toBeUndefined();
    expect(await store.getJob(other, 'c2')).toBeUndefined();
    expect(await store.getState(q, 'c3')).toBe('active');
    // g1 was active: it stays (its parent is gone).
    expect(await store.getState(q, 'g1')).toBe('active');
    expect((await store.getDependencies(q, 'p')).unprocessed).toEqual([`${q}:c3`]);
    expect(await lastEvent(other, 'removed')).toMatchObject({ jobId: 'c2' });
  });
});
