/**
 * Batches (BullMQ Pro's API, free here): the processor runs once per batch of jobs, and each job still
 * completes, fails or retries on its own. See docs/patterns/batches.md.
 */
import { type JobPro, QueueEvents, QueuePro, WorkerPro } from '../src/index.js';
import { connection } from './connection.js';

const queue = new QueuePro('emails', { connection });
await queue.obliterate({ force: true });
const events = new QueueEvents('emails', { connection });
await events.waitUntilReady();
let completedJobs = 0;
events.on('completed', () => completedJobs++);

// 25 emails; two have no address.
await queue.addBulk(
  Array.from({ length: 25 }, (_, i) => ({ name: 'send', data: { to: i % 12 === 5 ? '' : `user${i}@example.com` } })),
);

// One "bulk send" call per batch of up to 10 emails; a bad address fails only its own job.
const worker = new WorkerPro(
  'emails',
  async (job: JobPro) => {
    const batch = job.getBatch();
    for (const email of batch) if (!email.data.to) email.setAsFailed(new Error('no address'));
    const sendable = batch.filter((email) => email.data.to);
    console.log(`batch of ${batch.length}: sending ${sendable.length}`);
    return { sent: sendable.length };
  },
  { connection, batch: { size: 10 } },
);
// Worker events are per batch; QueueEvents report every job.
let batches = 0;
worker.on('completed', (job) => {
  batches++;
  console.log(`batch ${job.id} completed: ${JSON.stringify(job.returnvalue)}`);
});

const done = async () => {
  const counts = await queue.getJobCounts('completed', 'failed');
  return counts.completed + counts.failed === 25 && completedJobs === 23 && batches === 3;
};
while (!(await done())) await new Promise((r) => setTimeout(r, 20));
const failed = await queue.getJobs(['failed']);
console.log(
  `${batches} batches; ${completedJobs} jobs completed; failed: ${failed.map((j) => j.failedReason).join(', ')}`,
);
await worker.close();
await events.close();
await queue.close();
