// One side of the WAL-bound test, in its own process: argv = role, file, queue, jobs, maxWalBytes.
//   producer: keeps ~5 000 jobs waiting (addBulk of 500) until `jobs` were added, then says 'done'.
//   worker: processes no-op jobs until `jobs` completed, says 'done', then idles until 'close'.
import { Queue, Worker } from '../../src/index.js';

const [role, file, name, jobsArg, maxWalArg] = process.argv.slice(2);
const jobs = Number(jobsArg);
const opts = { connection: `sqlite:${file}`, sqlite: { maxWalBytes: Number(maxWalArg) } };
const BATCH = 500;
const BACKLOG = 5_000;

async function producer(): Promise<void> {
  const queue = new Queue(name, { ...opts, defaultJobOptions: { removeOnComplete: true } });
  await queue.waitUntilReady();
  process.send?.('ready');
  let added = 0;
  while (added < jobs) {
    if ((await queue.getWaitingCount()) > BACKLOG - BATCH) {
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    const n = Math.min(BATCH, jobs - added);
    await queue.addBulk(Array.from({ length: n }, (_, k) => ({ name: 'j', data: { i: added + k } })));
    added += n;
  }
  await queue.close();
  process.send?.('done');
}

async function worker(): Promise<void> {
  let completed = 0;
  const w = new Worker(name, async () => undefined, { ...opts, concurrency: 50 });
  w.on('error', (err) => console.error(err));
  w.on('completed', () => {
    if (++completed === jobs) process.send?.('done');
  });
  await w.waitUntilReady();
  process.send?.('ready');
  process.on('message', async (msg) => {
    if (msg !== 'close') return;
    await w.close();
    process.exit(0);
  });
}

(role === 'producer' ? producer() : worker()).catch((err) => {
  console.error(err);
  process.exit(1);
});
