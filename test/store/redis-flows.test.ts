import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import type { FailItem, FlowJob, NewJob, ParentPolicy, ParentRef } from '../../src/store/store.js';
import { RedisServer } from '../support/redis-server.js';

const srv = new RedisServer();
let client: Redis;
let store: RedisStore;
let n = 0;

const T0 = 1_700_000_000_000;

beforeAll(async () => {
  await srv.start();
  client = new Redis(srv.url);
  store = new RedisStore(client);
});

afterAll(async () => {
  await store.close();
  client.disconnect();
  await srv.destroy();
});

function queue(): string {
  return `bull:f${++n}`;
}

function job(over: Partial<NewJob> = {}): NewJob {
  return { name: 'n', data: '{}', opts: '{}', timestamp: T0, delay: 0, priority: 0, lifo: false, ...over };
}

function node(queueName: string, id: string, over: Partial<FlowJob> = {}): FlowJob {
  return { ...job(), id, queue: queueName, hasChildren: false, ...over };
}

async function events(queueName: string) {
  return store.readEvents(queueName, '0', 0, new AbortController().signal);
}

/** Fetches job `id` (the next one) of `queueName` with token `tok`. */
async function take(queueName: string, id: string, now = T0) {
  const res = await store.fetchNext(queueName, { tokens: ['tok'], lockDuration: 30_000, now });
  expect(res.jobs.map((j) => j.id)).toEqual([id]);
}

async function completeNext(queueName: string, id: string, returnvalue = '1', now = T0) {
  await take(queueName, id, now);
  const res = await store.complete(queueName, [{ id, token: 'tok', returnvalue, retention: {} }], now);
  expect(res.codes).toEqual([0]);
}

async function failNext(queueName: string, id: string, reason = 'boom', now = T0) {
  await take(queueName, id, now);
  const item: FailItem = { id, token: 'tok', failedReason: reason, stacktrace: '[]', retryDelay: null, retention: {} };
  expect((await store.fail(queueName, [item], now)).codes).toEqual([0]);
}

/** A flow: parent `p` in `pq` with children c1, c2 in `cq` (the given policy on both). */
async function twoChildFlow(pq: string, cq: string, policy?: ParentPolicy, parentOver: Partial<FlowJob> = {}) {
  const parent: ParentRef = policy ? { id: 'p', queue: pq, policy } : { id: 'p', queue: pq };
  return store.addFlow([
    node(pq, 'p', { hasChildren: true, ...parentOver }),
    node(cq, 'c1', { parent }),
    node(cq, 'c2', { parent }),
  ]);
}

