/**
 * A FlowProducer tree (parents run after their children), and a running job that chains a new
 * flow onto itself and waits for it.
 */
import { FlowProducer, type Job, Queue, WaitingChildrenError, Worker } from '../src/index.js';
import { connection } from './connection.js';

const flow = new FlowProducer({ connection });
const sum = async (job: Job) => {
  const values = Object.values(await job.getChildrenValues()) as number[];
  const total = values.reduce((a, b) => a + b, job.data.value ?? 0);
  console.log(`[${job.queueName}] ${job.name} = ${total}`);
  return total;
};
const workers = [
  new Worker('leaves', sum, { connection }),
  new Worker('totals', sum, { connection }),
  new Worker(
    'pipelines',
    async (job: Job, token?: string) => {
      if (job.data.step === 'start') {
        console.log('[pipelines] chaining a flow onto the running job');
        await flow.add({
          name: 'subtotal',
          queueName: 'totals',
          opts: { parent: { id: job.id!, queue: job.queueQualifiedName } },
          children: [1, 2, 3].map((value) => ({ name: `leaf-${value}`, queueName: 'leaves', data: { value } })),
        });
        await job.updateData({ step: 'finish' });
        if (await job.moveToWaitingChildren(token!)) throw new WaitingChildrenError();
      }
      return sum(job);
    },
    { connection },
  ),
];

const tree = await flow.add({
  name: 'grand-total',
  queueName: 'totals',
  children: [
    { name: 'a', queueName: 'leaves', data: { value: 10 } },
    { name: 'b', queueName: 'leaves', data: { value: 20 } },
  ],
});
const totals = workers[1];
await new Promise<void>((resolve) =>
  totals.on('completed', (job) => {
    if (job.id === tree.job.id) resolve();
  }),
);

const pipelines = new Queue('pipelines', { connection });
await pipelines.add('pipeline', { step: 'start' });
const result = await new Promise((resolve) => workers[2].once('completed', (_job, value) => resolve(value)));
console.log(`chained pipeline finished with ${result}`);
await Promise.all([...workers.map((w) => w.close()), flow.close(), pipelines.close()]);
