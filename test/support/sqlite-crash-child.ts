// A producer + worker process on one SQLite file, for crash tests. argv: connection, queue, ledger.
// After each add resolves, its ids are appended to the ledger synchronously: whatever the ledger
// holds was acknowledged to the caller, so it must survive a SIGKILL at any later moment.
import { appendFileSync } from 'node:fs';
import { Queue, Worker } from '../../src/index.js';

const [connection, name, ledger] = process.argv.slice(2);
const queue = new Queue(name, { connection });
const worker = new Worker(
  name,
  async (job) => {
    if (job.data.i % 7 === 0 && job.attemptsMade === 0) throw new Error('first try fails');
    return { i: job.data.i, pid: process.pid };
  },
  { connection, concurrency: 4, drainDelay: 1, lockDuration: 1000, stalledInterval: 300, maxStalledCount: 5 },
);
worker.on('error', () => undefined);
let stopping = false;
let i = 0;

async function produce(): Promise<void> {
  await queue.waitUntilReady();
  process.send?.('ready');
  while (!stopping) {
    const n = i % 3 === 0 ? 20 : 1;
    const batch = Array.from({ length: n }, () => {
      const k = i++;
      return {
        name: 'crash',
        data: { i: k, pad: 'p'.repeat(k % 50) },
        opts: { attempts: 2, priority: k % 5 === 0 ? 3 : undefined, delay: k % 11 === 0 ? 50 : undefined },
      };
    });
    const jobs = await queue.addBulk(batch);
    appendFileSync(ledger, `${jobs.map((j) => j.id).join('\n')}\n`);
    // Leave the worker room to process (and so to be killed mid-transition too).
    await new Promise((r) => setTimeout(r, 3));
  }
}

process.on('message', async (msg) => {
  if (msg === 'close') {
    stopping = true;
    await Promise.all([worker.close(), queue.close()]);
    process.exit(0);
  }
});
produce().catch((err) => {
  console.error(err);
  process.exit(1);
});
