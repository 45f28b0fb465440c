import { describe, expect, it } from 'vitest';
import { Job } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { stores } from './support/stores.js';

// BullMQ's token '0' moves an active job without checking whose lock it holds; the job must still be
// active. The moves that fetch return BullMQ's `[jobData, jobId, limitUntil, delayUntil]`, or `[]`.
describe.each(stores)('token 0 and the shape of manual moves on $kind', (store) => {
  const { setup } = useQueues(store);

  it('fails an active job under token 0, whoever holds its lock', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const job = await worker(null).getNextJob('the-owner');
    await job!.moveToFailed(new Error('given up'), '0');
    const stored = await queue.getJob('1');
    expect(await stored?.getState()).toBe('failed');
    expect(stored?.failedReason).toBe('given up');
    expect(stored?.stacktrace).toHaveLength(1);
  });

  it('completes an active job under token 0 and hands back the next one', async () => {
    const { queue, worker } = setup();
    await queue.add('a', {});
    await queue.add('b', { n: 2 });
    const job = await worker(null).getNextJob('the-owner');
    const next = await job!.moveToCompleted('done', '0', true);
    expect(await queue.getJobState('1')).toBe('completed');
    expect(next).toHaveLength(4);
    expect(next[1]).toBe('2');
    expect(next[0]).toMatchObject({ name: 'b' });
    expect([next[2], next[3]]).toEqual([0, 0]);
  });

  it('refuses token 0 on a job that is not active, naming the move BullMQ names', async () => {
    const { queue } = setup();
    const retrying = await Job.create(queue, 'r', {}, { attempts: 3 });
    await expect(retrying.moveToFailed(new Error('x'), '0')).rejects.toThrow(
      'Job 1 is not in the active state. retryJob',
    );
    const backingOff = await Job.create(queue, 'b', {}, { attempts: 3, backoff: 500 });
    await expect(backingOff.moveToFailed(new Error('x'), '0')).rejects.toThrow(
      'Job 2 is not in the active state. moveToDelayed',
    );
    const last = await Job.create(queue, 'l', {});
    await expect(last.moveToFailed(new Error('x'), '0')).rejects.toThrow(
      'Job 3 is not in the active state. moveToFinished',
    );
    await expect(last.moveToCompleted('v', '0', false)).rejects.toThrow(
      'Job 3 is not in the active state. moveToFinished',
    );
    expect(await queue.getJobCounts('waiting', 'failed', 'delayed')).toEqual({ waiting: 3, failed: 0, delayed: 0 });
  });

  it('still refuses a real token that does not hold the lock', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const job = await worker(null).getNextJob('the-owner');
    await expect(job!.moveToFailed(new Error('x'), 'someone-else')).rejects.toThrow('Lock mismatch for job 1');
    expect(await queue.getJobState('1')).toBe('active');
  });

  it('returns the next job from moveToFailed with fetchNext, [] without, and keeps the retry delay', async () => {
    const { queue, worker } = setup();
    await queue.add('flaky', {}, { attempts: 3, backoff: 300 });
    await queue.add('next', {});
    await queue.add('later', {});
    const w = worker(null);
    const job = await w.getNextJob('t');
    const next = await job!.moveToFailed(new Error('try again'), 't', true);
    expect(await queue.getJobState('1')).toBe('delayed');
    expect(job!.delay).toBe(300);
    expect((await queue.getJob('1'))?.delay).toBe(300);
    expect(next[1]).toBe('2');
    expect(next[0]).toMatchObject({ name: 'next' });
    expect([next[2], next[3]]).toEqual([0, 0]);

    const second = Job.fromJSON(w, next[0]!, next[1]);
    expect(await second.moveToFailed(new Error('no'), 't', false)).toEqual([]);
    expect(await queue.getJobState('2')).toBe('failed');
  });

  it('leaves an immediately retried job waiting, even with fetchNext', async () => {
    const { queue, worker } = setup();
    await queue.add('again', {}, { attempts: 2 });
    const w = worker(null);
    const job = await w.getNextJob('t');
    expect(await job!.moveToFailed(new Error('once'), '0', true)).toEqual([]);
    expect(await queue.getJobState('1')).toBe('waiting');
    const again = await w.getNextJob('t', { block: false });
    expect(again?.attemptsMade).toBe(1);
  });

  it("refuses a log row for a removed job with BullMQ's text", async () => {
    const { queue } = setup();
    const job = await queue.add('gone', {});
    await job.remove();
    await expect(job.log('row')).rejects.toThrow('Missing key for job 1. addLog');
    await expect(queue.addJobLog('1', 'row')).rejects.toThrow('Missing key for job 1. addLog');
  });

  it('clears the finished fields on retry: null on the job, absent when read back', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const w = worker(null);
    const job = await w.getNextJob('t');
    await job!.moveToFailed(new Error('boom'), 't');
    const failed = (await queue.getJob('1'))!;
    expect(failed.failedReason).toBe('boom');
    await failed.retry();
    expect([failed.failedReason, failed.processedOn, failed.finishedOn, failed.returnvalue]).toEqual([
      null,
      null,
      null,
      null,
    ]);
    const read = (await queue.getJob('1'))!;
    expect(await read.getState()).toBe('waiting');
    expect([read.failedReason, read.processedOn, read.finishedOn]).toEqual([undefined, undefined, undefined]);
    expect(read.returnvalue).toBeNull();
  });
});
