import { describe, expect, it, vi } from 'vitest';
import { QueueEvents } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { stores, until } from './support/stores.js';

describe.each(stores)('QueueEvents on $kind', (store) => {
  const { setup, track } = useQueues(store);

  it("delivers a job's life with BullMQ's payloads", async () => {
    const { queue, worker, connection, name } = setup();
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    const seen: [string, Record<string, unknown>][] = [];
    for (const e of ['added', 'waiting', 'active', 'progress', 'completed', 'failed', 'delayed', 'retries-exhausted']) {
      events.on(e, (args: Record<string, unknown>) => seen.push([e, args]));
    }
    await queue.add('ok', { n: 1 });
    await queue.add('bad', {}, { attempts: 2, backoff: 50 });
    worker(async (job) => {
      if (job.name === 'bad') throw new Error('nope');
      await job.updateProgress({ half: true });
      return { sum: 3 };
    });
    await until(() => seen.some(([e]) => e === 'retries-exhausted'), 10_000, 'retries-exhausted');
    await until(() => seen.some(([e]) => e === 'completed'), 10_000, 'completed');
    const of = (name: string) => seen.filter(([e]) => e === name).map(([, a]) => a);
    expect(of('added')).toEqual([
      { jobId: '1', name: 'ok' },
      { jobId: '2', name: 'bad' },
    ]);
    expect(of('progress')).toEqual([{ jobId: '1', data: { half: true } }]);
    expect(of('completed')).toEqual([{ jobId: '1', returnvalue: { sum: 3 }, prev: 'active' }]);
    expect(of('failed')).toEqual([{ jobId: '2', failedReason: 'nope', prev: 'active' }]);
    expect(of('delayed').map((a) => a.jobId)).toEqual(['2']);
    expect(of('retries-exhausted')).toEqual([{ jobId: '2', attemptsMade: '2' }]);
    expect(of('active').every((a) => a.prev === 'waiting')).toBe(true);
  });

  it('tells of an immediate retry as waiting with prev active, as BullMQ', async () => {
    const { queue, worker, connection, name } = setup();
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    const waiting: Record<string, unknown>[] = [];
    events.on('waiting', (args: Record<string, unknown>) => waiting.push(args));
    await queue.add('twice', {}, { attempts: 2, backoff: 0 });
    worker(async (job) => {
      if (job.attemptsMade === 0) throw new Error('not yet');
      return 'done';
    });
    await until(async () => (await queue.getJobState('1')) === 'completed', 10_000, 'the second attempt');
    await until(() => waiting.length === 2, 10_000, 'two waiting events');
    expect(waiting).toEqual([{ jobId: '1' }, { jobId: '1', prev: 'active' }]);
  });

  it('reports each job of a batch on its own: moves many jobs make in one call (completions, takes, promotions)', async () => {
    const { queue, worker, connection, name } = setup();
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    const seen: [string, Record<string, string>][] = [];
    for (const e of ['waiting', 'active', 'completed']) {
      events.on(e, (args: Record<string, string>) => seen.push([e, args]));
    }
    await queue.addBulk(Array.from({ length: 30 }, (_, i) => ({ name: 'now', data: { i } })));
    await queue.addBulk(Array.from({ length: 10 }, (_, i) => ({ name: 'soon', data: { i }, opts: { delay: 200 } })));
    worker(async (job) => job.data.i, { concurrency: 10 });
    await until(() => seen.filter(([e]) => e === 'completed').length === 40, 15_000, '40 completed events');
    const ids = (e: string) => seen.filter(([n]) => n === e).map(([, a]) => a.jobId);
    const all = Array.from({ length: 40 }, (_, i) => String(i + 1));
    expect(ids('active').sort((a, b) => Number(a) - Number(b))).toEqual(all);
    expect(ids('completed').sort((a, b) => Number(a) - Number(b))).toEqual(all);
    // Each job's events in its life's order; the delayed ones promoted with prev 'delayed'.
    for (const id of all) {
      const life = seen.filter(([, a]) => a.jobId === id).map(([e]) => e);
      expect(life).toEqual(['waiting', 'active', 'completed']);
    }
    const promoted = seen.filter(([e, a]) => e === 'waiting' && a.prev === 'delayed').map(([, a]) => a.jobId);
    expect(promoted.sort((a, b) => Number(a) - Number(b))).toEqual(all.slice(30));
    const completed = seen.filter(([e]) => e === 'completed').map(([, a]) => a);
    expect(completed.find((a) => a.jobId === '7')).toEqual({ jobId: '7', returnvalue: 6, prev: 'active' });
  });

  it('goes on telling of a queue that was obliterated under it: new events come after the ones it read', async () => {
    const { queue, connection, name } = setup();
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    const added: string[] = [];
    events.on('added', ({ jobId }: { jobId: string }) => added.push(jobId));
    for (let i = 0; i < 3; i++) await queue.add('before', { i });
    await until(() => added.length === 3, 10_000, 'the first three added events');
    await queue.obliterate();
    // Ids start over after an obliterate (as BullMQ's id counter); the events of the new job 1 still arrive.
    const job = await queue.add('after', {});
    expect(job.id).toBe('1');
    await until(() => added.length === 4, 10_000, 'the added event after the obliterate');
    expect(added).toEqual(['1', '2', '3', '1']);
  });

  // SQLite numbers events from the clock when the log is empty: with the clock stopped, the events after
  // an obliterate fall in the millisecond of those the reader already took, and must still come after them.
  it.runIf(store.kind === 'sqlite')(
    'orders events after an obliterate above those read in the same millisecond',
    async () => {
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
      try {
        const { queue, connection, name } = setup();
        const events = track(new QueueEvents(name, { connection }));
        await events.waitUntilReady();
        const added: string[] = [];
        events.on('added', ({ jobId }: { jobId: string }) => added.push(jobId));
        await queue.add('before', {});
        await until(() => added.length === 1, 10_000, 'the first added event');
        await queue.obliterate();
        await queue.add('after', {});
        await until(() => added.length === 2, 10_000, 'the added event after the obliterate');
        expect(added).toEqual(['1', '1']);
      } finally {
        vi.useRealTimers();
      }
    },
  );

  it('replays from lastEventId', async () => {
    const { queue, connection, name } = setup();
    const first = track(new QueueEvents(name, { connection }));
    await first.waitUntilReady();
    const ids: string[] = [];
    first.on('added', (_args, id: string) => ids.push(id));
    await queue.add('a', {});
    await queue.add('b', {});
    await until(() => ids.length === 2, 10_000, 'two added events');
    await first.close();
    const replay = track(new QueueEvents(name, { connection, lastEventId: ids[0] }));
    const names: unknown[] = [];
    replay.on('added', (args: { name: string }) => names.push(args.name));
    await until(() => names.length === 1, 10_000, 'replayed event');
    expect(names).toEqual(['b']);
  });

  it('waitUntilFinished resolves with the result or rejects with the reason', async () => {
    const { queue, worker, connection, name } = setup();
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    const ok = await queue.add('ok', { x: 2 });
    const bad = await queue.add('bad', {});
    worker(async (job) => {
      if (job.name === 'bad') throw new Error('broken');
      return job.data.x * 21;
    });
    await expect(ok.waitUntilFinished(events)).resolves.toBe(42);
    await expect(bad.waitUntilFinished(events)).rejects.toThrow('broken');
    // Already finished: answered from the stored state.
    await expect(ok.waitUntilFinished(events)).resolves.toBe(42);
    // Gone: it will never finish (BullMQ's text names the job's key).
    await ok.remove();
    await expect(ok.waitUntilFinished(events)).rejects.toThrow(`Missing key for job ${queue.toKey('1')}. isFinished`);
  });

  it('reports pause, resume, removal and cleaning', async () => {
    const { queue, connection, name } = setup();
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    const seen: string[] = [];
    for (const e of ['paused', 'resumed', 'removed', 'cleaned']) events.on(e, () => seen.push(e));
    await queue.pause();
    await queue.resume();
    await queue.add('x', {});
    await queue.remove('1');
    await queue.clean(0, 0, 'completed');
    await until(() => seen.length === 4, 10_000, 'four events');
    expect(seen).toEqual(['paused', 'resumed', 'removed', 'cleaned']);
  });
});
