import { describe, expect, it } from 'vitest';
import { QueueEvents, UnrecoverableError } from '../../src/index.js';
import { useQueues } from '../support/fixture.js';
import { stores, until } from '../support/stores.js';

/**
 * Clock and lock edges (guarantees.md "A lock lapses while the processor still runs"): once a lock
 * lapsed, its old owner can neither complete, fail nor extend the job, whether or not the stalled
 * checker has moved it yet; the completion record is written once, by the owner of the live lock.
 */
describe.each(stores)('lapsed locks on $kind', (store) => {
  const { setup, track } = useQueues(store);

  function gate() {
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    return { open, opened };
  }

  async function watch(name: string, connection: string) {
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    const seen = { completed: [] as string[], failed: [] as string[], stalled: [] as string[] };
    events.on('completed', ({ jobId }: { jobId: string }) => seen.completed.push(jobId));
    events.on('failed', ({ jobId }: { jobId: string }) => seen.failed.push(jobId));
    events.on('stalled', ({ jobId }: { jobId: string }) => seen.stalled.push(jobId));
    return seen;
  }

  for (const ending of ['returns', 'throws'] as const) {
    it(`refuses the old owner whose processor ${ending} after another worker took the job`, async () => {
      const { queue, worker, connection, name } = setup();
      const seen = await watch(name, connection);
      const release = gate();
      const old = worker(
        async (job) => {
          await release.opened;
          if (job.name === 'marker') return 'marker';
          if (ending === 'throws') throw new Error('late failure from the old owner');
          return 'late result from the old owner';
        },
        { lockDuration: 250, skipLockRenewal: true, skipStalledCheck: true },
      );
      const oldErrors: Error[] = [];
      const oldOutcomes: string[] = [];
      old.on('error', (err) => oldErrors.push(err));
      old.on('completed', () => oldOutcomes.push('completed'));
      old.on('failed', () => oldOutcomes.push('failed'));
      await queue.add('x', {});
      await until(async () => (await queue.getJobState('1')) === 'active', 10_000, 'the old owner to start');

      const rescuer = worker(async () => 'from the rescuer', {
        lockDuration: 5000,
        stalledInterval: 100,
        maxStalledCount: 3,
      });
      await until(() => seen.completed.length === 1, 15_000, 'the rescuer to complete the job');
      await rescuer.close();
      release.open();
      await until(() => oldErrors.length > 0, 10_000, 'the old owner to be refused');
      expect(oldErrors[0].message).toMatch(/lock|Lock/);
      expect(oldOutcomes).toEqual([]);

      const job = (await queue.getJob('1'))!;
      expect(await job.getState()).toBe('completed');
      expect(job.returnvalue).toBe('from the rescuer');
      expect(job.failedReason).toBeUndefined();
      expect(job.attemptsMade).toBe(1);
      expect(job.attemptsStarted).toBe(2);
      expect(job.stalledCounter).toBe(1);
      expect(seen.stalled).toEqual(['1']);
      // Let any late write show up in the event log before the final count.
      await queue.add('marker', {});
      await until(() => seen.completed.length === 2, 10_000, 'the marker job (run by the old owner)');
      expect(seen.completed).toEqual(['1', '2']);
      expect(seen.failed).toEqual([]);
    });
  }

  it('treats a lapsed lock as missing before the stalled checker has moved the job', async () => {
    const { queue, worker, connection, name } = setup();
    const seen = await watch(name, connection);
    await queue.add('x', {});
    const w = worker(null, { lockDuration: 100 });
    const job = (await w.getNextJob('old', { block: false }))!;
    expect(job.id).toBe('1');
    // The lock runs from the fetch's own clock (processedOn), which a loaded machine may take a while to reach.
    await until(() => Date.now() > job.processedOn! + 150, 5_000, 'the lock to lapse');
    // No checker has run: the job still shows active, but its lock no longer counts.
    expect(await queue.getJobState('1')).toBe('active');
    expect(await job.extendLock('old', 10_000)).toBe(0);
    await expect(job.moveToCompleted('late', 'old', false)).rejects.toThrow(/Missing lock for job 1/);
    await expect(job.moveToFailed(new Error('late'), 'old')).rejects.toThrow(/Missing lock for job 1/);
    await expect(job.moveToDelayed(Date.now() + 60_000, 'old')).rejects.toThrow(/Missing lock for job 1/);
    await expect(job.moveToWait('old')).rejects.toThrow(/Missing lock for job 1/);
    const still = (await queue.getJob('1'))!;
    expect(await still.getState()).toBe('active');
    expect(still.attemptsMade).toBe(0);
    expect(still.returnvalue).toBeNull();

    const checker = worker(null, { lockDuration: 5000, stalledInterval: 50, maxStalledCount: 2 });
    await checker.startStalledCheckTimer();
    const again = await until(() => checker.getNextJob('new', { block: false }), 10_000, 'the recovered job');
    expect(again.id).toBe('1');
    expect(again.attemptsStarted).toBe(2);
    await expect(job.moveToCompleted('late', 'old', false)).rejects.toThrow(/Lock mismatch for job 1/);
    await again.moveToCompleted('fresh', 'new', false);
    await until(() => seen.completed.length === 1, 10_000, 'the completed event');
    const done = (await queue.getJob('1'))!;
    expect(done.returnvalue).toBe('fresh');
    expect(done.attemptsMade).toBe(1);
    expect(done.stalledCounter).toBe(1);
    await expect(job.moveToCompleted('late', 'old', false)).rejects.toThrow(/Missing lock for job 1/);
    expect(seen.completed).toEqual(['1']);
  });

  it('keeps a lock renewed just in time, and lets no renewal revive one that lapsed', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const w = worker(null, { lockDuration: 600 });
    let t = Date.now();
    const job = (await w.getNextJob('t', { block: false }))!;
    // Renew well inside each window, several windows in a row.
    for (let i = 0; i < 4; i++) {
      await until(() => Date.now() >= t + 100, 5_000, 'mid-window');
      t = Date.now();
      expect(await job.extendLock('t', 600)).toBe(1);
    }
    await until(() => Date.now() > t + 650, 5_000, 'the lock to lapse');
    expect(await job.extendLock('t', 200)).toBe(0);
    expect(await job.extendLock('t', 200)).toBe(0);
    await expect(job.moveToCompleted('x', 't', false)).rejects.toThrow(/Missing lock/);
  });
  // Regression (SQLite "idle workers ping-pong", fixed in SqliteStore.write): every fetchNext, even an
  // empty one, used to notify the queue's in-process waiters, so the old owner and the rescuer, both
  // idle after this scenario, woke each other forever in microtasks: 100 % CPU and starved timers.
  it('lets two idle workers of one queue in one process sleep', async () => {
    const { queue, worker, connection, name } = setup();
    const events = track(new QueueEvents(name, { connection }));
    await events.waitUntilReady();
    let completed = 0;
    events.on('completed', () => completed++);
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    const old = worker(
      async () => {
        await opened;
        return 'late';
      },
      { lockDuration: 250, skipLockRenewal: true, skipStalledCheck: true },
    );
    old.on('error', () => undefined);
    await queue.add('x', {});
    await until(async () => (await queue.getJobState('1')) === 'active', 10_000, 'the start');
    worker(async () => 'rescued', { lockDuration: 5000, stalledInterval: 100, maxStalledCount: 3 });
    await until(() => completed === 1, 15_000, 'the rescue');
    open();
    // With the bug, this timer never fires.
    const t = Date.now();
    await new Promise((r) => setTimeout(r, 200));
    expect(Date.now() - t).toBeLessThan(2_000);
  });

  // A call the client resends after a lost reply gets the first call's answer (Redis only: see
  // resent-moves.test.ts). A call the caller makes again is a new call: the move was made, the lock
  // is gone, and it is refused as in BullMQ, on every store.
  it('refuses a completion or failure the caller repeats with the same token', async () => {
    const { queue, worker, connection, name } = setup();
    const seen = await watch(name, connection);
    await queue.add('a', {});
    await queue.add('b', {}, { attempts: 3 });
    const w = worker(null);
    const a = (await w.getNextJob('t1', { block: false }))!;
    await a.moveToCompleted('first', 't1', false);
    await expect(a.moveToCompleted('second', 't1', false)).rejects.toThrow(/Missing lock for job 1/);
    const b = (await w.getNextJob('t2', { block: false }))!;
    await b.moveToFailed(new UnrecoverableError('first'), 't2');
    await expect(b.moveToFailed(new UnrecoverableError('second'), 't2')).rejects.toThrow(/Missing lock for job 2/);
    await until(() => seen.completed.length + seen.failed.length === 2, 10_000, 'the events');
    const [doneA, doneB] = [(await queue.getJob('1'))!, (await queue.getJob('2'))!];
    expect([doneA.returnvalue, doneA.attemptsMade, await queue.getJobState('1')]).toEqual(['first', 1, 'completed']);
    expect([doneB.failedReason, doneB.attemptsMade, await queue.getJobState('2')]).toEqual(['first', 1, 'failed']);
    expect(seen).toEqual({ completed: ['1'], failed: ['2'], stalled: [] });
  });
});
