import { type ChildProcess, fork } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { Queue } from '../src/index.js';
import { queueName, stores, until } from './support/stores.js';

const sqlite = stores.find((s) => s.kind === 'sqlite')!;

function startWorker(connection: string, name: string): Promise<ChildProcess> {
  const child = fork(new URL('./support/child-worker.ts', import.meta.url).pathname, [connection, name, '4'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`child worker exited with ${code}`)));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.send('close');
  await exited;
}

describe('two processes sharing one SQLite file', () => {
  it('splits the jobs between workers in two other processes, each job run once', async () => {
    const connection = sqlite.connection();
    const name = queueName();
    const queue = new Queue(name, { connection });
    await queue.waitUntilReady();
    const children = await Promise.all([startWorker(connection, name), startWorker(connection, name)]);
    try {
      const total = 200;
      for (let i = 0; i < total; i += 20) {
        await queue.addBulk(Array.from({ length: 20 }, (_, j) => ({ name: 'j', data: { i: i + j, ms: 2 } })));
      }
      await until(async () => (await queue.getJobCounts('completed')).completed === total, 30_000, 'all completions');
      const jobs = await Promise.all(Array.from({ length: total }, (_, i) => queue.getJob(String(i + 1))));
      const pids = new Set(jobs.map((j) => j?.returnvalue));
      expect(pids).toEqual(new Set(children.map((c) => c.pid)));
      expect(jobs.every((j) => j?.attemptsStarted === 1 && j.attemptsMade === 1)).toBe(true);
    } finally {
      await Promise.all(children.map(stop));
      await queue.close();
    }
  });
});
