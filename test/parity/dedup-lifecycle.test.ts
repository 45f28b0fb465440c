import { describe, expect, it } from 'vitest';
import { QueueEvents } from '../../src/index.js';
import { useQueues } from '../support/fixture.js';
import { stores, until } from '../support/stores.js';

// When a deduplication id is released, kept or handed on, as BullMQ does it.

describe.each(stores)('deduplication ids over a job’s life on $kind', (store) => {
  const { setup, track } = useQueues(store);

  async function eventsOf(name: string, connection: string) {
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    const seen: { event: string; args: Record<string, string> }[] = [];
    for (const event of ['deduplicated', 'removed']) {
      events.on(event, (args: Record<string, string>) => seen.push({ event, args }));
    }
    return seen;
  }

  it('uses up an auto id for a deduplicated add', async () => {
    const { queue } = setup();
    const first = await queue.add('x', {}, { deduplication: { id: 'u' } });
    expect((await queue.add('x', {}, { deduplication: { id: 'u' } })).id).toBe(first.id);
    expect((await queue.add('x', {})).id).toBe(String(Number(first.id) + 2));
  });

  it('releases the id of a removed job, but not an id a newer job holds', async () => {
    const { queue, worker } = setup();
    const first = await queue.add('x', {}, { deduplication: { id: 'r', ttl: 60_000 } });
    await first.remove();
    const second = await queue.add('x', {}, { deduplication: { id: 'r', ttl: 60_000 } });
    expect(second.id).not.toBe(first.id);

    const done = await queue.add('x', {}, { deduplication: { id: 's' } });
    const w = worker(async () => 'ok');
    await until(async () => (await queue.getJobState(done.id!)) === 'completed', 10_000, 'the job to finish');
    await w.close();
    const holder = await queue.add('x', {}, { deduplication: { id: 's' } });
    expect(holder.id).not.toBe(done.id);
    await done.remove();
    expect((await queue.add('x', {}, { deduplication: { id: 's' } })).id).toBe(holder.id);
  });

  it('releases the ids of jobs that clean, drain and obliterate remove', async () => {
    const { queue } = setup();
    const cleaned = await queue.add('x', {}, { deduplication: { id: 'c', ttl: 60_000 } });
    expect(await queue.clean(0, 0, 'wait')).toEqual([cleaned.id]);
    expect((await queue.add('x', {}, { deduplication: { id: 'c', ttl: 60_000 } })).id).not.toBe(cleaned.id);
    const drained = await queue.add('x', {}, { delay: 60_000, deduplication: { id: 'd', ttl: 60_000 } });
    await queue.drain(true);
    expect((await queue.add('x', {}, { deduplication: { id: 'd', ttl: 60_000 } })).id).not.toBe(drained.id);
    await queue.obliterate({ force: true });
    expect(await queue.getDeduplicationJobId('c')).toBeNull();
    expect(await queue.getDeduplicationJobId('d')).toBeNull();
  });

  it('replaces a delayed job keeping the ttl left, and reports which job it replaced', async () => {
    const { queue, connection, name } = setup();
    const seen = await eventsOf(name, connection);
    const dedup = { id: 'p', ttl: 3000, replace: true };
    const firstAddedAt = Date.now();
    const first = await queue.add('x', { v: 1 }, { delay: 60_000, deduplication: dedup });
    await new Promise((r) => setTimeout(r, 1500)); // let part of the ttl run out
    const secondAddedAt = Date.now();
    const second = await queue.add('x', { v: 2 }, { delay: 60_000, deduplication: dedup });
    expect(second.id).not.toBe(first.id);
    expect(await queue.getDeduplicationJobId('p')).toBe(second.id);
    await until(() => seen.length === 2, 10_000, 'removed and deduplicated');
    expect(seen).toEqual([
      { event: 'removed', args: expect.objectContaining({ jobId: first.id, prev: 'delayed' }) },
      {
        event: 'deduplicated',
        args: expect.objectContaining({ jobId: second.id, deduplicationId: 'p', deduplicatedJobId: first.id }),
      },
    ]);
    // The id lapses when the first job's ttl ends, not a full ttl after the replacement.
    await until(async () => (await queue.getDeduplicationJobId('p')) === null, 10_000, 'the ttl to lapse');
    expect(Date.now()).toBeGreaterThanOrEqual(firstAddedAt + 3000);
    expect(Date.now()).toBeLessThan(secondAddedAt + 3000);
  });

  it('refuses a replace silently when the job is no longer delayed', async () => {
    const { queue, connection, name } = setup();
    const seen = await eventsOf(name, connection);
    const waiting = await queue.add('x', {}, { deduplication: { id: 'w', replace: true } });
    expect((await queue.add('x', {}, { deduplication: { id: 'w', replace: true } })).id).toBe(waiting.id);
    // A plain refused add after it is reported; the refused replace before it was not.
    await queue.add('x', {}, { jobId: 'sentinel', deduplication: { id: 'w' } });
    await until(() => seen.some((e) => e.args.deduplicatedJobId === 'sentinel'), 10_000, 'the deduplicated event');
    expect(seen).toHaveLength(1);
    expect(await queue.getWaitingCount()).toBe(1);
  });

  it('reports an id whose ttl ran out as not removed', async () => {
    const { queue } = setup();
    const job = await queue.add('x', {}, { deduplication: { id: 'e', ttl: 100 } });
    await until(async () => (await queue.getDeduplicationJobId('e')) === null, 10_000, 'the ttl to lapse');
    expect(await job.removeDeduplicationKey()).toBe(false);
    expect(await queue.removeDeduplicationKey('e')).toBe(0);
  });

  it('holds a keepLastIfActive id past its ttl while the job is active', async () => {
    const { queue, worker } = setup();
    const dedup = { id: 'k', ttl: 200, keepLastIfActive: true };
    const first = await queue.add('x', { v: 1 }, { deduplication: dedup });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const values: number[] = [];
    worker(async (job) => {
      values.push(job.data.v);
      if (job.data.v === 1) await gate;
    });
    try {
      await until(async () => (await queue.getJobState(first.id!)) === 'active', 10_000, 'the first job to start');
      await new Promise((r) => setTimeout(r, 400)); // past the ttl
      expect((await queue.add('x', { v: 2 }, { deduplication: dedup })).id).toBe(first.id);
      expect(await queue.getWaitingCount()).toBe(0);
    } finally {
      release();
    }
    await until(() => values.length === 2, 10_000, 'the kept job');
    expect(values).toEqual([1, 2]);
  });
});
