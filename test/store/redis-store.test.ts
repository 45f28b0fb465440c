import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import type { FetchRequest, NewJob, Retention } from '../../src/store/store.js';
import { RedisServer } from '../support/redis-server.js';

const srv = new RedisServer();
let client: Redis;
let store: RedisStore;
let n = 0;
/** A fresh queue name per test. */
let q = '';

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

afterEach(() => {
  q = '';
});

function queue(): string {
  q = `bull:t${++n}`;
  return q;
}

function job(over: Partial<NewJob> = {}): NewJob {
  return { name: 'n', data: '{}', opts: '{}', timestamp: T0, delay: 0, priority: 0, lifo: false, ...over };
}

function req(tokens: string[], now = T0, over: Partial<FetchRequest> = {}): FetchRequest {
  return { tokens, lockDuration: 30_000, now, ...over };
}

async function fetchIds(queueName: string, count: number, now = T0): Promise<string[]> {
  const tokens = Array.from({ length: count }, (_, i) => `tok${i}`);
  return (await store.fetchNext(queueName, req(tokens, now))).jobs.map((j) => j.id);
}

async function events(queueName: string) {
  return store.readEvents(queueName, '0', 0, new AbortController().signal);
}

const keep: Retention = {};

describe('RedisStore', () => {
  it('adds with auto ids and reads the record back', async () => {
    const qn = queue();
    await store.ready(qn);
    const { ids, duplicated } = await store.addJobs(qn, [job({ data: '{"a":1}' }), job()]);
    expect(ids).toEqual(['1', '2']);
    expect(duplicated).toEqual([false, false]);
    const rec = await store.getJob(qn, '1');
    expect(rec).toEqual({
      id: '1',
      name: 'n',
      data: '{"a":1}',
      opts: '{}',
      progress: '0',
      timestamp: T0,
      delay: 0,
      priority: 0,
      attemptsMade: 0,
      attemptsStarted: 0,
      stalledCounter: 0,
    });
    expect(await store.getJob(qn, 'nope')).toBeUndefined();
    expect(await store.getState(qn, '1')).toBe('waiting');
    expect(await store.getState(qn, 'nope')).toBe('unknown');
  });

  it('fetches FIFO, lifo first, then by priority', async () => {
    const qn = queue();
    await store.addJobs(qn, [
      job({ id: 'p2', priority: 2 }),
      job({ id: 'a' }),
      job({ id: 'p1', priority: 1 }),
      job({ id: 'b' }),
      job({ id: 'p1b', priority: 1 }),
      job({ id: 'l', lifo: true }),
    ]);
    expect(await store.getState(qn, 'p1')).toBe('prioritized');
    expect(await store.getRange(qn, ['wait', 'prioritized'], 0, -1, true)).toEqual(['l', 'a', 'b', 'p1', 'p1b', 'p2']);
    expect(await store.getCounts(qn, ['waiting', 'prioritized', 'paused'])).toEqual({
      waiting: 3,
      prioritized: 3,
      paused: 0,
    });
    expect(await fetchIds(qn, 10)).toEqual(['l', 'a', 'b', 'p1', 'p1b', 'p2']);
    const rec = await store.getJob(qn, 'a');
    expect(rec).toMatchObject({ token: 'tok1', processedOn: T0, attemptsStarted: 1 });
    expect(await store.getState(qn, 'a')).toBe('active');
    expect(await store.getCounts(qn, ['active', 'wait'])).toEqual({ active: 6, wait: 0 });
  });

  it('keeps delayed jobs until due, then promotes them in order', async () => {
    const qn = queue();
    await store.addJobs(qn, [
      job({ id: 'd1', delay: 1000 }),
      job({ id: 'd2', delay: 1000 }),
      job({ id: 'd0', delay: 500 }),
    ]);
    expect(await store.getState(qn, 'd1')).toBe('delayed');
    let res = await store.fetchNext(qn, req(['t'], T0 + 100));
    expect(res.jobs).toEqual([]);
    expect(res.nextDelayedAt).toBe(T0 + 500);
    expect(await fetchIds(qn, 3, T0 + 1000)).toEqual(['d0', 'd1', 'd2']);
    res = await store.fetchNext(qn, req(['t'], T0 + 2000));
    expect(res.nextDelayedAt).toBeUndefined();
    const names = (await events(qn)).map((e) => e.event);
    expect(names).toContain('delayed');
    expect((await events(qn)).filter((e) => e.event === 'waiting' && e.prev === 'delayed')).toHaveLength(3);
    expect((await store.getJob(qn, 'd1'))?.delay).toBe(0);
  });

  it('completes with retention count and writes events', async () => {
    const qn = queue();
    await store.addJobs(qn, [job(), job(), job()]);
    await fetchIds(qn, 3);
    for (const [i, id] of ['1', '2', '3'].entries()) {
      const res = await store.complete(
        qn,
        [{ id, token: `tok${i}`, returnvalue: `"r${id}"`, retention: { count: 2 } }],
        T0 + i,
      );
      expect(res.codes).toEqual([0]);
    }
    expect(await store.getJob(qn, '1')).toBeUndefined();
    expect(await store.getJob(qn, '3')).toMatchObject({ returnvalue: '"r3"', finishedOn: T0 + 2, attemptsMade: 1 });
    expect((await store.getJob(qn, '3'))?.token).toBeUndefined();
    expect(await store.getRange(qn, ['completed'], 0, -1, false)).toEqual(['3', '2']);
    expect(await store.getState(qn, '2')).toBe('completed');
    const evs = await events(qn);
    expect(evs.find((e) => e.event === 'completed' && e.jobId === '3')).toMatchObject({
      returnvalue: '"r3"',
      prev: 'active',
    });
    expect(evs.find((e) => e.event === 'added')).toMatchObject({ jobId: '1', name: 'n' });
    expect(evs.find((e) => e.event === 'active')).toMatchObject({ jobId: '1', prev: 'waiting' });
  });

  it('removes at once or by age', async () => {
    const qn = queue();
    await store.addJobs(qn, [job(), job(), job()]);
    await fetchIds(qn, 3);
    await store.complete(qn, [{ id: '1', token: 'tok0', returnvalue: '1', retention: { remove: true } }], T0);
    expect(await store.getJob(qn, '1')).toBeUndefined();
    await store.complete(qn, [{ id: '2', token: 'tok1', returnvalue: '1', retention: keep }], T0);
    await store.complete(qn, [{ id: '3', token: 'tok2', returnvalue: '1', retention: { ageMs: 500 } }], T0 + 1000);
    expect(await store.getRange(qn, ['completed'], 0, -1, true)).toEqual(['3']);
  });

  it('complete fetches the next job in the same step, and says drained', async () => {
    const qn = queue();
    await store.addJobs(qn, [job(), job()]);
    await fetchIds(qn, 1);
    let res = await store.complete(
      qn,
      [{ id: '1', token: 'tok0', returnvalue: '1', retention: keep }],
      T0,
      req(['n1']),
    );
    expect(res.next?.jobs.map((j) => [j.id, j.token])).toEqual([['2', 'n1']]);
    res = await store.complete(qn, [{ id: '2', token: 'n1', returnvalue: '1', retention: keep }], T0, req(['n2']));
    expect(res.next?.jobs).toEqual([]);
    expect((await events(qn)).filter((e) => e.event === 'drained')).toHaveLength(1);
  });

  it('refuses wrong tokens with -2/-6 and changes nothing', async () => {
    const qn = queue();
    await store.addJobs(qn, [job(), job()]);
    await fetchIds(qn, 1);
    const before = await store.getJob(qn, '1');
    const res = await store.complete(
      qn,
      [
        { id: '1', token: 'other', returnvalue: '1', retention: keep },
        { id: '2', token: 'tok0', returnvalue: '1', retention: keep },
        { id: 'x', token: 'tok0', returnvalue: '1', retention: keep },
      ],
      T0,
    );
    expect(res.codes).toEqual([-6, -2, -1]);
    const failRes = await store.fail(
      qn,
      [{ id: '1', token: 'other', failedReason: 'e', stacktrace: '[]', retryDelay: null, retention: keep }],
      T0,
    );
    expect(failRes.codes).toEqual([-6]);
    expect(await store.getJob(qn, '1')).toEqual(before);
    expect(await store.getState(qn, '2')).toBe('waiting');
    expect(await store.moveToDelayed(qn, '1', 'other', T0 + 5, T0)).toBe(-6);
    expect(await store.moveToWait(qn, '2', undefined, T0)).toBe(-3);
  });

  it('fails with a retry delay, an immediate retry, then for good', async () => {
    const qn = queue();
    await store.addJobs(qn, [job({ id: 'j' })]);
    await fetchIds(qn, 1);
    const item = { id: 'j', token: 'tok0', failedReason: 'boom', stacktrace: '["at x"]', retention: keep };
    expect((await store.fail(qn, [{ ...item, retryDelay: 1000 }], T0)).codes).toEqual([0]);
    expect(await store.getState(qn, 'j')).toBe('delayed');
    expect(await store.getJob(qn, 'j')).toMatchObject({
      attemptsMade: 1,
      failedReason: 'boom',
      stacktrace: '["at x"]',
    });
    expect(await fetchIds(qn, 1, T0 + 999)).toEqual([]);
    expect(await fetchIds(qn, 1, T0 + 1000)).toEqual(['j']);
    await store.fail(qn, [{ ...item, retryDelay: 0 }], T0 + 1000);
    expect(await store.getState(qn, 'j')).toBe('waiting');
    expect(await fetchIds(qn, 1, T0 + 1001)).toEqual(['j']);
    await store.fail(qn, [{ ...item, retryDelay: null, retriesExhausted: true }], T0 + 2000);
    expect(await store.getState(qn, 'j')).toBe('failed');
    expect(await store.getJob(qn, 'j')).toMatchObject({ attemptsMade: 3, attemptsStarted: 3, finishedOn: T0 + 2000 });
    const evs = await events(qn);
    expect(evs.find((e) => e.event === 'failed')).toMatchObject({ jobId: 'j', failedReason: 'boom', prev: 'active' });
    expect(evs.find((e) => e.event === 'retries-exhausted')).toMatchObject({ jobId: 'j', attemptsMade: '3' });
    expect(evs.filter((e) => e.event === 'failed')).toHaveLength(1);
    expect(await store.getCounts(qn, ['failed'])).toEqual({ failed: 1 });
  });

  // Locks run on the Redis server's clock (not the caller's `now`), so lapses here are real ones.
  it('extends locks held by the right token only', async () => {
    const qn = queue();
    await store.addJobs(qn, [job(), job()]);
    await fetchIds(qn, 1);
    await store.fetchNext(qn, req(['tok1'], T0, { lockDuration: 60 }));
    expect(await store.extendLocks(qn, ['1', '2', '9'], ['tok0', 'bad', 'tok0'], 60_000, T0)).toEqual(['2', '9']);
    // Job 2's 60 ms lock lapses: it is gone, even for its token, whatever `now` the caller passes.
    await new Promise((r) => setTimeout(r, 120));
    expect(await store.extendLocks(qn, ['2'], ['tok1'], 60_000, T0)).toEqual(['2']);
    const done = await store.complete(qn, [{ id: '2', token: 'tok1', returnvalue: '1', retention: keep }], T0);
    expect(done.codes).toEqual([-2]);
    expect(await store.moveToWait(qn, '2', 'tok1', T0)).toBe(-2);
    expect(await store.getState(qn, '2')).toBe('active');
    // A caller whose clock runs far ahead neither lapses job 1's live lock nor skips job 2's lapsed one.
    const res = await store.recoverStalled(qn, { maxStalledCount: 1, intervalMs: 1000, now: T0 + 10 ** 9 });
    expect(res).toEqual({ recovered: ['2'], failing: [] });
    expect(await store.extendLocks(qn, ['1'], ['tok0'], 60_000, T0 + 10 ** 9)).toEqual([]);
  });

  it('recovers a stalled job, marks it to fail on the next stall, and runs once per interval', async () => {
    const qn = queue();
    const lapse = () => new Promise((r) => setTimeout(r, 80));
    const short = (token: string) => req([token], T0, { lockDuration: 30 });
    await store.addJobs(qn, [job({ id: 's' })]);
    await store.fetchNext(qn, short('a'));
    await lapse();
    const opts = { maxStalledCount: 1, intervalMs: 60_000, now: T0 };
    expect(await store.recoverStalled(qn, { ...opts, force: true })).toEqual({ recovered: ['s'], failing: [] });
    expect(await store.getJob(qn, 's')).toMatchObject({ stalledCounter: 1, attemptsMade: 0 });
    expect((await store.getJob(qn, 's'))?.token).toBeUndefined();
    expect(await store.getState(qn, 's')).toBe('waiting');
    expect((await store.fetchNext(qn, short('b'))).jobs.map((j) => j.id)).toEqual(['s']);
    await store.addJobs(qn, [job({ id: 'other' })]);
    await lapse();
    // Guarded: the check ran less than intervalMs ago (on the server's clock), so this one does nothing.
    expect(await store.recoverStalled(qn, opts)).toEqual({ recovered: [], failing: [] });
    // Forced: over the limit, 's' goes back to waiting marked to fail when next fetched (BullMQ 6).
    expect(await store.recoverStalled(qn, { ...opts, force: true })).toEqual({ recovered: ['s'], failing: ['s'] });
    const marked = await store.getJob(qn, 's');
    expect(marked).toMatchObject({ stalledCounter: 2, attemptsMade: 0 });
    expect(marked?.deferredFailure).toBe('job stalled more than allowable limit');
    expect(await store.getState(qn, 's')).toBe('waiting');
    const next = await store.fetchNext(qn, short('c'));
    expect(next.jobs[0]).toMatchObject({ id: 's', deferredFailure: 'job stalled more than allowable limit' });
    // The worker fails it through the usual path, which clears the mark.
    const failed = await store.fail(
      qn,
      [
        {
          id: 's',
          token: 'c',
          failedReason: 'job stalled more than allowable limit',
          stacktrace: '[]',
          retryDelay: null,
          retention: keep,
        },
      ],
      T0,
    );
    expect(failed.codes).toEqual([0]);
    expect(await store.getState(qn, 's')).toBe('failed');
    expect((await store.getJob(qn, 's'))?.deferredFailure).toBeUndefined();
    const evs = await events(qn);
    expect(evs.filter((e) => e.event === 'stalled').map((e) => e.jobId)).toEqual(['s', 's']);
  });

  it('moves active jobs to delayed or back to waiting without spending attempts', async () => {
    const qn = queue();
    await store.addJobs(qn, [job({ id: 'a' }), job({ id: 'b' }), job({ id: 'c' })]);
    await fetchIds(qn, 2);
    expect(await store.moveToDelayed(qn, 'a', 'tok0', T0 + 500, T0)).toBe(0);
    expect(await store.getState(qn, 'a')).toBe('delayed');
    expect(await store.moveToWait(qn, 'b', 'tok1', T0)).toBe(0);
    expect(await store.getJob(qn, 'b')).toMatchObject({ attemptsMade: 0, attemptsStarted: 1 });
    expect(await fetchIds(qn, 3, T0 + 500)).toEqual(['b', 'c', 'a']);
    expect((await events(qn)).find((e) => e.event === 'delayed')).toMatchObject({
      jobId: 'a',
      delay: String(T0 + 500),
    });
  });

  it('pauses and resumes', async () => {
    const qn = queue();
    await store.addJobs(qn, [job()]);
    await store.pause(qn, true);
    expect(await store.isPaused(qn)).toBe(true);
    expect(await store.getCounts(qn, ['paused', 'wait'])).toEqual({ paused: 1, wait: 1 });
    expect(await store.fetchNext(qn, req(['t']))).toMatchObject({ jobs: [], paused: true });
    await store.pause(qn, false);
    expect(await fetchIds(qn, 1)).toEqual(['1']);
    expect((await events(qn)).map((e) => e.event)).toEqual(expect.arrayContaining(['paused', 'resumed']));
  });

  it('rate limits manually and with a limiter', async () => {
    const qn = queue();
    await store.addJobs(qn, [job(), job(), job(), job()]);
    await store.rateLimit(qn, 1000, T0);
    expect(await store.getRateLimitTtl(qn, T0 + 200)).toBe(800);
    expect(await store.fetchNext(qn, req(['t'], T0 + 200))).toMatchObject({ jobs: [], rateLimitTtl: 800 });
    const limiter = { max: 2, duration: 1000 };
    const start = T0 + 1000;
    let res = await store.fetchNext(qn, req(['a', 'b', 'c'], start, { limiter }));
    expect(res.jobs.map((j) => j.id)).toEqual(['1', '2']);
    res = await store.fetchNext(qn, req(['c'], start + 100, { limiter }));
    expect(res).toMatchObject({ jobs: [], rateLimitTtl: 900 });
    expect(await store.getRateLimitTtl(qn, start + 100)).toBe(900);
    res = await store.fetchNext(qn, req(['c'], start + 1000, { limiter }));
    expect(res.jobs.map((j) => j.id)).toEqual(['3']);
  });

  it('wakes a waiting worker on add, and on abort', async () => {
    const qn = queue();
    await store.ready(qn);
    let t = Date.now();
    const waiting = store.waitForWork(qn, 5000, new AbortController().signal);
    setTimeout(() => void store.addJobs(qn, [job()]), 100);
    await waiting;
    expect(Date.now() - t).toBeLessThan(2000);
    // The marker was consumed: the next wait blocks until aborted.
    const ac = new AbortController();
    t = Date.now();
    setTimeout(() => ac.abort(), 100);
    await store.waitForWork(qn, 5000, ac.signal);
    expect(Date.now() - t).toBeLessThan(2000);
    // … and times out on its own.
    t = Date.now();
    await store.waitForWork(qn, 200, new AbortController().signal);
    expect(Date.now() - t).toBeGreaterThanOrEqual(150);
  });

  it('reads new events with a blocking read, and stops on abort', async () => {
    const qn = queue();
    await store.ready(qn);
    const reading = store.readEvents(qn, '$', 5000, new AbortController().signal);
    setTimeout(() => void store.updateProgress(qn, 'x', '1').then(() => store.addJobs(qn, [job()])), 100);
    const evs = await reading;
    expect(evs[0]).toMatchObject({ event: 'added', jobId: '1', name: 'n' });
    expect(evs[0].id).toMatch(/^\d+-\d+$/);
    const ac = new AbortController();
    const t = Date.now();
    setTimeout(() => ac.abort(), 100);
    expect(await store.readEvents(qn, '$', 5000, ac.signal)).toEqual([]);
    expect(Date.now() - t).toBeLessThan(2000);
  });

  it('keeps the first job of a duplicated custom id', async () => {
    const qn = queue();
    const first = await store.addJobs(qn, [job({ id: 'c', data: '1' })]);
    const again = await store.addJobs(qn, [job({ id: 'c', data: '2' }), job()]);
    expect(first.duplicated).toEqual([false]);
    expect(again).toEqual({ ids: ['c', '1'], duplicated: [true, false] });
    expect((await store.getJob(qn, 'c'))?.data).toBe('1');
    expect((await events(qn)).filter((e) => e.event === 'duplicated')).toMatchObject([{ jobId: 'c' }]);
    await expect(store.addJobs(qn, [job({ id: 'meta' })])).rejects.toThrow(/cannot be used/);
  });

  it('updates progress, data and logs; removes unlocked jobs only', async () => {
    const qn = queue();
    await store.addJobs(qn, [job(), job()]);
    expect(await store.updateProgress(qn, '1', '{"p":5}')).toBe(0);
    expect(await store.updateData(qn, '1', '{"d":1}')).toBe(0);
    expect(await store.updateData(qn, 'nope', '{}')).toBe(-1);
    expect(await store.getJob(qn, '1')).toMatchObject({ progress: '{"p":5}', data: '{"d":1}' });
    for (const row of ['a', 'b', 'c']) await store.addLog(qn, '1', row);
    expect(await store.addLog(qn, '1', 'd', 3)).toBe(3);
    expect(await store.getLogs(qn, '1', 0, -1, true)).toEqual({ logs: ['b', 'c', 'd'], count: 3 });
    expect(await store.getLogs(qn, '1', 0, 1, false)).toEqual({ logs: ['d', 'c'], count: 3 });
    expect(await store.addLog(qn, 'nope', 'x')).toBe(-1);
    await fetchIds(qn, 1);
    expect(await store.remove(qn, '1', T0)).toBe(0);
    expect(await store.remove(qn, '2', T0)).toBe(1);
    expect(await store.getJob(qn, '2')).toBeUndefined();
    expect(await store.remove(qn, '2', T0)).toBe(0);
    expect((await events(qn)).find((e) => e.event === 'removed')).toMatchObject({ jobId: '2', prev: 'waiting' });
  });

  it('refuses a queue that BullMQ wrote', async () => {
    await client.hset('bull:legacy:meta', 'version', 'bullmq:5.1.0');
    await expect(store.ready('bull:legacy')).rejects.toThrow(/BullMQ/);
    await client.lpush('bull:legacy2:wait', '1');
    await expect(store.addJobs('bull:legacy2', [job()])).rejects.toThrow(/BullMQ/);
    expect(await client.llen('bull:legacy2:wait')).toBe(1);
    expect(await client.exists('bull:legacy2:meta')).toBe(0);
  });

  it('survives a script flush (NOSCRIPT)', async () => {
    const qn = queue();
    await store.addJobs(qn, [job()]);
    await client.script('FLUSH');
    expect(await fetchIds(qn, 1)).toEqual(['1']);
  });
});
