import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
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
});