describe('RedisStore flows', () => {
  it('adds a flow across queues: parent waits for its children', async () => {
    const pq = queue();
    const cq = queue();
    const { duplicated } = await twoChildFlow(pq, cq);
    expect(duplicated).toEqual([false, false, false]);
    expect(await store.getState(pq, 'p')).toBe('waiting-children');
    expect(await store.getCounts(pq, ['waiting-children', 'waiting'])).toEqual({ 'waiting-children': 1, waiting: 0 });
    expect(await store.getRange(pq, ['waiting-children'], 0, -1, true)).toEqual(['p']);
    expect(await store.getCounts(cq, ['waiting'])).toEqual({ waiting: 2 });
    expect(JSON.parse((await store.getJob(cq, 'c1'))?.parent ?? '')).toEqual({ id: 'p', queue: pq });
    const deps = await store.getDependencies(pq, 'p');
    expect(deps).toEqual({ processed: {}, unprocessed: [`${cq}:c1`, `${cq}:c2`], failed: {}, ignored: {} });
    const pEvents = (await events(pq)).map((e) => e.event);
    expect(pEvents).toEqual(['added', 'waiting-children']);
    expect(await client.hget(`${cq}:meta`, 'docket-version')).toBe('1');
    expect(await client.zcard(`${cq}:marker`)).toBe(1);
    expect(await client.zcard(`${pq}:marker`)).toBe(0);
  });

  it('releases the parent when the last child completes, with processed values', async () => {
    const pq = queue();
    const cq = queue();
    await twoChildFlow(pq, cq);
    await completeNext(cq, 'c1', '"one"');
    expect(await store.getState(pq, 'p')).toBe('waiting-children');
    await completeNext(cq, 'c2', '"two"');
    expect(await store.getState(pq, 'p')).toBe('waiting');
    const deps = await store.getDependencies(pq, 'p');
    expect(deps).toEqual({
      processed: { [`${cq}:c1`]: '"one"', [`${cq}:c2`]: '"two"' },
      unprocessed: [],
      failed: {},
      ignored: {},
    });
    const last = (await events(pq)).at(-1);
    expect(last).toMatchObject({ event: 'waiting', jobId: 'p', prev: 'waiting-children' });
    expect(await client.zcard(`${pq}:marker`)).toBe(1);
  });

  it('releases a delayed parent to delayed at now + delay, a prioritized one to prioritized', async () => {
    const pq = queue();
    const cq = queue();
    await store.addFlow([
      node(pq, 'd', { hasChildren: true, delay: 5000 }),
      node(pq, 'pr', { hasChildren: true, priority: 3 }),
      node(cq, 'c1', { parent: { id: 'd', queue: pq } }),
      node(cq, 'c2', { parent: { id: 'pr', queue: pq } }),
    ]);
    await completeNext(cq, 'c1', '1', T0 + 10);
    expect(await store.getState(pq, 'd')).toBe('delayed');
    expect((await events(pq)).at(-1)).toMatchObject({ event: 'delayed', jobId: 'd', delay: String(T0 + 10 + 5000) });
    await completeNext(cq, 'c2', '1', T0 + 10);
    expect(await store.getState(pq, 'pr')).toBe('prioritized');
  });

  it('policy fail gives the parent a deferred failure and moves it to waiting, as BullMQ', async () => {
    const q1 = queue();
    await store.addFlow([
      node(q1, 'top', { hasChildren: true }),
      node(q1, 'mid', { hasChildren: true, parent: { id: 'top', queue: q1, policy: 'fail' } }),
      node(q1, 'leaf', { parent: { id: 'mid', queue: q1, policy: 'fail' } }),
      node(q1, 'other', { parent: { id: 'mid', queue: q1, policy: 'fail' } }),
    ]);
    await failNext(q1, 'leaf', 'boom', T0 + 1);
    // mid runs next and is failed by its worker; top waits until then.
    expect(await store.getState(q1, 'mid')).toBe('waiting');
    expect(await store.getState(q1, 'top')).toBe('waiting-children');
    expect((await store.getJob(q1, 'mid'))?.deferredFailure).toBe(`child ${q1}:leaf failed`);
    expect(await store.getDependencies(q1, 'mid')).toEqual({
      processed: {},
      unprocessed: [`${q1}:other`],
      failed: { [`${q1}:leaf`]: 'boom' },
      ignored: {},
    });
    const last = (await events(q1)).at(-1);
    expect(last).toMatchObject({ event: 'waiting', jobId: 'mid', prev: 'waiting-children' });
  });

  it('policy continue releases the parent at once even with pending children', async () => {
    const pq = queue();
    const cq = queue();
    await twoChildFlow(pq, cq, 'continue');
    await failNext(cq, 'c1');
    expect(await store.getState(pq, 'p')).toBe('waiting');
    // BullMQ keeps continueParentOnFailure failures with the ignored ones (its `:failed` hash).
    expect(await store.getDependencies(pq, 'p')).toEqual({
      processed: {},
      unprocessed: [`${cq}:c2`],
      failed: {},
      ignored: { [`${cq}:c1`]: 'boom' },
    });
  });

  it('policy ignore records the child and releases the parent when nothing else is pending', async () => {
    const pq = queue();
    const cq = queue();
    await twoChildFlow(pq, cq, 'ignore');
    await failNext(cq, 'c1');
    expect(await store.getState(pq, 'p')).toBe('waiting-children');
    await completeNext(cq, 'c2');
    expect(await store.getState(pq, 'p')).toBe('waiting');
    expect(await store.getDependencies(pq, 'p')).toEqual({
      processed: { [`${cq}:c2`]: '1' },
      unprocessed: [],
      failed: {},
      ignored: { [`${cq}:c1`]: 'boom' },
    });
  });

  it('policy remove drops the dependency and releases the parent when nothing else is pending', async () => {
    const pq = queue();
    const cq = queue();
    await twoChildFlow(pq, cq, 'remove');
    await completeNext(cq, 'c1');
    await failNext(cq, 'c2');
    expect(await store.getState(pq, 'p')).toBe('waiting');
    expect(await store.getDependencies(pq, 'p')).toEqual({
      processed: { [`${cq}:c1`]: '1' },
      unprocessed: [],
      failed: {},
      ignored: {},
    });
  });

  it('no policy: the failed child stays pending and the parent keeps waiting', async () => {
    const pq = queue();
    const cq = queue();
    await twoChildFlow(pq, cq);
    await failNext(cq, 'c1');
    await completeNext(cq, 'c2');
    expect(await store.getState(pq, 'p')).toBe('waiting-children');
    expect((await store.getDependencies(pq, 'p')).unprocessed).toEqual([`${cq}:c1`]);
  });

  it('a child marked to fail by the stalled checker keeps its parent waiting until it fails', async () => {
    const pq = queue();
    const cq = queue();
    await twoChildFlow(pq, cq, 'continue');
    const res0 = await store.fetchNext(cq, { tokens: ['tok'], lockDuration: 30, now: T0 });
    expect(res0.jobs.map((j) => j.id)).toEqual(['c1']);
    await new Promise((r) => setTimeout(r, 80));
    const res = await store.recoverStalled(cq, { maxStalledCount: 0, intervalMs: 0, now: T0, force: true });
    expect(res.failing).toEqual(['c1']);
    expect(await store.getState(pq, 'p')).toBe('waiting-children');
    expect(await store.getState(cq, 'c1')).toBe('waiting');
  });

  it('a retried child does not touch the parent until it fails for good', async () => {
    const pq = queue();
    const cq = queue();
    await twoChildFlow(pq, cq, 'fail');
    await take(cq, 'c1');
    const item: FailItem = {
      id: 'c1',
      token: 'tok',
      failedReason: 'x',
      stacktrace: '[]',
      retryDelay: 0,
      retention: {},
    };
    await store.fail(cq, [item], T0);
    expect(await store.getState(pq, 'p')).toBe('waiting-children');
    expect((await store.getDependencies(pq, 'p')).unprocessed).toHaveLength(2);
  });

  it('chains a flow and addJobs to an existing parent', async () => {
    const pq = queue();
    const cq = queue();
    await store.addFlow([node(pq, 'p', { hasChildren: true }), node(cq, 'c1', { parent: { id: 'p', queue: pq } })]);
    // A second flow hangs under the existing parent.
    const again = await store.addFlow([
      node(cq, 'mid', { hasChildren: true, parent: { id: 'p', queue: pq } }),
      node(cq, 'c2', { parent: { id: 'mid', queue: cq } }),
    ]);
    expect(again.duplicated).toEqual([false, false]);
    const added = await store.addJobs(cq, [job({ id: 'c3', parent: { id: 'p', queue: pq } })]);
    expect(added.ids).toEqual(['c3']);
    expect((await store.getDependencies(pq, 'p')).unprocessed).toEqual([`${cq}:c1`, `${cq}:c3`, `${cq}:mid`]);
    expect((await store.getDependencies(cq, 'mid')).unprocessed).toEqual([`${cq}:c2`]);
  });

  it('refuses a missing parent with -5 and stores nothing (addJobs and addFlow)', async () => {
    const pq = queue();
    const cq = queue();
    await store.ready(cq);
    const orphan = job({ id: 'c', parent: { id: 'nope', queue: pq } });
    await expect(store.addJobs(cq, [job({ id: 'ok' }), orphan])).rejects.toMatchObject({
      code: -5,
      message: `Missing key for parent job ${pq}:nope. addJob`,
    });
    expect(await store.getJob(cq, 'ok')).toBeUndefined();
    await expect(
      store.addFlow([node(pq, 'p', { hasChildren: true }), node(cq, 'c', { parent: { id: 'nope', queue: pq } })]),
    ).rejects.toMatchObject({ code: -5 });
    expect(await store.getJob(pq, 'p')).toBeUndefined();
    expect(await store.getJob(cq, 'c')).toBeUndefined();
    expect(await client.keys(`${pq}:*`)).toEqual([`${pq}:meta`]);
    expect(await events(cq)).toEqual([]);
  });

  it('a duplicated flow node writes nothing and emits duplicated', async () => {
    const pq = queue();
    await store.addJobs(pq, [job({ id: 'p' })]);
    const { duplicated } = await store.addFlow([
      node(pq, 'p', { hasChildren: true }),
      node(pq, 'c', { parent: { id: 'p', queue: pq } }),
    ]);
    expect(duplicated).toEqual([true, false]);
    expect(await store.getState(pq, 'p')).toBe('waiting');
    expect((await events(pq)).some((e) => e.event === 'duplicated' && e.jobId === 'p')).toBe(true);
  });

  it('moveToWaitingChildren: 1 with pending children, 0 without, lock codes otherwise', async () => {
    const q1 = queue();
    await store.addJobs(q1, [job({ id: 'p' }), job({ id: 'lone' })]);
    await take(q1, 'p');
    await store.addJobs(q1, [job({ id: 'c', parent: { id: 'p', queue: q1 } })]);
    expect(await store.moveToWaitingChildren(q1, 'p', 'wrong', T0)).toBe(-6);
    expect(await store.moveToWaitingChildren(q1, 'nope', 'tok', T0)).toBe(-1);
    expect(await store.moveToWaitingChildren(q1, 'lone', undefined, T0)).toBe(-3);
    expect(await store.moveToWaitingChildren(q1, 'lone', 'tok', T0)).toBe(-2);
    expect(await store.moveToWaitingChildren(q1, 'p', 'tok', T0 + 5)).toBe(1);
    expect(await store.getState(q1, 'p')).toBe('waiting-children');
    expect((await store.getJob(q1, 'p'))?.token).toBeUndefined();
    expect((await events(q1)).at(-1)).toMatchObject({ event: 'waiting-children', jobId: 'p' });
    // The child runs (lone first in line), completes and releases p.
    await take(q1, 'lone');
    expect(await store.moveToWaitingChildren(q1, 'lone', 'tok', T0)).toBe(0);
    expect(await store.getState(q1, 'lone')).toBe('active');
    await completeNext(q1, 'c');
    expect(await store.getState(q1, 'p')).toBe('waiting');
    await take(q1, 'p');
    expect(await store.moveToWaitingChildren(q1, 'p', 'tok', T0)).toBe(0);
  });

  it('three levels: each completion releases the next parent up', async () => {
    const q1 = queue();
    const q2 = queue();
    const q3 = queue();
    await store.addFlow([
      node(q1, 'top', { hasChildren: true }),
      node(q2, 'mid', { hasChildren: true, parent: { id: 'top', queue: q1 } }),
      node(q3, 'leaf', { parent: { id: 'mid', queue: q2 } }),
    ]);
    expect(await store.getState(q2, 'mid')).toBe('waiting-children');
    await completeNext(q3, 'leaf', '"l"');
    expect(await store.getState(q2, 'mid')).toBe('waiting');
    expect(await store.getState(q1, 'top')).toBe('waiting-children');
    await completeNext(q2, 'mid', '"m"');
    expect(await store.getState(q1, 'top')).toBe('waiting');
    expect((await store.getDependencies(q1, 'top')).processed).toEqual({ [`${q2}:mid`]: '"m"' });
    await completeNext(q1, 'top');
  });

  it('removing a parent deletes its dependency keys', async () => {
    const pq = queue();
    const cq = queue();
    await twoChildFlow(pq, cq, 'ignore');
    await completeNext(cq, 'c1');
    await failNext(cq, 'c2');
    expect(await store.remove(pq, 'p', T0)).toBe(1);
    const left = await client.keys(`${pq}:p*`);
    expect(left).toEqual([]);
    // Obliterating the parent's queue deletes them too.
    const cq2 = queue();
    await twoChildFlow(pq, cq2);
    expect(await store.getDependencies(pq, 'p')).toMatchObject({ unprocessed: [`${cq2}:c1`, `${cq2}:c2`] });
    await store.obliterate(pq, true, 0);
    expect(await client.keys(`${pq}:*`)).toEqual([]);
  });
});
