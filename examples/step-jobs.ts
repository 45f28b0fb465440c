/**
 * BullMQ's "process step jobs" pattern: the processor stores its next step in the job, parks itself
 * with moveToDelayed + DelayedError, and survives a failure without re-running finished steps.
 */
import { DelayedError, type Job, Queue, Worker } from '../src/index.js';
import { connection } from './connection.js';

enum Step {
  Initial = 'initial',
  Second = 'second',
  Third = 'third',
  Finish = 'finish',
}

const queue = new Queue('orders', { connection });
await queue.add('process-order', { step: Step.Initial, orderId: 42 }, { attempts: 3 });

let crashed = false;
const worker = new Worker(
  'orders',
  async (job: Job, token?: string) => {
    let step = job.data.step as Step;
    while (step !== Step.Finish) {
      switch (step) {
        case Step.Initial:
          console.log(`[${job.id}] initial: reserve stock`);
          await job.updateData({ ...job.data, step: Step.Second });
          step = Step.Second;
          break;
        case Step.Second:
          console.log(`[${job.id}] second: charge card, then wait 200 ms for the bank`);
          await job.moveToDelayed(Date.now() + 200, token);
          await job.updateData({ ...job.data, step: Step.Third });
          throw new DelayedError();
        case Step.Third:
          if (!crashed) {
            crashed = true;
            console.log(`[${job.id}] third: crashed (attempt ${job.attemptsMade + 1}), will retry from here`);
            throw new Error('shipping service unavailable');
          }
          console.log(`[${job.id}] third: ship the parcel`);
          await job.updateData({ ...job.data, step: Step.Finish });
          step = Step.Finish;
          break;
      }
    }
    return 'order complete';
  },
  { connection },
);

const job = await new Promise<Job>((resolve) => worker.once('completed', resolve));
console.log(`[${job.id}] ${job.returnvalue}: attemptsMade=${job.attemptsMade}, attemptsStarted=${job.attemptsStarted}`);
await worker.close();
await queue.close();
