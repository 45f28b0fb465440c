/**
 * BullMQ's "manually processing jobs": a worker without a processor, a fetchNext loop with
 * Job.fromJSON, moveToFailed for errors, and a stalled-job checker.
 */
import { Job, Queue, Worker } from '../src/index.js';
import { connection } from './connection.js';

const queue = new Queue('manual', { connection });
await queue.addBulk(Array.from({ length: 10 }, (_, i) => ({ name: 'task', data: { n: i }, opts: { attempts: 2 } })));

const worker = new Worker('manual', null, { connection, lockDuration: 5_000 });
await worker.startStalledCheckTimer();
const token = 'my-token';

let job = await worker.getNextJob(token);
while (job) {
  const current: Job = job;
  try {
    if (current.data.n === 3 && current.attemptsMade === 0) throw new Error('flaky task');
    await current.extendLock(token, 5_000); // long work would keep extending its lock
    const [jobData, jobId] = await current.moveToCompleted(`result ${current.data.n}`, token, true);
    console.log(`completed ${current.id}`);
    job = jobData ? Job.fromJSON(worker, jobData, jobId) : await worker.getNextJob(token, { block: false });
  } catch (err) {
    console.log(`failed ${current.id}: ${(err as Error).message} (will retry)`);
    await current.moveToFailed(err as Error, token);
    job = await worker.getNextJob(token, { block: false });
  }
}
console.log('counts:', await queue.getJobCounts('completed', 'failed', 'waiting'));
await worker.close();
await queue.close();
