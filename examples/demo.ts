/**
 * The main job on the embedded store, no Redis needed: a few hundred jobs (plain, delayed,
 * prioritised, some failing and retrying), two workers with concurrency, live progress, final
 * counts per state. Run with `npm run demo`.
 */
import { Queue, Worker } from '../src/index.js';

// The store the CLI opens by default, so that README's `npx docket …` lines show the demo afterwards.
const connection = process.env.DOCKET_URL ?? 'sqlite:./docket.db';

const queue = new Queue('demo', { connection });
await queue.obliterate({ force: true }); // a fresh demo each run; other queues of the store stay
const jobs = [
  ...Array.from({ length: 200 }, (_, i) => ({ name: 'resize', data: { image: i }, opts: {} })),
  ...Array.from({ length: 50 }, (_, i) => ({ name: 'report', data: { n: i }, opts: { delay: 500 + i * 20 } })),
  ...Array.from({ length: 50 }, (_, i) => ({ name: 'urgent', data: { n: i }, opts: { priority: 1 + (i % 3) } })),
  ...Array.from({ length: 30 }, (_, i) => ({
    name: 'flaky',
    data: { n: i, failUntil: i % 3 === 0 ? 5 : 2 },
    opts: { attempts: 3, backoff: { type: 'exponential' as const, delay: 50 } },
  })),
];
await queue.addBulk(jobs);
console.log(`Added ${jobs.length} jobs to "${queue.name}" on ${connection.split(':')[0]}`);

let completed = 0;
let failedAttempts = 0;
const processor = async (job: { name: string; data: any; attemptsMade: number }) => {
  await new Promise((r) => setTimeout(r, 2 + Math.random() * 8));
  if (job.name === 'flaky' && job.attemptsMade + 1 < job.data.failUntil) throw new Error('transient failure');
  return { ok: true };
};
const workers = [1, 2].map((n) => {
  const worker = new Worker('demo', processor, { connection, concurrency: 8, name: `worker-${n}` });
  worker.on('completed', () => completed++);
  worker.on('failed', () => failedAttempts++);
  return worker;
});

const total = jobs.length;
const draw = (done: boolean) => {
  const width = 40;
  const finished = completed + failedFinal;
  const bar = '#'.repeat(Math.round((finished / total) * width)).padEnd(width, '.');
  process.stdout.write(
    `\r[${bar}] ${finished}/${total} finished, ${failedAttempts} failed attempts${done ? '\n' : ''}`,
  );
};
let failedFinal = 0;
const timer = setInterval(async () => {
  failedFinal = (await queue.getJobCounts('failed')).failed;
  draw(false);
}, 100);

while (true) {
  const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active');
  if (Object.values(counts).every((n) => n === 0)) break;
  await new Promise((r) => setTimeout(r, 100));
}
clearInterval(timer);
failedFinal = (await queue.getJobCounts('failed')).failed;
draw(true);
console.log('Final counts per state:');
console.table(await queue.getJobCounts());
console.log('Look at it with `npx docket queues` or `npx docket dashboard` (README "CLI and dashboard").');
await Promise.all(workers.map((w) => w.close()));
await queue.close();
