import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type Job, type JobSchedulerJobOptions, ValidationError } from '../../src/index.js';
import { useQueues } from '../support/fixture.js';
import { stores, until } from '../support/stores.js';

const md5 = (text: string) => createHash('md5').update(text).digest('hex');
const repeatOf = (job: Job | undefined) => (job?.opts as JobSchedulerJobOptions | undefined)?.repeat;
/** The next multiple of `every` after `ms` (BullMQ v5's first `every` run without `immediately`). */
const nextSlot = (ms: number, every: number) => Math.floor(ms / every) * every + every;
const DAY = 86_400_000;

// BullMQ v5's repeatable jobs (queue.add with `repeat`), which Docket keeps as job schedulers.
describe.each(stores)('BullMQ v5 repeatable jobs on $kind', (store) => {
  const { setup } = useQueues(store);

  it("keys a pattern job by v5's hash of name, jobId, endDate, tz and pattern, and delays its first job", async () => {
    const { queue } = setup();
    const job = await queue.add('test', { foo: 'bar' }, { repeat: { pattern: '*/1 * * * * *' } });
    // The key BullMQ v5's own test expects for these options.
    expect(job.repeatJobKey).toBe('16db7a9b166154f5c636abf3c8fe3364');
    const next = Number(job.id!.split(':')[2]);
    expect(job.id).toBe(`repeat:16db7a9b166154f5c636abf3c8fe3364:${next}`);
    expect(next % 1000).toBe(0);
    expect(await job.getState()).toBe('delayed');
    expect(job.data).toEqual({ foo: 'bar' });

    const endDate = Date.now() + DAY;
    const other = await queue.add('first', {}, { repeat: { pattern: '10 * * * * *', endDate, tz: 'Africa/Accra' } });
    const key = md5(`first::${endDate}:Africa/Accra:10 * * * * *`);
    expect(other.repeatJobKey).toBe(key);
    expect(await queue.getRepeatableJobs(0, -1, true)).toEqual([
      {
        key: '16db7a9b166154f5c636abf3c8fe3364',
        name: 'test',
        endDate: null,
        tz: null,
        pattern: '*/1 * * * * *',
        every: null,
        next,
      },
      {
        key,
        name: 'first',
        endDate,
        tz: 'Africa/Accra',
        pattern: '10 * * * * *',
        every: null,
        next: Number(other.id!.split(':')[2]),
      },
    ]);
    // Newest first by default, and sliced like BullMQ's getters.
    expect((await queue.getRepeatableJobs()).map((r) => r.name)).toEqual(['first', 'test']);
    expect((await queue.getRepeatableJobs(0, 0)).map((r) => r.name)).toEqual(['first']);
  });

  it('places an `every` job at the next multiple of `every` (plus offset), with the v5 listing and default options', async () => {
    const { queue } = setup({ defaultJobOptions: { attempts: 3 } });
    const every = 60_000;
    const before = Date.now();
    const job = await queue.add('tick', { a: 1 }, { repeat: { every, tz: 'Europe/Copenhagen' } });
    const after = Date.now();
    const key = md5(`tick:::Europe/Copenhagen:${every}`);
    const next = Number(job.id!.split(':')[2]);
    expect(job.id).toBe(`repeat:${key}:${next}`);
    expect([nextSlot(before, every), nextSlot(after, every)]).toContain(next);
    expect(await job.getState()).toBe('delayed');
    expect(job.opts.attempts).toBe(3);
    expect(repeatOf(job)).toMatchObject({ every, count: 1 });
    expect(await queue.getRepeatableJobs()).toEqual([
      { key, name: 'tick', endDate: null, tz: 'Europe/Copenhagen', pattern: null, every: '60000', next },
    ]);

    const shifted = await queue.add('shifted', {}, { repeat: { every, offset: 5_000 } });
    const at = Number(shifted.id!.split(':')[2]);
    expect([nextSlot(before, every) + 5_000, nextSlot(Date.now(), every) + 5_000]).toContain(at);
  });

  it('runs an `every` job with `immediately` at once, then `every` ms after, and repeats', async () => {
    const { queue, worker } = setup();
    const every = 300;
    const job = await queue.add('now', { n: 1 }, { repeat: { every, immediately: true } });
    expect(job.delay).toBe(0);
    expect(await job.getState()).toBe('waiting');
    const first = Number(job.id!.split(':')[2]);
    const runs: Job[] = [];
    worker(async (j) => {
      runs.push(j);
    });
    await until(() => runs.length >= 3, 10_000, 'three runs');
    expect(runs[0].id).toBe(job.id);
    // The next run is `every` after the first, or a later slot when the first was taken late (a loaded machine).
    const second = Number(runs[1].id!.split(':')[2]);
    expect(runs[1].id).toBe(`repeat:${job.repeatJobKey}:${second}`);
    expect(second - first).toBeGreaterThanOrEqual(every);
    expect((second - first) % every).toBe(0);
    expect(runs.slice(0, 3).map((r) => repeatOf(r)?.count)).toEqual([1, 2, 3]);
    expect(runs.every((r) => r.name === 'now' && r.data.n === 1)).toBe(true);
  });

  it('runs an `every` job without `immediately` at multiples of `every`, again and again', async () => {
    const { queue, worker } = setup();
    const every = 400;
    const job = await queue.add('aligned', {}, { repeat: { every } });
    expect(await job.getState()).toBe('delayed');
    const runs: Job[] = [];
    worker(async (j) => {
      runs.push(j);
    });
    await until(() => runs.length >= 3, 10_000, 'three runs');
    const times = runs.slice(0, 3).map((r) => Number(r.id!.split(':')[2]));
    expect(times[0]).toBe(Number(job.id!.split(':')[2]));
    expect(times.every((t) => t % every === 0)).toBe(true);
    // `every` apart, or a multiple of it when a run was taken late (a loaded machine): slots are never shifted.
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(every);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(every);
    expect(runs[0].processedOn).toBeGreaterThanOrEqual(times[0]);
  });

  it('runs a `pattern` job with `immediately` at once, and reads the `cron` name of early v5', async () => {
    const { queue } = setup();
    const before = Date.now();
    const now = await queue.add('yearly', {}, { repeat: { pattern: '0 0 1 1 *', immediately: true } });
    // Due now, not next New Year (the schedule reads the clock twice, so its time may be a little after the add's).
    const after = Date.now();
    const at = Number(now.id!.split(':')[2]);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(after);
    // Its delay is at most the add's own duration (a loaded machine stretches it), never a wait for the pattern.
    expect(now.delay).toBeLessThanOrEqual(after - before);
    const old = await queue.add('cron', {}, { repeat: { cron: '0 0 1 1 *' } as never });
    expect(old.repeatJobKey).toBe(md5('cron::::0 0 1 1 *'));
    expect((await queue.getRepeatableJobs()).find((r) => r.name === 'cron')?.pattern).toBe('0 0 1 1 *');
  });

  it('stops after `limit` runs, and counts from `count`', async () => {
    const { queue, worker } = setup();
    const job = await queue.add('limited', {}, { repeat: { every: 200, limit: 2, immediately: true } });
    const runs: Job[] = [];
    worker(async (j) => {
      runs.push(j);
    });
    await until(() => runs.length >= 2, 10_000, 'two runs');
    // Taking the second job scheduled nothing after it.
    await until(async () => (await queue.getJobCounts('completed')).completed === 2, 10_000, 'two completed');
    expect(await queue.getDelayedCount()).toBe(0);
    expect(await queue.getWaitingCount()).toBe(0);
    expect(runs.map((r) => r.id)).toContain(job.id);

    const counted = await queue.add('counted', {}, { repeat: { pattern: '0 0 1 1 *', count: 4 } });
    expect(repeatOf(counted)?.count).toBe(5);
    expect(await queue.add('spent', {}, { repeat: { pattern: '0 0 1 1 *', count: 5, limit: 5 } })).toBeUndefined();
    expect((await queue.getRepeatableJobs()).map((r) => r.name)).not.toContain('spent');
  });

  it('makes opts.jobId part of the key, and removeRepeatable finds each by name, options and jobId', async () => {
    const { queue } = setup();
    const repeat = { pattern: '0 0 * * *' };
    const plain = await queue.add('daily', {}, { repeat });
    const withId = await queue.add('daily', {}, { repeat, jobId: 'xxxx' });
    expect(plain.repeatJobKey).toBe(md5('daily::::0 0 * * *'));
    expect(withId.repeatJobKey).toBe(md5('daily:xxxx:::0 0 * * *'));
    expect(withId.id).toBe(`repeat:${withId.repeatJobKey}:${plain.id!.split(':')[2]}`);
    expect(await queue.getDelayedCount()).toBe(2);

    expect(await queue.removeRepeatable('daily', repeat)).toBe(true);
    expect(await queue.getJob(plain.id!)).toBeUndefined();
    expect((await queue.getRepeatableJobs()).map((r) => r.key)).toEqual([withId.repeatJobKey]);
    expect(await queue.removeRepeatable('daily', repeat)).toBe(false);
    expect(await queue.removeRepeatable('daily', repeat, 'xxxx')).toBe(true);
    expect(await queue.getDelayedCount()).toBe(0);
    expect(await queue.getRepeatableJobs()).toEqual([]);
  });

  it('keeps one repeatable job and one delayed job per custom key, removable by key', async () => {
    const { queue } = setup();
    const first = await queue.add('test', { foo: 'bar' }, { repeat: { every: 10_000, key: 'mykey' } });
    expect(first.repeatJobKey).toBe('mykey');
    expect(first.id).toMatch(/^repeat:mykey:\d+$/);
    const second = await queue.add('test2', { qux: 'baz' }, { repeat: { every: 35_160, key: 'mykey' } });
    const listed = await queue.getRepeatableJobs();
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ key: 'mykey', name: 'test2', every: '35160' });
    const delayed = await queue.getDelayed();
    expect(delayed.map((j) => j.id)).toEqual([second.id]);
    expect(delayed[0].data).toEqual({ qux: 'baz' });

    expect(await queue.removeRepeatable('anything', { every: 1, key: 'mykey' })).toBe(true);
    expect(await queue.getDelayedCount()).toBe(0);
    await queue.add('again', {}, { repeat: { pattern: '0 0 * * *', key: 'mykey' } });
    expect(await queue.removeRepeatableByKey('mykey')).toBe(true);
    expect(await queue.removeRepeatableByKey('mykey')).toBe(false);
    expect(await queue.getRepeatableJobs()).toEqual([]);
  });

  it('adds the same options twice as one job, and refuses removing its delayed job directly', async () => {
    const { queue } = setup();
    const options = { repeat: { pattern: '0 1 * * *' } };
    const [a, b] = await Promise.all([queue.add('test', {}, options), queue.add('test', {}, options)]);
    expect(a.id).toBe(b.id);
    expect(await queue.count()).toBe(1);
    expect(await queue.getRepeatableJobs()).toHaveLength(1);
    const [delayed] = await queue.getDelayed();
    await expect(delayed.remove()).rejects.toThrow(
      `Job ${delayed.id} belongs to a job scheduler and cannot be removed directly. remove`,
    );
    // A repeatable job is a job scheduler: both APIs see it.
    expect((await queue.getJobSchedulers()).map((s) => s.key)).toEqual([a.repeatJobKey]);
    expect(await queue.removeJobScheduler(a.repeatJobKey!)).toBe(true);
    expect(await queue.getRepeatableJobs()).toEqual([]);
  });

  it("hashes keys with settings.repeatKeyHashAlgorithm, and refuses what v5 refuses with v5's words", async () => {
    const { queue } = setup({ settings: { repeatKeyHashAlgorithm: 'sha256' } });
    const job = await queue.add('jobName', {}, { repeat: { every: 50 }, jobId: 'jobId' });
    expect(job.repeatJobKey).toBe(createHash('sha256').update('jobName:jobId:::50').digest('hex'));
    await queue.removeRepeatableByKey(job.repeatJobKey!);

    await expect(queue.add('x', {}, { repeat: { every: 5000, pattern: '* * * * *' } })).rejects.toThrow(
      'Both .pattern and .every options are defined for this repeatable job',
    );
    await expect(queue.add('x', {}, { repeat: { every: 5000, endDate: Date.now() - 1000 } })).rejects.toThrow(
      'End date must be greater than current timestamp',
    );
    // v5's addBulk never took `repeat` (its BulkJobOptions leave it out): refused, nothing stored.
    await expect(
      queue.addBulk([{ name: 'x', data: {}, opts: { repeat: { every: 1000 } } as never }]),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(await queue.count()).toBe(0);
    expect(await queue.getRepeatableJobs()).toEqual([]);
  });
});
