import { describe, expect, it } from 'vitest';
import { QueueEvents, QueueEventsProducer } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { stores, until } from './support/stores.js';

describe.each(stores)('QueueEventsProducer on $kind', (store) => {
  const { setup, track } = useQueues(store);

  it("delivers the user's own events to every QueueEvents of the queue, between the queue's own", async () => {
    const { queue, connection, name } = setup();
    const events = track(new QueueEvents(name, { connection }));
    const producer = track(new QueueEventsProducer(name, { connection }));
    await events.waitUntilReady();
    const seen: [string, unknown, string][] = [];
    events.on('example', (args: unknown, id: string) => seen.push(['example', args, id]));
    events.on('added', (args: { jobId: string }, id: string) => seen.push(['added', args.jobId, id]));
    await producer.publishEvent({ eventName: 'example', custom: 'value', n: 3 });
    await queue.add('job', {});
    await producer.publishEvent({ eventName: 'example', custom: 'again' });
    await until(() => seen.length === 3, 10_000, 'three events');
    expect(seen.map(([e, args]) => [e, args])).toEqual([
      ['example', { custom: 'value', n: '3' }],
      ['added', '1'],
      ['example', { custom: 'again' }],
    ]);
    // Event ids grow as the log's do.
    expect(new Set(seen.map(([, , id]) => id)).size).toBe(3);
  });

  it('keeps about the newest maxEvents of the log, and refuses an event without a name', async () => {
    const { queue, connection, name } = setup();
    const producer = track(new QueueEventsProducer(name, { connection }));
    // Redis trims approximately (MAXLEN ~: whole nodes of ~100 entries), as BullMQ; the SQL logs exactly.
    const published = store.kind === 'redis' ? 300 : 30;
    for (let i = 0; i < published; i++) await producer.publishEvent({ eventName: 'tick', i }, 5);
    const left = await queue.trimEvents(0);
    if (store.kind === 'redis') expect(left).toBeLessThan(published - 100);
    else expect(left).toBe(5);
    await expect(producer.publishEvent({ eventName: '' })).rejects.toThrow(/eventName/);
    // The log's own names: a reader would take them for its records and stop at them.
    await expect(producer.publishEvent({ eventName: 'batch', events: '[]' })).rejects.toThrow(/'batch'/);
    await expect(producer.publishEvent({ eventName: 'x', id: 'abc' })).rejects.toThrow(/'id'/);
    await expect(producer.publishEvent({ eventName: 'x', event: 'y' })).rejects.toThrow(/'event'/);
    await expect(producer.publishEvent({ eventName: 'x' }, 0)).rejects.toThrow(/maxEvents/);
  });
});
