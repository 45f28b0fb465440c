import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Worker } from '../../src/index.js';
import { useQueues } from '../support/fixture.js';
import { queueName, stores, until } from '../support/stores.js';

// As in BullMQ, a Worker given a processor file that is not there throws at construction (before
// it opens its store), rather than failing every job it takes; a path without a known extension
// means that path plus `.js`.

const dir = mkdtempSync(join(tmpdir(), 'docket-processor-file-'));
const missing = join(dir, 'not-there.js');

describe.each(stores)('a Worker given a processor file on $kind', (store) => {
  const { setup } = useQueues(store);

  it('throws at construction when the path does not exist', () => {
    expect(() => new Worker(queueName(), missing, { connection: store.connection() })).toThrow(
      `File ${missing} does not exist`,
    );
  });

  it('throws at construction when the URL does not exist', () => {
    const url = pathToFileURL(missing);
    expect(() => new Worker(queueName(), url, { connection: store.connection() })).toThrow(
      `URL ${url.href} does not exist in the local file system`,
    );
  });

  it('runs `<path>.js` for a path without an extension', async () => {
    const file = join(dir, `processor-${store.kind}`);
    writeFileSync(`${file}.js`, 'export default async (job) => job.data.n + 1;\n');
    const { queue, worker } = setup();
    worker(file);
    const job = await queue.add('x', { n: 41 });
    await until(async () => (await queue.getJobState(job.id!)) === 'completed', 20_000, 'completion');
    expect((await queue.getJob(job.id!))?.returnvalue).toBe(42);
  });
});
