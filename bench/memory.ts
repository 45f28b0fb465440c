/**
 * A worker's memory over a long run (`npm run bench:memory -- --help`): adds `jobs` no-op jobs
 * (removeOnComplete), drains them with one worker at concurrency 50 and prints the process's RSS and
 * live heap (after a forced GC) every tenth of the run, per store. Flat numbers are the point: a
 * worker keeps nothing per job once the job is done.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RedisServer } from '../test/support/redis-server.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    jobs: { type: 'string', default: '1000000' },
    stores: { type: 'string', default: 'redis,sqlite' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(
    'npm run bench:memory -- [--jobs 1000000] [--stores redis,sqlite,postgres]  (postgres: DOCKET_BENCH_PG or 127.0.0.1:5432)',
  );
  process.exit(0);
}
const jobs = Number(values.jobs);
if (!Number.isInteger(jobs) || jobs < 10) throw new Error('--jobs must be an integer of at least 10');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (npm run bench:memory does)');

// Compiled Docket, as the other benchmarks load it (npm run bench:memory builds dist/ first).
const distEntry = new URL('../dist/esm/index.js', import.meta.url).href;
const { Queue, Worker } = (await import(distEntry)) as typeof import('../src/index.js');
const mb = (bytes: number) => (bytes / 1048576).toFixed(0);

async function drain(store: string, connection: string): Promise<void> {
  const queue = new Queue('memory', { connection });
  for (let first = 0; first < jobs; first += 1000) {
    const n = Math.min(1000, jobs - first);
    await queue.addBulk(
      Array.from({ length: n }, (_, k) => ({ name: 'job', data: { i: first + k }, opts: { removeOnComplete: true } })),
    );
  }
  const step = Math.max(1, Math.floor(jobs / 10));
  const rows: string[] = [];
  let done = 0;
  const started = Date.now();
  const worker = new Worker('memory', async () => {}, { connection, concurrency: 50 });
  await new Promise<void>((resolve) => {
    worker.on('completed', () => {
      done++;
      if (done % step === 0 || done === jobs) {
        gc!();
        const m = process.memoryUsage();
        rows.push(`| ${done.toLocaleString('en-US')} | ${mb(m.rss)} | ${mb(m.heapUsed)} |`);
      }
      if (done === jobs) resolve();
    });
  });
  const seconds = (Date.now() - started) / 1000;
  await worker.close();
  await queue.close();
  console.log(`\n${store}: ${jobs.toLocaleString('en-US')} jobs in ${seconds.toFixed(0)} s\n`);
  console.log('| jobs done | RSS MB | live heap MB |\n| --- | --- | --- |');
  console.log(rows.join('\n'));
}

for (const store of values.stores.split(',')) {
  if (store === 'redis') {
    const server = new RedisServer();
    await server.start();
    try {
      await drain(store, server.url);
    } finally {
      await server.stop();
    }
  } else if (store === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'docket-memory-'));
    try {
      await drain(store, `sqlite:${join(dir, 'memory.db')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else if (store === 'postgres') {
    const { freshDatabase, dropDatabase } = await import('./postgres-db.js');
    try {
      await drain(store, await freshDatabase());
    } finally {
      await dropDatabase();
    }
  } else throw new Error(`unknown store ${store}; known: redis, sqlite, postgres`);
}
process.exit(0);
