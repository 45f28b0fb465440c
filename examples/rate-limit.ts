/**
 * Rate limits: a worker `limiter` caps starts per window across all workers; `queue.rateLimit(ms)`
 * stops every worker for a while; `moveToWait` gives a taken job back without spending an attempt.
 */
import { Queue, Worker } from '../src/index.js';
import { connection } from './connection.js';

const queue = new Queue('api-calls', { connection });
await queue.addBulk(Array.from({ length: 9 }, (_, i) => ({ name: 'call', data: { i } })));

const started = Date.now();
const worker = new Worker(
  'api-calls',
  async (job) => {
    console.log(`+${String(Date.now() - started).padStart(4)} ms  call ${job.data.i}`);
  },
  { connection, concurrency: 5, limiter: { max: 3, duration: 300 } },
);
await new Promise<void>((resolve) => worker.on('drained', resolve));
await worker.close();

// Manual: the remote API answered 429, so stop every worker of the queue for 200 ms.
const manual = new Worker('api-calls', null, { connection });
await queue.add('call', { i: 'retry-me' });
const job = (await manual.getNextJob('t'))!;
await queue.rateLimit(200);
await job.moveToWait('t');
console.log(`rate limited for ${await queue.getRateLimitTtl()} ms; job ${job.id} is ${await job.getState()}`);
const again = await manual.getNextJob('t');
console.log(`took job ${again?.id} again after the limit, attemptsMade=${again?.attemptsMade}`);
await again?.moveToCompleted('ok', 't', false);
await manual.close();
await queue.close();
