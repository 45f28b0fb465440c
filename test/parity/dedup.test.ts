import { describe, expect, it } from 'vitest';
import { QueueEvents } from '../../src/index.js';
import { useQueues } from '../support/fixture.js';
import { stores, until } from '../support/stores.js';

describe.each(stores)('deduplication on $kind', (store) => {
  const { setup, track } = useQueues(store);

  it('returns the existing job while it is pending, then frees the id when it finishes', async () => {
    const { queue, worker, connection, name } = setup();
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    const seen: unknown[] = [];
    events.on('deduplicated', (args) => seen.push(args));
    const first = await queue.add('x', { v: 1 }, { deduplication: { id: 'user-7' } });
    const second = await queue.add('x', { v: 2 }, { deduplication: { id: 'user-7' } });
    expect(second.id).toBe(first.id);
    expect(await queue.count()).toBe(1);
    expect(await queue.getDeduplicationJobId('user-7')).toBe(first.id);
    await until(() => seen.length === 1, 10_000, 'the deduplicated event');
    expect(seen[0]).toMatchObject({ jobId: first.id, deduplicationId: 'user-7' });
    const w = worker(async () => 'ok');
    await new Promise((resolve) => w.once('completed', resolve));
    await until(async () => (await queue.getDeduplicationJobId('user-7')) === null, 10_000, 'the id to be freed');
    const third = await queue.add('x', { v: 3 }, { deduplication: { id: 'user-7' } });
    expect(third.id).not.toBe(first.id);
  });

  it('keeps deduplicating for ttl even after the job finished, and extend restarts the ttl', async () => {
    const { queue, worker } = setup();
    const first = await queue.add('x', {}, { deduplication: { id: 'd', ttl: 2000 } });
    const w = worker(async () => 'done');
    await until(async () => (await queue.getJobState(first.id!)) === 'completed', 10_000, 'the first job to finish');
    await w.close();
    const second = await queue.add('x', {}, { deduplication: { id: 'd', ttl: 2000 } });
    expect(second.id).toBe(first.id);
    await until(async () => (await queue.getDeduplicationJobId('d')) === null, 10_000, 'the ttl to lapse');
    const fresh = await queue.add('x', {}, { deduplication: { id: 'd', ttl: 2000, extend: true } });
    expect(fresh.id).not.toBe(first.id);
    const addedAt = Date.now();
    // Each refused add within the ttl restarts it.
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 700));
      expect((await queue.add('x', {}, { deduplication: { id: 'd', ttl: 2000, extend: true } })).id).toBe(fresh.id);
    }
    expect(Date.now() - addedAt).toBeGreaterThanOrEqual(2000);
    expect(await queue.getDeduplicationJobId('d')).toBe(fresh.id);
  });

  it('replaces a delayed job with replace', async () => {
    const { queue } = setup();
    const first = await queue.add('x', { v: 1 }, { delay: 60_000, deduplication: { id: 'r', replace: true } });
    const second = await queue.add('x', { v: 2 }, { delay: 60_000, deduplication: { id: 'r', replace: true } });
    expect(second.id).not.toBe(first.id);
    expect(await queue.getJob(first.id!)).toBeUndefined();
    expect((await queue.getJob(second.id!))?.data).toEqual({ v: 2 });
    expect(await queue.getDeduplicationJobId('r')).toBe(second.id);
  });

  it('keeps the last refused job while the first is active, and adds it afterwards', async () => {
    const { queue, worker } = setup();
    const first = await queue.add('x', { v: 1 }, { deduplication: { id: 'k', keepLastIfActive: true } });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const values: number[] = [];
    worker(async (job) => {
      values.push(job.data.v);
      if (job.data.v === 1) await gate;
    });
    await until(async () => (await queue.getJobState(first.id!)) === 'active', 10_000, 'the first job to start');
    await queue.add('x', { v: 2 }, { deduplication: { id: 'k', keepLastIfActive: true } });
    await queue.add('x', { v: 3 }, { deduplication: { id: 'k', keepLastIfActive: true } });
    expect(await queue.getWaitingCount()).toBe(0);
    release();
    await until(() => values.length === 2, 10_000, 'the kept job');
    expect(values).toEqual([1, 3]);
  });

  it('frees the id with removeDeduplicationKey and job.removeDeduplicationKey', async () => {
    const { queue } = setup();
    const job = await queue.add('x', {}, { deduplication: { id: 'm' } });
    expect(await queue.removeDeduplicationKey('m')).toBe(1);
    expect(await queue.getDeduplicationJobId('m')).toBeNull();
    const other = await queue.add('x', {}, { deduplication: { id: 'n' } });
    expect(await other.removeDeduplicationKey()).toBe(true);
    expect((await queue.add('x', {}, { deduplication: { id: 'n' } })).id).not.toBe(other.id);
    void job;
  });
});
