import { describe, expect, it } from 'vitest';
import { useQueues } from '../support/fixture.js';
import { stores, until } from '../support/stores.js';

describe.each(stores)('Store.countFinishedPerMinute on $kind', (store) => {
  const { setup } = useQueues(store);

  it('counts the retained jobs that finished in each minute, by their finish time', async () => {
    const { queue } = setup();
    const s = queue.store;
    const qn = queue.qualifiedName;
    await queue.addBulk(Array.from({ length: 6 }, () => ({ name: 'n', data: {} })));
    const fetched = await s.fetchNext(qn, {
      tokens: ['t0', 't1', 't2', 't3', 't4', 't5'],
      lockDuration: 3_600_000,
      now: Date.now(),
    });
    const [a, b, c, d, e, f] = fetched.jobs.map((j) => j.id);
    expect(fetched.jobs).toHaveLength(6);
    const since = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
    const complete = (id: string, token: string, at: number) =>
      s.complete(qn, [{ id, token, returnvalue: '1', retention: {} }], at);
    await complete(a, 't0', since - 1); // before the range
    await complete(b, 't1', since);
    // Two in the same last ms of minute 0: the second's place is that ms + 1/1000, still minute 0.
    await complete(c, 't2', since + 59_999);
    await complete(d, 't3', since + 59_999);
    await complete(e, 't4', since + 60_000);
    await s.fail(
      qn,
      [{ id: f, token: 't5', failedReason: 'x', stacktrace: '[]', retryDelay: null, retention: {} }],
      since + 2 * 60_000 + 500,
    );
    expect(await s.countFinishedPerMinute(qn, 'completed', since, 3)).toEqual([3, 1, 0]);
    expect(await s.countFinishedPerMinute(qn, 'failed', since, 3)).toEqual([0, 0, 1]);
    expect(await s.countFinishedPerMinute(qn, 'failed', since, 2)).toEqual([0, 0]);
    expect(await s.countFinishedPerMinute(qn, 'completed', since - 60_000, 1)).toEqual([1]);
  });
});

describe.each(stores)('Store.getMinuteCounts on $kind', (store) => {
  const { setup } = useQueues(store);

  it('counts completions (also removed ones), final failures but not retried attempts, and stalls, per minute', async () => {
    const { queue } = setup();
    const s = queue.store;
    const qn = queue.qualifiedName;
    await queue.addBulk(Array.from({ length: 6 }, () => ({ name: 'n', data: {} })));
    const tokens = ['t0', 't1', 't2', 't3', 't4', 't5'];
    const fetched = await s.fetchNext(qn, { tokens, lockDuration: 3_600_000, now: Date.now() });
    const [a, b, c, d, e, f] = fetched.jobs.map((j) => j.id);
    const minute = Math.floor(Date.now() / 60_000) - 5;
    const at = minute * 60_000 + 1_000;
    const fail = (id: string, token: string, retryDelay: number | null) => ({
      id,
      token,
      failedReason: 'x',
      stacktrace: '[]',
      retryDelay,
      retention: {},
    });
    // A batch of three, removed on completion: one increment with the batch's count.
    await s.complete(
      qn,
      [a, b, c].map((id, i) => ({ id, token: tokens[i], returnvalue: '1', retention: { remove: true } })),
      at,
    );
    expect(await queue.getJob(a)).toBeUndefined();
    // A wrong token changes nothing and counts nothing.
    await s.complete(qn, [{ id: d, token: 'other', returnvalue: '1', retention: {} }], at);
    // One retried attempt (back to waiting), one final failure, in the next minute.
    await s.fail(qn, [fail(d, 't3', 0), fail(e, 't4', null)], at + 60_000);
    expect(await s.getMinuteCounts(qn, minute)).toEqual([
      { minute, completed: 3, failed: 0, stalled: 0 },
      { minute: minute + 1, completed: 0, failed: 1, stalled: 0 },
    ]);
    expect(await s.getMinuteCounts(qn, minute + 1)).toEqual([
      { minute: minute + 1, completed: 0, failed: 1, stalled: 0 },
    ]);

    // d (retried, waiting again) is fetched with a 1 ms lock: the stalled check moves it back, counted in `now`'s minute.
    await s.complete(qn, [{ id: f, token: 't5', returnvalue: '1', retention: {} }], Date.now()); // counted now
    const again = await s.fetchNext(qn, { tokens: ['t6'], lockDuration: 1, now: Date.now() });
    expect(again.jobs.map((j) => j.id)).toEqual([d]);
    const now = Date.now();
    await until(async () => {
      const r = await s.recoverStalled(qn, { maxStalledCount: 5, intervalMs: 0, now, force: true });
      return r.recovered.includes(d);
    }, 10_000);
    const current = Math.floor(now / 60_000);
    const counts = await s.getMinuteCounts(qn, minute);
    expect(counts.find((m) => m.minute === current)).toMatchObject({ stalled: 1 });
    expect(counts.reduce((n, m) => n + m.completed, 0)).toBe(4);
  });

  it('counts a cancelled job as failed for good', async () => {
    const { queue } = setup();
    const job = await queue.add('n', {});
    expect(await queue.cancelJob(job.id!, 'not needed')).toBe(true);
    const counts = await queue.store.getMinuteCounts(queue.qualifiedName, 0);
    expect(counts.map(({ completed, failed, stalled }) => ({ completed, failed, stalled }))).toEqual([
      { completed: 0, failed: 1, stalled: 0 },
    ]);
  });

  it('keeps the newest 120 minutes: a new minute trims the older ones', async () => {
    const { queue } = setup();
    const s = queue.store;
    const qn = queue.qualifiedName;
    await queue.addBulk(Array.from({ length: 3 }, () => ({ name: 'n', data: {} })));
    const fetched = await s.fetchNext(qn, { tokens: ['t0', 't1', 't2'], lockDuration: 3_600_000, now: Date.now() });
    const [a, b, c] = fetched.jobs.map((j) => j.id);
    const minute = Math.floor(Date.now() / 60_000) - 300;
    const complete = (id: string, token: string, m: number) =>
      s.complete(qn, [{ id, token, returnvalue: '1', retention: { remove: true } }], m * 60_000);
    await complete(a, 't0', minute);
    await complete(b, 't1', minute + 119);
    expect((await s.getMinuteCounts(qn, 0)).map((m) => m.minute)).toEqual([minute, minute + 119]);
    await complete(c, 't2', minute + 120);
    expect((await s.getMinuteCounts(qn, 0)).map((m) => m.minute)).toEqual([minute + 119, minute + 120]);
    await queue.obliterate({ force: true });
    expect(await s.getMinuteCounts(qn, 0)).toEqual([]);
  });
});
