// A batch worker process for the batch crash test. argv: connection, queue name, ledger file, ms per batch.
// Each batch appends "<jobId> <pid>\n" per job to the ledger synchronously when it starts, so a run the
// queue forgets because the process died is still on record.
import { appendFileSync } from 'node:fs';
import { Worker } from '../../src/index.js';

const [connection, name, ledger, ms = '0'] = process.argv.slice(2);
const worker = new Worker(
  name,
  async (job) => {
    const batch = job.getBatch();
    appendFileSync(ledger, batch.map((j) => `${j.id} ${process.pid}\n`).join(''));
    await new Promise((r) => setTimeout(r, Number(ms)));
    return process.pid;
  },
  {
    connection,
    batch: { size: 50 },
    drainDelay: 1,
    // A killed worker's jobs come back within seconds; a live one renews every second.
    lockDuration: 2000,
    stalledInterval: 500,
    maxStalledCount: 10,
  },
);
worker.on('error', (err) => console.error(`[batch-crash-worker ${process.pid}]`, err));
worker.on('ready', () => process.send?.('ready'));
process.on('message', async (msg) => {
  if (msg === 'close') {
    await worker.close();
    process.exit(0);
  }
});
