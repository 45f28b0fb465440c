import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Queue, Worker } from '../../src/index.js';
import { forkReady, killChild } from '../support/processes.js';
import { stepsProcessor } from '../support/steps-processor.js';
import { queueName, stores, until } from '../support/stores.js';

/**
 * Durable steps across a worker process's death (issue 20): a worker SIGKILLed between steps never
 * runs a recorded step again; one SIGKILLed inside a step runs only that step again. The steps note
 * each run in a ledger file, the side channel that outlives the process.
 */
const workerFile = new URL('../support/steps-crash-worker.ts', import.meta.url).pathname;
const ledgerDir = mkdtempSync(join(tmpdir(), 'docket-steps-'));
afterAll(() => rmSync(ledgerDir, { recursive: true, force: true }));

describe.each(stores)('durable steps when a worker dies on $kind', (store) => {
  it.each([
    ['between steps', 'between', ['a', 'b', 'c']],
    ['inside a step', 'inside', ['a', 'b', 'b', 'c']],
  ] as const)(
    'killed %s: only the step that was not recorded runs again',
    { timeout: 90_000 },
    async (_label, hang, expected) => {
      const connection = store.connection();
      const name = queueName('steps-crash');
      const ledger = join(ledgerDir, `${name}.log`);
      const queue = new Queue(name, { connection });
      let worker: Worker | undefined;
      const child = await forkReady(workerFile, [connection, name, ledger, hang]);
      try {
        const hung = new Promise((resolve) => child.proc.on('message', (m) => m === 'hang' && resolve(m)));
        const job = await queue.add('steps', {}, { attempts: 1 });
        await hung;
        await killChild(child);
        expect((await queue.getJob(job.id!))?.steps).toEqual({ a: 1 });
        // The replacement finds the job stalled once the dead worker's lock lapses, and finishes it.
        worker = new Worker(name, stepsProcessor(ledger, 'none'), {
          connection,
          drainDelay: 1,
          stalledInterval: 200,
        });
        await until(async () => (await queue.getJobState(job.id!)) === 'completed', 30_000, 'the job to complete');
        const done = (await queue.getJob(job.id!))!;
        expect(done.returnvalue).toBe(6);
        expect(done.steps).toEqual({ a: 1, b: 2, c: 3 });
        const runs = readFileSync(ledger, 'utf8').trim().split('\n');
        expect(runs).toEqual(expected.map((step) => `${job.id} ${step}`));
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${child.stderr.join('')}`);
      } finally {
        await killChild(child);
        await worker?.close();
        await queue.close();
      }
    },
  );
});
