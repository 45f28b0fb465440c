/**
 * A processor that adds children at run time and waits for them with moveToWaitingChildren +
 * WaitingChildrenError, then collects their return values.
 */
import { type Job, Queue, WaitingChildrenError, Worker } from '../src/index.js';
import { connection } from './connection.js';

const parents = new Queue('reports', { connection });
const pages = new Queue('pages', { connection });

const pageWorker = new Worker('pages', async (job: Job) => `page ${job.data.page} rendered`, {
  connection,
  concurrency: 4,
});

const reportWorker = new Worker(
  'reports',
  async (job: Job, token?: string) => {
    if (job.data.step === 'render') {
      for (let page = 1; page <= 3; page++) {
        await pages.add('render-page', { page }, { parent: { id: job.id!, queue: job.queueQualifiedName } });
      }
      await job.updateData({ step: 'assemble' });
      if (await job.moveToWaitingChildren(token!)) {
        console.log(`[report ${job.id}] waiting for 3 pages`);
        throw new WaitingChildrenError();
      }
    }
    const values = await job.getChildrenValues();
    console.log(`[report ${job.id}] assembling:`, Object.values(values));
    return Object.keys(values).length;
  },
  { connection },
);

await parents.add('report', { step: 'render' });
const pagesDone = await new Promise((resolve) => reportWorker.once('completed', (_job, n) => resolve(n)));
console.log(`report complete with ${pagesDone} pages`);
await Promise.all([reportWorker.close(), pageWorker.close(), parents.close(), pages.close()]);
