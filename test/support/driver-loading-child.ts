// Which store drivers a process loads (test/store/postgres-driver-loading.test.ts). argv = a SQLite
// connection, a PostgreSQL connection. Runs a job on SQLite, then makes a PostgreSQL Queue, and
// prints one JSON line: whether `pg` was loaded after each step.
import { createRequire } from 'node:module';
import { sep } from 'node:path';
import { Queue, Worker } from '../../src/index.js';

const [sqlite, postgres] = process.argv.slice(2);
const cache = createRequire(import.meta.url).cache;
const pgLoaded = () => Object.keys(cache).some((file) => file.includes(`${sep}node_modules${sep}pg${sep}`));

const atImport = pgLoaded();
const queue = new Queue('driver-loading', { connection: sqlite });
const worker = new Worker('driver-loading', async (job) => job.data.n * 2, { connection: sqlite });
const done = new Promise((resolve) => worker.once('completed', (_job, result) => resolve(result)));
await queue.add('double', { n: 21 });
const result = await done;
await worker.close();
await queue.close();
const afterSqlite = pgLoaded();

const pgQueue = new Queue('driver-loading', { connection: postgres });
await pgQueue.getJobCounts();
const afterPostgres = pgLoaded();
await pgQueue.close();

console.log(JSON.stringify({ atImport, result, afterSqlite, afterPostgres }));
