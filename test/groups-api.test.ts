import { describe, expect, it } from 'vitest';
import {
  GroupMaxSizeExceededError,
  Job,
  JobPro,
  type Job as JobType,
  Queue,
  QueuePro,
  RateLimitError,
  Worker,
  WorkerPro,
} from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { stores, until } from './support/stores.js';

// BullMQ Pro's group API (issue 22): pause/resume, maxSize, per-group settings, rateLimitGroup, getters.
describe.each(stores)('group API on $kind', (store) => {
  const { setup } = useQueues(store);

  it("exports Pro's names for the same classes", () => {
    expect(QueuePro).toBe(Queue);
    expect(WorkerPro).toBe(Worker);
    expect(JobPro).toBe(Job);
  });

  it('pauses and resumes a group while other groups run', async () => {
    const { queue, worker } = setup();
    expect(await queue.pauseGroup('held')).toBe(true);
    expect(await queue.pauseGroup('held')).toBe(false);
    expect(await queue.getGroupStatus('held')).toBe('paused');
    await queue.addBulk(
      ['held', 'free'].flatMap((id) => [1, 2].map((i) => ({ name: `${id}${i}`, data: {}, opts: { group: { id } } }))),
    );
    const done: string[] = [];
    worker(async (job) => {
      done.push(job.name);
    });
    await until(() => done.length === 2, 10_000, 'the free group');
    expect(done.sort()).toEqual(['free1', 'free2']);
    expect((await queue.getGroupJobs('held')).map((j) => j.name)).toEqual(['held1', 'held2']);
    expect(await queue.resumeGroup('held')).toBe(true);
    expect(await queue.resumeGroup('held')).toBe(false);
    expect(await queue.resumeGroup('never-seen')).toBe(false);
    await until(() => done.length === 4, 10_000, 'the resumed group');
    expect(done.slice(2)).toEqual(['held1', 'held2']);
  });

  it('refuses an add past a group maxSize, storing nothing', async () => {
    const { queue } = setup();
    for (let i = 0; i < 3; i++) await queue.add(`m${i}`, {}, { group: { id: 'm', maxSize: 3 } });
    const err = await queue.add('m3', {}, { group: { id: 'm', maxSize: 3 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GroupMaxSizeExceededError);
    expect((err as GroupMaxSizeExceededError).groupId).toBe('m');
    // A batch is refused whole.
    await expect(
      queue.addBulk([
        { name: 'other', data: {}, opts: { group: { id: 'n' } } },
        { name: 'm4', data: {}, opts: { group: { id: 'm', maxSize: 3 } } },
      ]),
    ).rejects.toBeInstanceOf(GroupMaxSizeExceededError);
    expect(await queue.getGroupsJobsCount()).toBe(3);
    expect(await queue.getGroupsCount()).toBe(1);
  });

  it('reads groups with the getters', async () => {
    const { queue, worker } = setup();
    await queue.addBulk([
      { name: 'a1', data: {}, opts: { group: { id: 'a' } } },
      { name: 'a2', data: {}, opts: { group: { id: 'a', priority: 1 } } },
      { name: 'b1', data: {}, opts: { group: { id: 'b' } } },
    ]);
    expect(await queue.getGroups()).toEqual([
      { id: 'a', count: 2 },
      { id: 'b', count: 1 },
    ]);
    expect(await queue.getGroupsJobsCount(1)).toBe(3);
    const w = worker(null);
    const taken = await w.getNextJob('t1', { block: false });
    expect(taken?.name).toBe('a1');
    expect(await queue.getGroupActiveCount('a')).toBe(1);
    await queue.setGroupConcurrency('a', 1);
    expect(await queue.getGroupStatus('a')).toBe('maxed');
    expect(await queue.getGroupsByStatus('maxed')).toEqual([{ id: 'a', count: 1 }]);
    expect(await queue.getGroupsByStatus('waiting')).toEqual([{ id: 'b', count: 1 }]);
    await taken!.moveToCompleted('ok', 't1', false);
    expect(await queue.getGroupActiveCount('a')).toBe(0);
    expect(await queue.getGroupStatus('a')).toBe('waiting');
    expect(await queue.getGroupStatus('unknown')).toBeUndefined();
  });

  it('keeps a group limit set on the queue and reports its ttl', async () => {
    const { queue, worker } = setup();
    await queue.setGroupRateLimit('r', 1, 60_000);
    await queue.addBulk(['r1', 'r2'].map((name) => ({ name, data: {}, opts: { group: { id: 'r' } } })));
    const w = worker(null);
    expect((await w.getNextJob('t1', { block: false }))?.name).toBe('r1');
    expect(await w.getNextJob('t2', { block: false })).toBeUndefined();
    expect(await queue.getGroupStatus('r')).toBe('limited');
    const ttl = await queue.getGroupRateLimitTtl('r');
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('rate limits a group from its processor and gives the job back', async () => {
    const { queue, worker } = setup();
    await queue.addBulk(
      ['x', 'y'].flatMap((id) => [1, 2].map((i) => ({ name: `${id}${i}`, data: {}, opts: { group: { id } } }))),
    );
    const starts: string[] = [];
    let limited = false;
    const w = worker(async (job: JobType) => {
      starts.push(job.name);
      if (job.name === 'x1' && !limited) {
        limited = true;
        await w.rateLimitGroup(job, 400);
        throw Worker.RateLimitError();
      }
    });
    await until(async () => (await queue.getJobCounts('completed')).completed === 4, 10_000, 'all completed');
    // x1 ran twice (given back after the limit); y's jobs went on meanwhile.
    expect(starts.filter((n) => n === 'x1').length).toBe(2);
    expect(starts.indexOf('y2')).toBeLessThan(starts.lastIndexOf('x1'));
    expect(RateLimitError).toBeDefined();
  });
});
