import { describe, expect, it } from 'vitest';
import { Queue, ValidationError, type WorkerOptions } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { stores } from './support/stores.js';

describe.each(stores)('bad input on $kind', (store) => {
  const { setup, track } = useQueues(store);

  // Where BullMQ refuses an option, the text is BullMQ's (user code matches on it).
  const badOptions: [string, Record<string, unknown>, RegExp | string][] = [
    ['negative delay', { delay: -1 }, /opts\.delay/],
    ['negative attempts', { attempts: -2 }, /opts\.attempts/],
    ['fractional attempts', { attempts: 1.5 }, /opts\.attempts/],
    ['non-integer priority', { priority: 1.5 }, 'Priority should not be float'],
    ['priority out of range', { priority: 2_097_152 }, 'Priority should be between 0 and 2097151'],
    ['negative priority', { priority: -1 }, 'Priority should be between 0 and 2097151'],
    ['a backoff without a type', { backoff: { type: '', delay: 10 } }, /opts\.backoff\.type/],
    [
      'backoff jitter above 1',
      { backoff: { type: 'fixed', delay: 10, jitter: 1.5 } },
      'Jitter should be between 0 and 1',
    ],
    [
      'backoff jitter below 0',
      { backoff: { type: 'fixed', delay: 10, jitter: -0.1 } },
      'Jitter should be between 0 and 1',
    ],
    ['jobId with a colon', { jobId: 'a:b' }, 'Custom Id cannot contain :'],
    ['integer jobId', { jobId: '123' }, 'Custom Id cannot be integers'],
    ['jobId "0"', { jobId: '0' }, "JobId cannot be '0' or start with '0:'"],
    ['a jobId starting with "0:"', { jobId: '0:x' }, "JobId cannot be '0' or start with '0:'"],
    ['bad removeOnComplete', { removeOnComplete: -3 }, /opts\.removeOnComplete/],
    [
      'the removed debounce option',
      { debounce: { id: 'x' } },
      'Debounce option has been removed. Use deduplication option instead',
    ],
    // add takes BullMQ v5's `repeat` (test/parity/repeatable-v5.test.ts); an invalid one is refused.
    [
      'repeat with both pattern and every',
      { repeat: { every: 1000, pattern: '* * * * *' } },
      /Both .pattern and .every/,
    ],
    ['an empty deduplication id', { deduplication: { id: '' } }, 'Deduplication id must be provided'],
    [
      'deduplication with a parent',
      { deduplication: { id: 'd' }, parent: { id: 'p', queue: 'bull:parents' } },
      'Deduplication and parent options cannot be used together',
    ],
    [
      'two parent failure policies',
      { failParentOnFailure: true, removeDependencyOnFailure: true },
      'The following options cannot be used together: removeDependencyOnFailure, failParentOnFailure',
    ],
    [
      'three parent failure policies',
      { ignoreDependencyOnFailure: true, continueParentOnFailure: true, failParentOnFailure: true },
      'The following options cannot be used together: failParentOnFailure, continueParentOnFailure, ignoreDependencyOnFailure',
    ],
  ];

  it.each(badOptions)('rejects %s, naming the field, and stores nothing', async (_label, opts, message) => {
    const { queue } = setup();
    await queue.add('keep', { v: 1 });
    await expect(queue.add('x', {}, opts)).rejects.toThrow(message);
    await expect(queue.add('x', {}, opts)).rejects.toBeInstanceOf(ValidationError);
    expect(await queue.count()).toBe(1);
    expect((await queue.getJob('1'))?.data).toEqual({ v: 1 });
  });

  it('rejects data that cannot be stored as JSON', async () => {
    const { queue } = setup();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(queue.add('x', { n: 10n })).rejects.toThrow(/data cannot be stored as JSON/);
    await expect(queue.add('x', circular)).rejects.toThrow(/data cannot be stored as JSON/);
    expect(await queue.count()).toBe(0);
  });

  it("refuses jobId '0' in a bulk with BullMQ's words for integer ids (add has its own)", async () => {
    const { queue } = setup();
    await expect(queue.addBulk([{ name: 'zero', data: {}, opts: { jobId: '0' } }])).rejects.toThrow(
      /^Custom Id cannot be integers$/,
    );
    expect(await queue.count()).toBe(0);
  });

  it('adds nothing from a bulk with one bad job', async () => {
    const { queue } = setup();
    await expect(
      queue.addBulk([
        { name: 'ok', data: {} },
        { name: 'bad', data: {}, opts: { priority: -5 } },
      ]),
    ).rejects.toThrow('Priority should be between 0 and 2097151');
    expect(await queue.count()).toBe(0);
  });

  it('rejects empty queue names and names with a colon', () => {
    const connection = store.connection();
    expect(() => track(new Queue('', { connection }))).toThrow('Queue name must be provided');
    expect(() => track(new Queue('a:b', { connection }))).toThrow('Queue name cannot contain :');
  });

  it('rejects data over sizeLimit', async () => {
    const { queue } = setup();
    await expect(queue.add('big', { s: 'x'.repeat(100) }, { sizeLimit: 50 })).rejects.toThrow(
      'The size of job big exceeds the limit 50 bytes',
    );
    expect(await queue.count()).toBe(0);
  });

  it('ignores an empty jobId: the job gets the next number', async () => {
    const { queue } = setup();
    await queue.add('first', {});
    const job = await queue.add('second', {}, { jobId: '' });
    expect(job.id).toBe('2');
    expect((await queue.getJob('2'))?.name).toBe('second');
  });

  it('accepts the highest priority and any backoff type name', async () => {
    const { queue } = setup();
    const top = await queue.add('top', {}, { priority: 2_097_151 });
    expect(await queue.getJobState(top.id!)).toBe('prioritized');
    await queue.add('custom', {}, { backoff: { type: 'linear', delay: 5 } });
    expect(await queue.count()).toBe(2);
  });

  it.each([
    ['concurrency 0', { concurrency: 0 }, 'concurrency must be a finite number greater than 0'],
    ['concurrency NaN', { concurrency: Number.NaN }, 'concurrency must be a finite number greater than 0'],
    ['negative maxStalledCount', { maxStalledCount: -1 }, 'maxStalledCount must be greater or equal than 0'],
    ['negative maxStartedAttempts', { maxStartedAttempts: -1 }, 'maxStartedAttempts must be greater or equal than 0'],
    ['stalledInterval 0', { stalledInterval: 0 }, 'stalledInterval must be greater than 0'],
    ['drainDelay 0', { drainDelay: 0 }, 'drainDelay must be greater than 0'],
  ])('refuses a worker with %s, in BullMQ words', (_label, wopts, message) => {
    const { worker } = setup();
    expect(() => worker(async () => undefined, wopts as WorkerOptions)).toThrow(message);
  });
});
