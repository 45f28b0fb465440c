import { afterEach, describe, expect, it } from 'vitest';
import { toRetention } from '../src/options/retention.js';
import { connect } from '../src/store/connect.js';
import type { NewJob, Retention, Store } from '../src/store/store.js';
import { queueName, stores } from './support/stores.js';

// Retention of finished jobs (removeOnComplete / removeOnFail), driven through the store with
// explicit clocks so that "the same millisecond" and "exactly `age` ago" are exact.

const T0 = 1_700_000_000_000;
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

describe('toRetention', () => {
  it('reads KeepJobs as BullMQ does', () => {
    expect(toRetention(true)).toEqual({ remove: true });
    expect(toRetention(0)).toEqual({ remove: true });
    expect(toRetention({ count: 0, age: 5 })).toEqual({ remove: true });
    expect(toRetention(-1)).toEqual({});
    expect(toRetention(false)).toEqual({});
    expect(toRetention(3)).toEqual({ count: 3 });
    expect(toRetention({ age: 7 })).toEqual({ ageMs: 7000, limit: 1000 });
    expect(toRetention({ age: 10, limit: 2, count: 4 })).toEqual({ ageMs: 10_000, limit: 2, count: 4 });
  });
});

describe.each(stores)('retention of finished jobs on $kind', (fixture) => {
  let store: Store;
  afterEach(async () => {
    await store?.close();
  });

  async function open(n: number): Promise<{ q: string; tokens: Map<string, string> }> {
    store = connect({ connection: fixture.connection() });
    const q = `bull:${queueName('ret')}`;
    await store.addJobs(
      q,
      Array.from({ length: n }, () => job()),
    );
    const tokens = Array.from({ length: n }, (_, i) => `tok-${i}`);
    const fetched = await store.fetchNext(q, { tokens, lockDuration: 600_000, now: T0 });
    expect(fetched.jobs).toHaveLength(n);
    return { q, tokens: new Map(fetched.jobs.map((j) => [j.id, j.token ?? ''])) };
  }

  async function complete(q: string, tokens: Map<string, string>, id: string, now: number, retention: Retention) {
    const res = await store.complete(q, [{ id, token: tokens.get(id) ?? '', returnvalue: '1', retention }], now);
    expect(res.codes).toEqual([0]);
  }

  const completed = async (q: string) => (await store.getRange(q, ['completed'], 0, -1, true)).map(Number);

  it('keeps the last jobs to finish when they all finish in the same millisecond', async () => {
    const { q, tokens } = await open(12);
    for (let id = 1; id <= 12; id++) await complete(q, tokens, String(id), T0, { count: 3 });
    // Ordered by id as a string, job 10 would rank below job 9 and be dropped first.
    expect(await completed(q)).toEqual([10, 11, 12]);
  });

  it('removes by age the jobs that finished exactly `age` ago, keeping younger ones', async () => {
    const { q, tokens } = await open(3);
    await complete(q, tokens, '1', T0, {});
    await complete(q, tokens, '2', T0 + 1, {});
    await complete(q, tokens, '3', T0 + 1000, { ageMs: 1000, limit: 1000 });
    expect(await completed(q)).toEqual([2, 3]);
  });

  it('removes at most `limit` jobs by age at each finish, the newest of them first', async () => {
    const { q, tokens } = await open(7);
    for (let id = 1; id <= 5; id++) await complete(q, tokens, String(id), T0 + id, {});
    await complete(q, tokens, '6', T0 + 10_000, { ageMs: 1000, limit: 2 });
    expect(await completed(q)).toEqual([1, 2, 3, 6]);
    await complete(q, tokens, '7', T0 + 10_001, { ageMs: 1000, limit: 2 });
    expect(await completed(q)).toEqual([1, 6, 7]);
  });

  it('completes a batch whose jobs hold their locks, refuses the one that does not, and removes a removeOnComplete batch', async () => {
    const { q, tokens } = await open(5);
    const item = (id: string, token = tokens.get(id) ?? '') => ({ id, token, returnvalue: `"${id}"`, retention: {} });
    // A batch with removeOnComplete: the jobs go, logs and all.
    await store.addLog(q, '4', 'a line');
    const removed = await store.complete(
      q,
      [item('2'), item('4')].map((i) => ({ ...i, retention: { remove: true } })),
      T0,
    );
    expect(removed.codes).toEqual([0, 0]);
    expect(await store.getJob(q, '2')).toBeUndefined();
    expect(await store.getJob(q, '4')).toBeUndefined();
    expect((await store.getLogs(q, '4', 0, -1, true)).logs).toEqual([]);
    const res = await store.complete(q, [item('1'), item('5', 'not-its-token'), item('3')], T0 + 1);
    expect(res.codes).toEqual([0, -6, 0]);
    expect(await completed(q)).toEqual([1, 3]);
    expect(await store.getState(q, '5')).toBe('active');
    expect(await store.getCounts(q, ['completed', 'active'])).toEqual({ completed: 2, active: 1 });
  });

  it('promotes due delayed jobs before it takes, in due order, lifo ones ahead, and names the next one', async () => {
    store = connect({ connection: fixture.connection() });
    const q = `bull:${queueName('due')}`;
    await store.addJobs(q, [
      job({ name: 'late', delay: 5000 }),
      job({ name: 'second', delay: 200 }),
      job({ name: 'first', delay: 100 }),
      job({ name: 'lifo', delay: 300, lifo: true }),
      job({ name: 'later', delay: 9000 }),
    ]);
    const seen = await store.readEvents(q, '0', 0, new AbortController().signal);
    const taken = await store.fetchNext(q, { tokens: ['a', 'b', 'c'], lockDuration: 60_000, now: T0 + 1000 });
    expect(taken.jobs.map((j) => j.name)).toEqual(['lifo', 'first', 'second']);
    expect(taken.jobs.map((j) => j.delay)).toEqual([0, 0, 0]);
    const events = await store.readEvents(q, seen.at(-1)?.id ?? '0', 0, new AbortController().signal);
    const waiting = events.filter((e) => e.event === 'waiting').map((e) => [e.jobId, e.prev]);
    expect(waiting).toEqual([
      ['3', 'delayed'],
      ['2', 'delayed'],
      ['4', 'delayed'],
    ]);
    expect(events.filter((e) => e.event === 'active')).toHaveLength(3);
    const none = await store.fetchNext(q, { tokens: ['d'], lockDuration: 60_000, now: T0 + 1000 });
    expect(none.jobs).toEqual([]);
    expect(none.nextDelayedAt).toBe(T0 + 5000);
  });

  it('retries finished jobs in the order they finished, also within one millisecond', async () => {
    const { q, tokens } = await open(12);
    for (let id = 1; id <= 12; id++) {
      const token = tokens.get(String(id)) ?? '';
      const item = { id: String(id), token, failedReason: 'x', stacktrace: '[]', retryDelay: null, retention: {} };
      expect((await store.fail(q, [item], T0)).codes).toEqual([0]);
    }
    expect(await store.retryJobs(q, 'failed', 1000, T0)).toBe(12);
    expect((await store.getJob(q, '1'))?.attemptsMade).toBe(1); // kept, as BullMQ's retryJobs does
    const again = await store.fetchNext(q, {
      tokens: Array.from({ length: 12 }, (_, i) => `again-${i}`),
      lockDuration: 1000,
      now: T0 + 1,
    });
    expect(again.jobs.map((j) => Number(j.id))).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });
});
