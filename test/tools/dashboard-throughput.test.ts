import { describe, expect, it } from 'vitest';
import { useQueues } from '../support/fixture.js';
import { stores } from '../support/stores.js';

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
