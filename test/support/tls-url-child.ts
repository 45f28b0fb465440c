// Adds and reads back a job through a `rediss://` URL (argv[2]); the CA comes from NODE_EXTRA_CA_CERTS.
import { Queue } from '../../src/index.js';

const queue = new Queue(`tls-${process.pid}`, { connection: process.argv[2] });
const job = await queue.add('x', { ok: true });
const read = await queue.getJob(job.id!);
await queue.close();
process.stdout.write(read?.data?.ok === true ? 'OK' : 'MISSING');
