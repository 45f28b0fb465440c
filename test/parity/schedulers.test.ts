import { describe, expect, it } from 'vitest';
import { getNextMillis, type Job, type JobSchedulerJobOptions } from '../../src/index.js';
import { useQueues } from '../support/fixture.js';
import { stores, until } from '../support/stores.js';

const repeatOf = (job: Job | undefined) => (job?.opts as JobSchedulerJobOptions | undefined)?.repeat;

describe('getNextMillis', () => {
  it('gives the next multiple of `every` (this one with immediately) and cron times in a time zone', () => {
    expect(getNextMillis(10_500, { every: 1000 })).toBe(11_000);
    expect(getNextMillis(10_500, { every: 1000, immediately: true })).toBe(10_000);
    const from = Date.parse('2026-01-01T00:00:00Z');
    expect(new Date(getNextMillis(from, { pattern: '0 9 * * *', tz: 'Asia/Tokyo' })!).toISOString()).toBe(
      '2026-01-02T00:00:00.000Z',
    );
    expect(new Date(getNextMillis(from, { pattern: '0 9 * * *', tz: 'America/New_York' })!).toISOString()).toBe(
      '2026-01-01T14:00:00.000Z',
    );
    expect(() => getNextMillis(from, { every: 1, pattern: '* * * * *' })).toThrow(/Both .pattern and .every/);
  });
});

