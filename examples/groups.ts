/**
 * Groups (BullMQ Pro's API, free here): one queue shared by many tenants. Jobs of a group run FIFO,
 * groups take turns, a worker option caps each group's concurrency across all workers, and a group
 * can be paused on its own. See docs/patterns/groups.md.
 */
import { GroupMaxSizeExceededError, QueuePro, WorkerPro } from '../src/index.js';
import { connection } from './connection.js';

const queue = new QueuePro('transcode', { connection });
await queue.obliterate({ force: true });

// One tenant floods the queue; two others add one job each afterwards.
await queue.addBulk(
  Array.from({ length: 6 }, (_, i) => ({ name: 'video', data: { n: i }, opts: { group: { id: 'big-tenant' } } })),
);
await queue.add('video', { n: 0 }, { group: { id: 'tenant-a' } });
await queue.add('video', { n: 0 }, { group: { id: 'tenant-b' } });

// maxSize: a group that already holds that many waiting jobs refuses the add.
try {
  await queue.add('video', { n: 6 }, { group: { id: 'big-tenant', maxSize: 6 } });
} catch (err) {
  if (!(err instanceof GroupMaxSizeExceededError)) throw err;
  console.log(`refused: ${err.groupId} is full`);
}

// A paused group waits while the others run.
await queue.pauseGroup('tenant-b');
console.log(`groups: ${JSON.stringify(await queue.getGroups())}`);

const order: string[] = [];
const worker = new WorkerPro(
  'transcode',
  async (job) => {
    order.push(`${(job.opts.group as { id: string }).id}#${job.data.n}`);
    await new Promise((r) => setTimeout(r, 10));
  },
  { connection, concurrency: 4, group: { concurrency: 1 } },
);
const total = async () => (await queue.getJobCounts('completed')).completed;
while ((await total()) < 7) await new Promise((r) => setTimeout(r, 20));
console.log(`tenant-b while paused: ${await queue.getGroupStatus('tenant-b')}`);
await queue.resumeGroup('tenant-b');
while ((await total()) < 8) await new Promise((r) => setTimeout(r, 20));

// With one job per group at a time, tenant-a's only job ran second, not after the big tenant's six.
console.log(`order: ${order.join(' ')}`);
console.log(`tenant-a ran at position ${order.indexOf('tenant-a#0') + 1} of ${order.length}`);
await worker.close();
await queue.close();
