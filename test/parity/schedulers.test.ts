import { describe, expect, it } from 'vitest';
import { getNextMillis } from '../../src/index.js';
import { useQueues } from '../support/fixture.js';
import { stores, until } from '../support/stores.js';

describe('getNextMillis', () => {
  it('aligns every-slots and evaluates cron patterns in a time zone', () => {
    expect(getNextMillis(10_500, { every: 1000 })).toBe(11_000);
    expect(getNextMillis(10_500, { every: 1000, offset: 200 })).toBe(11_200);
    const from = Date.parse('2026-01-01T00:00:00Z');
    expect(new Date(getNextMillis(from, { pattern: '0 9 * * *', tz: 'Asia/Tokyo' })!).toISOString()).toBe(
      '2026-01-02T00:00:00.000Z',
    );
    expect(new Date(getNextMillis(from, { pattern: '0 9 * * *', tz: 'America/New_York' })!).toISOString()).toBe(
      '2026-01-01T14:00:00.000Z',
    );
    expect(getNextMillis(from, { every: 1000, endDate: from })).toBeUndefined();
  });
});

describe.each(stores)('job schedulers on $kind', (store) => {
  const { setup } = useQueues(store);

  it('creates one delayed job, replaces it on upsert, and lists the scheduler', async () => {
    const { queue } = setup();
    const first = await queue.upsertJobScheduler('tick', { every: 60_000 }, { name: 'tick-job', data: { a: 1 } });
    expect(await first?.getState()).toBe('delayed');
    expect(first?.name).toBe('tick-job');
    expect(first?.repeatJobKey).toBe('tick');
    const again = await queue.upsertJobScheduler('tick', { every: 120_000 }, { name: 'tick-job', data: { a: 2 } });
    expect(await queue.getDelayedCount()).toBe(1);
    expect(again?.data).toEqual({ a: 2 });
    const scheduler = await queue.getJobScheduler('tick');
    expect(scheduler).toMatchObject({ key: 'tick', name: 'tick-job', every: 120_000, template: { data: { a: 2 } } });
    expect(scheduler?.next).toBe(again!.timestamp + again!.delay);
    expect(await queue.getJobSchedulersCount()).toBe(1);
    expect((await queue.getJobSchedulers()).map((s) => s.key)).toEqual(['tick']);
    expect(await queue.removeJobScheduler('tick')).toBe(true);
    expect(await queue.removeJobScheduler('tick')).toBe(false);
    expect(await queue.getDelayedCount()).toBe(0);
  });

  it('produces each run once under two workers, up to its limit', async () => {
    const { queue, worker } = setup();
    const runs: string[] = [];
    const processor = async (job: { id?: string }) => {
      runs.push(job.id!);
    };
    worker(processor, { concurrency: 2 });
    worker(processor, { concurrency: 2 });
    await queue.upsertJobScheduler('fast', { every: 100, limit: 5, immediately: true }, { name: 'run' });
    await until(() => runs.length === 5, 15_000, 'five runs');
    await until(async () => (await queue.getJobScheduler('fast'))?.next === undefined, 5_000, 'the schedule to end');
    expect(new Set(runs).size).toBe(5);
    expect(await queue.getJobCountByTypes('delayed', 'waiting')).toBe(0);
    expect((await queue.getJobScheduler('fast'))?.iterationCount).toBe(5);
  });

  it('schedules a cron pattern in another time zone', async () => {
    const { queue } = setup();
    const job = await queue.upsertJobScheduler('nightly', { pattern: '0 3 * * *', tz: 'Europe/Berlin' }, { name: 'n' });
    const due = job!.timestamp + job!.delay;
    const berlinHour = Number(
      new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', hour12: false }).format(due),
    );
    expect(berlinHour).toBe(3);
    expect(due).toBeGreaterThan(Date.now());
  });

  it('rejects a scheduler without every or pattern, or with a bad pattern', async () => {
    const { queue } = setup();
    await expect(queue.upsertJobScheduler('x', {})).rejects.toThrow(/every.*pattern/);
    await expect(queue.upsertJobScheduler('x', { pattern: 'not a cron' })).rejects.toThrow(/not a valid cron/);
    expect(await queue.getJobSchedulersCount()).toBe(0);
  });
});
