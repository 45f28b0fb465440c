// A worker process for crash tests. argv: connection, queue name, ledger file, concurrency.
// Every run of a job appends "<jobId> <pid>\n" to the ledger synchronously when it starts (so before
// the processor returns): a run the queue forgets because the process died is still on record.
import { appendFileSync } from 'node:fs';
import { Worker } from '../../src/index.js';

const [connection, name, ledger, concurrency = '4'] = process.argv.slice(2);
const worker = new Worker(
  name,
  async (job) => {
    appendFileSync(ledger, `${job.id} ${process.pid}\n`);
    if (job.data.ms) await new Promise((r) => setTimeout(r, job.data.ms));
    return process.pid;
  },
  {
    connection,
    concurrency: Number(concurrency),
    drainDelay: 1,
    // Short enough that a killed worker's jobs come back within seconds, long enough that a live
    // worker on a busy 2-core machine always renews in time (renewal every lockDuration / 2).
    lockDuration: 5000,
    stalledInterval: 500,
    maxStalledCount: 10,
  },
);
worker.on('error', (err) => console.error(`[crash-worker ${process.pid}]`, err));
worker.on('ready', () => process.send?.('ready'));
process.on('message', async (msg) => {
  if (msg === 'close') {
    await worker.close();
    process.exit(0);
  }
});