describe.each(stores)('job schedulers on $kind', (store) => {
  const { setup } = useQueues(store);

  it('runs an `every` scheduler at once, then records it as BullMQ shows it', async () => {
    const { queue, worker } = setup();
    const before = Date.now();
    const first = await queue.upsertJobScheduler('tick', { every: 10_000 }, { name: 'tick-job', data: { a: 1 } });
    expect(first?.id).toBe(`repeat:tick:${first!.timestamp}`);
    expect(first?.delay).toBe(0);
    expect(await first?.getState()).toBe('waiting');
    expect(repeatOf(first)).toMatchObject({ every: 10_000, count: 1 });
    const ran = new Promise<Job>((resolve) => worker(async (job) => resolve(job)));
    const job = await ran;
    expect(job.id).toBe(first!.id);
    expect(job.processedOn! - before).toBeLessThan(2_000);
    // Taking the job added the next iteration, `every` after it.
    const scheduler = await until(async () => {
      const s = await queue.getJobScheduler('tick');
      return s?.iterationCount === 2 && s;
    });
    expect(scheduler).toEqual({
      key: 'tick',
      name: 'tick-job',
      every: 10_000,
      next: first!.timestamp + 10_000,
      iterationCount: 2,
      offset: first!.timestamp % 10_000,
      template: { data: { a: 1 } },
    });
    const [next] = await queue.getDelayed();
    expect(next.id).toBe(`repeat:tick:${first!.timestamp + 10_000}`);
    expect(repeatOf(next)?.count).toBe(2);
  });

  it('runs each iteration once under two workers, up to its limit', async () => {
    const { queue, worker } = setup();
    const runs: Job[] = [];
    const processor = async (job: Job) => {
      runs.push(job);
    };
    worker(processor, { concurrency: 2 });
    worker(processor, { concurrency: 2 });
    await queue.upsertJobScheduler('fast', { every: 150, limit: 4 }, { name: 'run' });
    await until(() => runs.length === 4, 15_000, 'four runs');
    await until(async () => (await queue.getActiveCount()) === 0, 5_000, 'the last run to finish');
    expect(new Set(runs.map((j) => j.id)).size).toBe(4);
    expect(runs.map((j) => repeatOf(j)?.count).sort()).toEqual([1, 2, 3, 4]);
    // Iterations fall on one grid of `every` steps; a worker that takes one late skips missed slots.
    const due = runs.map((j) => (j.opts as JobSchedulerJobOptions).prevMillis as number).sort((a, b) => a - b);
    for (let i = 1; i < due.length; i++) {
      expect(due[i] - due[i - 1]).toBeGreaterThanOrEqual(150);
      expect((due[i] - due[0]) % 150).toBe(0);
    }
    expect(await queue.getJobCountByTypes('delayed', 'waiting')).toBe(0);
    expect((await queue.getJobScheduler('fast'))?.iterationCount).toBe(4);
  });

  it('keeps one job per iteration under load: parallel upserts, several schedulers and workers', async () => {
    const { queue, worker } = setup();
    await Promise.all(
      Array.from({ length: 10 }, (_, i) => queue.upsertJobScheduler('same', { every: 1000 * (i + 1) })),
    );
    expect(await queue.getJobSchedulersCount()).toBe(1);
    expect(await queue.getJobCountByTypes('waiting', 'delayed')).toBe(1);
    await queue.removeJobScheduler('same');
    await queue.obliterate({ force: true });

    const runs = new Map<string, number[]>();
    const processor = async (job: Job) => {
      const key = job.repeatJobKey as string;
      runs.set(key, [...(runs.get(key) ?? []), repeatOf(job)?.count as number]);
    };
    for (let i = 0; i < 3; i++) worker(processor, { concurrency: 3 });
    const ids = ['a', 'b', 'c', 'd', 'e'];
    await Promise.all(ids.map((id) => queue.upsertJobScheduler(id, { every: 60, limit: 5 }, { name: id })));
    await until(() => ids.every((id) => runs.get(id)?.length === 5), 20_000, 'five runs of each scheduler');
    await until(async () => (await queue.getActiveCount()) === 0, 5_000, 'the last runs to finish');
    for (const id of ids) {
      expect(runs.get(id)?.sort()).toEqual([1, 2, 3, 4, 5]);
      expect((await queue.getJobScheduler(id))?.iterationCount).toBe(5);
    }
    expect(await queue.getJobCountByTypes('waiting', 'delayed')).toBe(0);
    expect(await queue.getCompletedCount()).toBe(25);
  });

  it('replaces the waiting or delayed iteration on upsert; a changed interval starts now', async () => {
    const { queue } = setup();
    await queue.upsertJobScheduler('p', { pattern: '0 0 1 1 *' }, { name: 'old', data: { v: 1 } });
    await queue.upsertJobScheduler(
      'p',
      { pattern: '0 0 1 2 *' },
      { name: 'new', data: { v: 2 }, opts: { priority: 3 } },
    );
    const [delayed] = await queue.getDelayed();
    expect(await queue.getDelayedCount()).toBe(1);
    expect(delayed).toMatchObject({ name: 'new', data: { v: 2 } });
    expect(new Date(delayed.timestamp + delayed.delay).getMonth()).toBe(1);
    expect(await queue.getJobScheduler('p')).toMatchObject({
      pattern: '0 0 1 2 *',
      offset: 0,
      iterationCount: 1,
      template: { data: { v: 2 }, opts: { priority: 3 } },
    });

    await queue.upsertJobScheduler('e', { every: 60_000 });
    await queue.upsertJobScheduler('e', { every: 60_000 }, { data: { v: 2 } });
    const waiting = await queue.getWaiting();
    expect(waiting.map((j) => j.data)).toEqual([{ v: 2 }]);
    const changed = await queue.upsertJobScheduler('e', { every: 30_000 });
    expect(changed?.delay).toBe(0);
    expect((await queue.getWaiting()).map((j) => j.id)).toEqual([changed?.id]);
  });

  it('honours startDate, offset and a past endDate as BullMQ does', async () => {
    const { queue } = setup();
    const start = Date.now() + 60_000;
    const later = await queue.upsertJobScheduler('later', { every: 1000, startDate: new Date(start) });
    expect(later!.timestamp + later!.delay).toBe(start);
    expect(await later?.getState()).toBe('delayed');

    const every = 60_000;
    const offset = 7_000;
    await queue.upsertJobScheduler('aligned', { every, offset });
    const aligned = await queue.getJobScheduler('aligned');
    expect((aligned!.next! - offset) % every).toBe(0);
    expect(aligned!.next).toBeGreaterThan(Date.now() - 1000);
    expect(aligned?.offset).toBe(offset);

    await expect(queue.upsertJobScheduler('over', { every: 100, endDate: Date.now() - 1000 })).rejects.toThrow(
      'End date must be greater than current timestamp',
    );
    await expect(queue.upsertJobScheduler('x', { every: 100, immediately: true, startDate: start })).rejects.toThrow(
      'Both .immediately and .startDate options are defined for this repeatable job',
    );
    await expect(queue.upsertJobScheduler('x', {})).rejects.toThrow(
      'Either .pattern or .every options must be defined for this repeatable job',
    );
    await expect(queue.upsertJobScheduler('x', { every: 5, pattern: '* * * * *' })).rejects.toThrow(
      'Both .pattern and .every options are defined for this repeatable job',
    );
    expect(await queue.getJobSchedulersCount()).toBe(2);
  });

  it('merges defaultJobOptions into the template and uses a custom repeatStrategy', async () => {
    const seen: string[] = [];
    const { queue } = setup({
      defaultJobOptions: { attempts: 3 },
      settings: {
        repeatStrategy: (millis, opts, name) => {
          seen.push(`${opts.pattern}:${name}`);
          return millis + 5_000;
        },
      },
    });
    const job = await queue.upsertJobScheduler('custom', { pattern: 'every-5s' }, { name: 'c', opts: { priority: 2 } });
    expect(seen).toEqual(['every-5s:c']);
    expect(job?.delay).toBe(5_000);
    expect(job?.opts).toMatchObject({ attempts: 3, priority: 2, repeatJobKey: 'custom' });
    expect((await queue.getJobScheduler('custom'))?.template).toEqual({ opts: { attempts: 3, priority: 2 } });
  });

  it('removes a scheduler with its delayed iteration, and refuses to reuse a running iteration id', async () => {
    const { queue, worker } = setup();
    await queue.upsertJobScheduler('gone', { pattern: '0 0 1 1 *' });
    expect(await queue.removeJobScheduler('gone')).toBe(true);
    expect(await queue.removeJobScheduler('gone')).toBe(false);
    expect(await queue.getDelayedCount()).toBe(0);

    // A pattern iteration whose job id is held by a running job: BullMQ's collision error.
    const first = await queue.upsertJobScheduler('busy', { pattern: '0 0 1 1 *' });
    await first!.promote();
    const w = worker(null);
    const taken = await w.getNextJob('tok');
    expect(taken?.id).toBe(first!.id);
    await queue.removeJobScheduler('busy');
    await expect(queue.upsertJobScheduler('busy', { pattern: '0 0 1 1 *' })).rejects.toThrow(
      'Cannot create job scheduler iteration - job ID already exists. addJobScheduler',
    );
    expect(await queue.getJobSchedulersCount()).toBe(0);
  });

  it('has the jobScheduler getter on Queue and Worker, forwarding its errors', async () => {
    const { queue, worker } = setup();
    const scheduler = await queue.jobScheduler;
    await queue.upsertJobScheduler('a:b:c:d:e:f', { every: 1000 });
    expect(await scheduler.isJobScheduler('a:b:c:d:e:f')).toBe(true);
    expect(await scheduler.isJobScheduler('nope')).toBe(false);
    const errors: Error[] = [];
    queue.on('error', (err) => errors.push(err));
    scheduler.emit('error', new Error('boom'));
    expect(errors.map((e) => e.message)).toEqual(['boom']);
    const w = worker(null);
    expect(await (await w.jobScheduler).isJobScheduler('a:b:c:d:e:f')).toBe(true);
  });
});
