/**
 * The flow of examples/step-jobs.ts with Docket's durable steps: straight-line code, no `step`
 * field and no switch. Each `job.step` runs once and is recorded in the job; `job.sleep` parks the
 * job, `job.spawnChildren` adds children once and waits for them. A failure retries the job, and
 * the retry replays every recorded step instead of running it again.
 */
import { type Job, Queue, Worker } from '../src/index.js';
import { connection } from './connection.js';

const orders = new Queue('orders', { connection });
const parcels = new Queue('parcels', { connection });
await orders.add('process-order', { orderId: 42, items: ['book', 'lamp'] }, { attempts: 3 });

// Children: one parcel per item, labelled by a worker of their own queue.
const parcelWorker = new Worker('parcels', async (job: Job) => `label-${job.data.item}`, { connection });

const runs: Record<string, number> = {};
const count = (step: string) => {
  runs[step] = (runs[step] ?? 0) + 1;
};
let crashed = false;

const worker = new Worker(
  'orders',
  async (job: Job) => {
    const reservation = await job.step('reserve', async () => {
      count('reserve');
      console.log(`[${job.id}] reserve stock`);
      return { reservationId: `r-${job.data.orderId}` };
    });
    const charge = await job.step('charge', async () => {
      count('charge');
      console.log(`[${job.id}] charge card for ${reservation.reservationId}`);
      return { chargeId: 'ch_1' };
    });
    // Parks the job for 200 ms (the worker moves on); the next run returns here at once.
    await job.sleep('wait-for-bank', 200);
    const labels = await job.spawnChildren<string>(
      'parcels',
      job.data.items.map((item: string) => ({ name: 'parcel', data: { item }, queueName: 'parcels' })),
    );
    await job.step('ship', async () => {
      count('ship');
      if (!crashed) {
        crashed = true;
        console.log(`[${job.id}] ship: crashed (attempt ${job.attemptsMade + 1}), the retry replays the steps above`);
        throw new Error('shipping service unavailable');
      }
      console.log(`[${job.id}] ship ${labels.join(', ')} (charge ${charge.chargeId})`);
    });
    return 'order complete';
  },
  { connection },
);

const job = await new Promise<Job>((resolve) => worker.once('completed', resolve));
const stored = await orders.getJob(job.id!);
console.log(`[${job.id}] recorded steps: ${Object.keys(stored?.steps ?? {}).join(', ')}`);
console.log(`[${job.id}] runs per step: ${JSON.stringify(runs)}`);
console.log(`[${job.id}] ${job.returnvalue}: attemptsMade=${job.attemptsMade}, attemptsStarted=${job.attemptsStarted}`);
await Promise.all([worker.close(), parcelWorker.close()]);
await Promise.all([orders.close(), parcels.close()]);
