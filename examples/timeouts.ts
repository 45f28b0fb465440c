/**
 * Timeouts and cancels (docs/patterns/timeouts.md): a job's `timeout` aborts the processor's signal
 * with a TimeoutError and retries the attempt; `queue.cancelJob` fails a job for good and stops the
 * worker that holds it, even one whose processor ignores its signal.
 */
import { type Job, Queue, QueueEvents, TimeoutError, Worker } from '../src/index.js';
import { connection } from './connection.js';

const queue = new Queue('timeouts-example', { connection });
const events = new QueueEvents('timeouts-example', { connection });
await events.waitUntilReady();
await queue.obliterate({ force: true });

const worker = new Worker(
  'timeouts-example',
  async (job: Job, _token?: string, signal?: AbortSignal) => {
    if (job.name === 'stubborn') await new Promise(() => {}); // ignores its signal: only a cancel ends it
    // The first attempt is too slow and honours its signal; the second is quick.
    const ms = job.attemptsMade === 0 ? 5_000 : 10;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(signal.reason);
      });
    });
    return `rendered on attempt ${job.attemptsMade + 1}`;
  },
  { connection, concurrency: 2 },
);
worker.on('failed', (job, err) => {
  const kind = err instanceof TimeoutError ? 'timed out' : err.name;
  console.log(`job ${job?.name} failed: ${kind} (${err.message})`);
});

const render = await queue.add('render', {}, { timeout: 200, attempts: 2 });
console.log(`render: ${await render.waitUntilFinished(events)}`);

const stubborn = await queue.add('stubborn', {}, { attempts: 5 });
await new Promise<void>((resolve) => worker.once('active', () => resolve()));
const stopped = new Promise((resolve) => worker.once('failed', resolve));
await queue.cancelJob(stubborn.id!, 'no longer needed');
await stopped;
const stored = await queue.getJob(stubborn.id!);
console.log(`stubborn is ${await stored?.getState()}: ${stored?.failedReason}, attemptsMade=${stored?.attemptsMade}`);

await worker.close();
await events.close();
await queue.close();
