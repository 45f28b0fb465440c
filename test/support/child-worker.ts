// A worker in its own process, for multi-process tests: argv = connection, queue name, concurrency, drainDelay (s).
import { Worker } from '../../src/index.js';

const [connection, name, concurrency = '4', drainDelay = '1'] = process.argv.slice(2);
const worker = new Worker(
  name,
  async (job) => {
    await new Promise((r) => setTimeout(r, job.data.ms ?? 1));
    return process.pid;
  },
  { connection, concurrency: Number(concurrency), drainDelay: Number(drainDelay) },
);
worker.on('error', (err) => console.error(err));
worker.on('ready', () => process.send?.('ready'));
process.on('message', async (msg) => {
  if (msg === 'close') {
    await worker.close();
    process.exit(0);
  }
});
