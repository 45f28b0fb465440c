import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { Queue } from '../../src/index.js';
import { useQueues } from '../support/fixture.js';
import { stores } from '../support/stores.js';

describe.each(stores)('removeOrphanedJobs on $kind', (store) => {
  const { setup } = useQueues(store);

  it('removes job records in no state and keeps every other job', async () => {
    const { queue, connection } = setup();
    await queue.add('kept', {});
    await queue.add('later', {}, { delay: 60_000 });
    let orphans = 0;
    if (store.kind === 'redis') {
      // An orphan as a crash of a non-atomic writer could leave it: a job hash in no list.
      const raw = new Redis(connection);
      await raw.hset(
        `${queue.qualifiedName}:lost`,
        'name',
        'lost',
        'data',
        '{}',
        'opts',
        '{}',
        'timestamp',
        Date.now(),
      );
      raw.disconnect();
      orphans = 1;
    }
    expect(await queue.removeOrphanedJobs()).toBe(orphans);
    expect(await queue.getJob('lost')).toBeUndefined();
    expect(await queue.getJobState('1')).toBe('waiting');
    expect(await queue.getJobState('2')).toBe('delayed');
  });

  it.runIf(store.kind === 'redis')(
    'finds orphans by their sub-keys too, removes every key of theirs, and reads count and limit as BullMQ',
    async () => {
      const { queue, connection } = setup();
      const parent = await queue.add('parent', {});
      await queue.add('child', {}, { parent: { id: parent.id!, queue: queue.qualifiedName } });
      await parent.log('kept');
      const raw = new Redis(connection);
      try {
        const head = queue.keys[''];
        // 150 orphans with a hash and BullMQ's sub-keys, one with only logs, one with only a lock.
        const writes = raw.pipeline();
        for (let i = 0; i < 150; i++) {
          writes.hset(`${head}o${i}`, 'name', 'lost', 'data', '{}', 'opts', '{}', 'timestamp', 1);
          writes.rpush(`${head}o${i}:logs`, 'line');
          writes.set(`${head}o${i}:lock`, 'token');
          writes.sadd(`${head}o${i}:unsuccessful`, 'x');
        }
        writes.rpush(`${head}onlylogs:logs`, 'line');
        writes.set(`${head}onlylock:lock`, 'token');
        await writes.exec();
        // `limit` stops after the scan step that reached it: with 10 keys a step, well before all 152.
        const first = await queue.removeOrphanedJobs(10, 5);
        expect(first).toBeGreaterThanOrEqual(5);
        expect(first).toBeLessThan(152);
        // `count` is only how many keys a step reads: every orphan goes, whatever it is.
        expect(await queue.removeOrphanedJobs(10)).toBe(152 - first);
        expect(await raw.keys(`${head}o*`)).toEqual([]);
        expect(await raw.exists(`${head}onlylogs:logs`, `${head}onlylock:lock`)).toBe(0);
        // The live jobs and their keys stay.
        expect(await queue.getJobState(parent.id!)).toBe('waiting');
        expect((await queue.getJobLogs(parent.id!)).logs).toEqual(['kept']);
        expect(await raw.scard(`${head}${parent.id}:dependencies`)).toBe(1);
        expect(await queue.removeOrphanedJobs()).toBe(0);
        await expect(queue.removeOrphanedJobs(0)).rejects.toThrow(/count must be a positive integer/);
        await expect(queue.removeOrphanedJobs(10, -1)).rejects.toThrow(/limit must be/);
      } finally {
        raw.disconnect();
      }
    },
  );

  it.runIf(store.kind === 'redis')(
    "leaves the keys of a queue whose prefix ends in this queue's name, and keys of other types",
    async () => {
      const { queue, connection } = setup();
      // Queue `emails` under the prefix `<prefix>:<name>`: its keys look like this queue's `<id>:<sub>`.
      const nested = new Queue('emails', { connection, prefix: queue.qualifiedName });
      const raw = new Redis(connection);
      try {
        const done = await nested.add('sent', {});
        // The nested queue's failed set: `<this queue>:emails:failed`, a sorted set.
        await raw.zadd(nested.keys.failed, 1, 'x');
        expect(nested.keys.failed).toBe(`${queue.keys['']}emails:failed`);
        await raw.set(`${queue.keys['']}stats`, 'a string of the user');
        await raw.rpush(`${queue.keys['']}lost:logs`, 'line');
        expect(await queue.removeOrphanedJobs()).toBe(1);
        expect(await raw.zcard(nested.keys.failed)).toBe(1);
        expect(await raw.get(`${queue.keys['']}stats`)).toBe('a string of the user');
        expect(await nested.getJobState(done.id!)).toBe('waiting');
      } finally {
        raw.disconnect();
        await nested.obliterate({ force: true });
        await nested.close();
      }
    },
  );
});
