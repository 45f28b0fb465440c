import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Queue, QueueEvents } from '../../src/index.js';
import { type Child, forkReady, killChild, sleep, stopChild } from '../support/processes.js';
import { queueName, stores, until } from '../support/stores.js';

/**
 * A batch worker dies mid-batch (issue 23): the process is SIGKILLed while its processor holds a batch
 * of 50 jobs. Another worker process must finish every job exactly once: the killed batch's jobs come
 * back one by one through the stalled check (each job keeps its own lock), none is lost, none
 * completes twice.
 */
const TOTAL = 300;
const workerFile = new URL('../support/batch-crash-worker.ts', import.meta.url).pathname;
const ledgerDir = mkdtempSync(join(tmpdir(), 'docket-batch-ledger-'));
afterAll(() => rmSync(ledgerDir, { recursive: true, force: true }));

describe.each(stores)('a batch worker killed mid-batch on $kind', (store) => {
  it('loses no job and completes each once', { timeout: 120_000 }, async () => {
    const connection = store.connection();
    const name = queueName('batch-crash');
    const ledger = join(ledgerDir, `${name}.log`);
    const queue = new Queue(name, { connection });
    const events = new QueueEvents(name, { connection });
    const completed = new Map<string, number>();
    let stalled = 0;
    events.on('stalled', () => stalled++);
    events.on('completed', ({ jobId }: { jobId: string }) => completed.set(jobId, (completed.get(jobId) ?? 0) + 1));
    const children: Child[] = [];
    try {
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
      await queue.addBulk(Array.from({ length: TOTAL }, (_, i) => ({ name: 'j', data: { i } })));

      // The first worker takes a batch and hangs in it; it dies while the batch runs.
      const doomed = await forkReady(workerFile, [connection, name, ledger, '600000']);
      children.push(doomed);
      const ledgerLines = () => (existsSync(ledger) ? readFileSync(ledger, 'utf8').trim().split('\n').length : 0);
      await until(() => ledgerLines() === 50, 30_000, 'the first batch to start');
      await killChild(doomed);
      const killedRuns = readFileSync(ledger, 'utf8').trim().split('\n');
      expect(killedRuns).toHaveLength(50);
      expect((await queue.getJobCounts('active')).active).toBe(50);

      // The second worker finishes everything, the killed batch's jobs once their locks lapsed.
      const survivor = await forkReady(workerFile, [connection, name, ledger, '20']);
      children.push(survivor);
      await until(
        async () => (await queue.getJobCounts('completed')).completed === TOTAL,
        60_000,
        `all ${TOTAL} completions`,
      ).catch(async (err) => {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
        throw new Error(`${err.message}: ${JSON.stringify(counts)}; survivor said ${survivor.stderr.join('')}`);
      });
      await until(() => completed.size === TOTAL, 30_000, 'a completed event per job');
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
      expect(counts).toEqual({ waiting: 0, active: 0, delayed: 0, completed: TOTAL, failed: 0 });
      const jobs = await queue.getJobs(['completed'], 0, -1);
      expect(jobs.every((j) => j.returnvalue === survivor.pid && j.attemptsMade === 1)).toBe(true);
      expect(stalled).toBe(50);

      // Every job ran once by the survivor; the killed batch's jobs ran once before, by the killed worker.
      const runs = new Map<string, number[]>();
      for (const line of readFileSync(ledger, 'utf8').trim().split('\n')) {
        const [id, pid] = line.split(' ');
        runs.set(id, [...(runs.get(id) ?? []), Number(pid)]);
      }
      expect(runs.size).toBe(TOTAL);
      const killedIds = new Set(killedRuns.map((line) => line.split(' ')[0]));
      for (const [id, pids] of runs) {
        expect(pids).toEqual(killedIds.has(id) ? [doomed.pid, survivor.pid] : [survivor.pid]);
      }
      // A late duplicate event would show up now: give the log one more read.
      await sleep(300);
      expect([...completed.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await Promise.all(children.map((c) => stopChild(c)));
      await events.close();
      await queue.close();
    }
  });
});
