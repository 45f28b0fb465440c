import { describe, expect, it } from 'vitest';
import { Queue, ValidationError } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { stores } from './support/stores.js';

describe.each(stores)('bad input on $kind', (store) => {
  const { setup, track } = useQueues(store);

  const badOptions: [string, Record<string, unknown>, RegExp][] = [
    ['negative delay', { delay: -1 }, /opts\.delay/],
    ['negative attempts', { attempts: -2 }, /opts\.attempts/],
    ['fractional attempts', { attempts: 1.5 }, /opts\.attempts/],
    ['non-integer priority', { priority: 1.5 }, /opts\.priority/],
    ['priority out of range', { priority: 2_097_153 }, /opts\.priority/],
    ['negative priority', { priority: -1 }, /opts\.priority/],
    ['unknown backoff type', { backoff: { type: 'sideways', delay: 10 } }, /opts\.backoff\.type/],
    ['jobId with a colon', { jobId: 'a:b' }, /opts\.jobId/],
    ['integer jobId', { jobId: '123' }, /opts\.jobId/],
    ['bad removeOnComplete', { removeOnComplete: -3 }, /opts\.removeOnComplete/],
    ['the removed debounce option', { debounce: { id: 'x' } }, /opts\.debounce/],
    ['legacy repeat options', { repeat: { every: 1000 } }, /opts\.repeat/],
    [
      'two parent failure policies',
      { failParentOnFailure: true, removeDependencyOnFailure: true },
      /cannot be used together/,
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

  it('adds nothing from a bulk with one bad job', async () => {
    const { queue } = setup();
    await expect(
      queue.addBulk([
        { name: 'ok', data: {} },
        { name: 'bad', data: {}, opts: { priority: -5 } },
      ]),
    ).rejects.toThrow(/opts\.priority/);
    expect(await queue.count()).toBe(0);
  });

  it('rejects empty queue names and names with a colon', () => {
    const connection = store.connection();
    expect(() => track(new Queue('', { connection }))).toThrow(/non-empty/);
    expect(() => track(new Queue('a:b', { connection }))).toThrow(/must not contain ":"/);
  });

  it('rejects data over sizeLimit', async () => {
    const { queue } = setup();
    await expect(queue.add('x', { s: 'x'.repeat(100) }, { sizeLimit: 50 })).rejects.toThrow(/sizeLimit/);
  });
});
