import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisStore } from '../../src/store/redis/redis-store.js';
import type { NewJob } from '../../src/store/store.js';
import { RedisServer } from '../support/redis-server.js';

// Connections, restarts and list reads of the Redis store (the transitions are in redis-store.test.ts).

const srv = new RedisServer(['--maxmemory-policy', 'allkeys-lru']);
const T0 = 1_700_000_000_000;
const job = (over: Partial<NewJob> = {}): NewJob => ({
  name: 'n',
  data: '{}',
  opts: '{}',
  timestamp: T0,
  delay: 0,
  priority: 0,
  lifo: false,
  ...over,
});

beforeAll(() => srv.start());
afterAll(() => srv.destroy());

describe('RedisStore connections', () => {
  it('warns once about an evicting maxmemory-policy', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const a = new RedisStore(new Redis(srv.url), { ownsClient: true });
    const b = new RedisStore(new Redis(srv.url), { ownsClient: true });
    await a.ready();
    await b.ready('bull:warn');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/allkeys-lru/);
    warn.mockRestore();
    await a.close();
    await b.close();
  });

  it('closes owned clients only, idempotently, ending blocked waits', async () => {
    const shared = new Redis(srv.url);
    const store = new RedisStore(shared);
    await store.ready('bull:close');
    const waiting = store.waitForWork('bull:close', 10_000, new AbortController().signal);
    const reading = store.readEvents('bull:close', '$', 10_000, new AbortController().signal);
    await new Promise((r) => setTimeout(r, 50));
    const t = Date.now();
    await Promise.all([store.close(), store.close()]);
    await waiting;
    expect(await reading).toEqual([]);
    expect(Date.now() - t).toBeLessThan(2000);
    expect(await shared.ping()).toBe('PONG');
    shared.disconnect();

    const owned = new Redis(srv.url);
    const ownedStore = new RedisStore(owned, { ownsClient: true });
    await ownedStore.ready('bull:close2');
    await ownedStore.close();
    await ownedStore.close();
    expect(owned.status).toBe('end');
  });

  it('serves several blocked waiters at once, each woken by its own add', async () => {
    const client = new Redis(srv.url);
    const store = new RedisStore(client, { ownsClient: true });
    await store.ready('bull:many');
    const t = Date.now();
    const waits = [1, 2].map(() => store.waitForWork('bull:many', 5000, new AbortController().signal));
    await new Promise((r) => setTimeout(r, 50));
    await store.addJobs('bull:many', [job()]);
    await new Promise((r) => setTimeout(r, 50));
    await store.addJobs('bull:many', [job()]);
    await Promise.all(waits);
    expect(Date.now() - t).toBeLessThan(2000);
    await store.close();
  });

  it('lists waiting jobs in run order, sliced, both ways', async () => {
    const client = new Redis(srv.url);
    const store = new RedisStore(client, { ownsClient: true });
    const q = 'bull:range';
    await store.addJobs(q, [job({ id: 'a' }), job({ id: 'b' }), job({ id: 'c' }), job({ id: 'd' })]);
    expect(await store.getRange(q, ['waiting'], 0, -1, true)).toEqual(['a', 'b', 'c', 'd']);
    expect(await store.getRange(q, ['waiting'], 1, 2, true)).toEqual(['b', 'c']);
    expect(await store.getRange(q, ['waiting'], 0, 1, false)).toEqual(['d', 'c']);
    expect(await store.getRange(q, ['paused'], 0, -1, true)).toEqual([]);
    await store.pause(q, true);
    expect(await store.getRange(q, ['paused', 'wait'], 0, 0, true)).toEqual(['a']);
    await store.close();
  });

  it('keeps working after a Redis restart (scripts reloaded after NOSCRIPT)', async () => {
    const client = new Redis(srv.url);
    client.on('error', () => {});
    const store = new RedisStore(client, { ownsClient: true });
    await store.addJobs('bull:restart', [job()]);
    await store.waitForWork('bull:restart', 1000, new AbortController().signal);
    await srv.stop();
    await srv.start();
    await new Promise((r) => setTimeout(r, 300));
    await store.addJobs('bull:restart', [job({ id: 'after' })]);
    await store.waitForWork('bull:restart', 1000, new AbortController().signal);
    const res = await store.fetchNext('bull:restart', { tokens: ['t'], lockDuration: 1000, now: T0 });
    expect(res.jobs.map((j) => j.id)).toEqual(['after']);
    await store.close();
  });
});
