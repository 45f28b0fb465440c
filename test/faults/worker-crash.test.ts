import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Queue, QueueEvents } from '../../src/index.js';
import { type Child, forkReady, killChild, sleep, stopChild } from '../support/processes.js';
import { queueName, stores, until } from '../support/stores.js';

/**
 * Worker crash (guarantees.md "A worker process dies"): worker processes are SIGKILLed at random
 * while they process a shared queue, and replaced. Every job must end `completed`, with exactly one
 * completion record (one `completed` event), and every extra run must be explained by a kill.
 */
const TOTAL = Number(process.env.CRASH_JOBS ?? 5000);
const WORKERS = 3;
const CONCURRENCY = 4;
const MIN_KILLS = 8;
const MAX_KILLS = 30;
const workerFile = new URL('../support/crash-worker.ts', import.meta.url).pathname;
const ledgerDir = mkdtempSync(join(tmpdir(), 'docket-ledger-'));
afterAll(() => rmSync(ledgerDir, { recursive: true, force: true }));

describe.each(stores)('worker processes killed at random on $kind', (store) => {
  it('completes every job once and explains every re-run by a kill', { timeout: 150_000 }, async () => {
    const connection = store.connection();
    const name = queueName('crash');
    const ledgers = mkdtempSync(join(ledgerDir, `${store.kind}-`));
    const queue = new Queue(name, { connection });
    const events = new QueueEvents(name, { connection });
    const children = new Set<Child>();
    const killed = new Set<number>();
    const completedEvents = new Map<string, number>();
    let stalledEvents = 0;
    events.on('stalled', () => stalledEvents++);
    events.on('completed', ({ jobId }: { jobId: string }) => {
      completedEvents.set(jobId, (completedEvents.get(jobId) ?? 0) + 1);
    });
    const spawn = async () => {
      const child = await forkReady(workerFile, [
        connection,
        name,
        join(ledgers, `${Date.now()}-${Math.random()}.log`),
        String(CONCURRENCY),
      ]);
      children.add(child);
      return child;
    };
    try {
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
      await Promise.all(Array.from({ length: WORKERS }, spawn));

      // The producer adds in batches while the killer runs.
      const producer = (async () => {
        for (let i = 0; i < TOTAL; i += 250) {
          const n = Math.min(250, TOTAL - i);
          await queue.addBulk(
            Array.from({ length: n }, (_, j) => ({ name: 'j', data: { i: i + j, ms: 10 + ((i + j) % 30) } })),
          );
          await sleep(50);
        }
      })();

      // Every 150-500 ms a random worker dies; its replacement starts in the background (tsx takes a
      // while), and at least one worker is always alive.
      let kills = 0;
      const spawning: Promise<unknown>[] = [];
      const killUntil = Date.now() + 40_000;
      while (Date.now() < killUntil) {
        await sleep(150 + Math.random() * 350);
        const done = (await queue.getJobCounts('completed')).completed;
        if (kills >= MAX_KILLS || (kills >= MIN_KILLS && done >= TOTAL * 0.9) || done === TOTAL) break;
        if (children.size < 2) continue;
        const victims = [...children];
        const victim = victims[Math.floor(Math.random() * victims.length)];
        children.delete(victim);
        killed.add(victim.pid);
        await killChild(victim);
        kills++;
        const replacement = spawn();
        replacement.catch(() => undefined); // reported by Promise.all below
        spawning.push(replacement);
      }
      await Promise.all(spawning);
      await producer;

      await until(
        async () => (await queue.getJobCounts('completed')).completed === TOTAL,
        60_000,
        `all ${TOTAL} completions`,
      ).catch(async (err) => {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
        const said = [...children].map((c) => `${c.pid}: ${c.stderr.join('').slice(-2000)}`).join('\n');
        throw new Error(`${err.message}: ${JSON.stringify(counts)}, ${kills} kills; live workers said:\n${said}`);
      });
      await until(() => completedEvents.size === TOTAL, 30_000, 'a completed event for every job');

      const counts = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed');
      expect(counts).toEqual({ waiting: 0, prioritized: 0, active: 0, delayed: 0, completed: TOTAL, failed: 0 });

      // The ledger: every run of every job, by pid.
      const runs = new Map<string, number[]>();
      for (const file of readdirSync(ledgers)) {
        for (const line of readFileSync(join(ledgers, file), 'utf8').split('\n')) {
          const [id, pid] = line.split(' ');
          if (!id || !pid) continue;
          if (!runs.has(id)) runs.set(id, []);
          runs.get(id)!.push(Number(pid));
        }
      }
      const unexplained: string[] = [];
      let reruns = 0;
      const jobs = await queue.getJobs(['completed'], 0, -1, true);
      expect(jobs).toHaveLength(TOTAL);
      for (const job of jobs) {
        const pids = [...(runs.get(job.id!) ?? [])];
        const completer = job.returnvalue as number;
        const at = pids.indexOf(completer);
        if (at < 0) {
          unexplained.push(`${job.id}: completed by ${completer}, not in ledger ${pids.join(',')}`);
          continue;
        }
        pids.splice(at, 1);
        reruns += pids.length;
        const extra = pids.filter((pid) => !killed.has(pid));
        if (extra.length > 0)
          unexplained.push(`${job.id}: runs ${runs.get(job.id!)!.join(',')}, completed by ${completer}`);
        expect(job.attemptsMade).toBe(1);
        expect(job.finishedOn).toBeGreaterThan(0);
      }
      expect(unexplained).toEqual([]);
      expect([...completedEvents.values()].every((n) => n === 1)).toBe(true);
      console.info(
        `[worker-crash ${store.kind}] ${TOTAL} jobs, ${kills} kills, ${stalledEvents} stalled recoveries, ${reruns} re-runs after kills`,
      );
      // The kills did interrupt running jobs, and those came back through the stalled checker.
      expect(kills).toBeGreaterThanOrEqual(MIN_KILLS);
      expect(stalledEvents).toBeGreaterThan(0);
      expect(reruns).toBeGreaterThan(0);

      // A late duplicate event would show up now: give the log one more read.
      await sleep(300);
      expect([...completedEvents.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await Promise.all([...children].map((c) => stopChild(c)));
      await events.close();
      await queue.close();
      if (existsSync(ledgers)) rmSync(ledgers, { recursive: true, force: true });
    }
  });
});
