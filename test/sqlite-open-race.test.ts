import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Queue } from '../src/index.js';
import type { RoundReport } from './support/open-race-child.js';
import { type Child, forkReady, stopChild } from './support/processes.js';
import { queueName } from './support/stores.js';

const dir = mkdtempSync(join(tmpdir(), 'docket-open-race-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PROCESSES = 8;
const ROUNDS = 6;

function nextReport(child: Child): Promise<RoundReport> {
  return new Promise((resolve, reject) => {
    const onMessage = (msg: unknown) => {
      if (typeof msg !== 'object') return;
      child.proc.off('message', onMessage);
      resolve(msg as RoundReport);
    };
    child.proc.on('message', onMessage);
    void child.exited.then((code) => reject(new Error(`child exited with ${code}:\n${child.stderr.join('')}`)));
  });
}

describe('processes opening one SQLite file at the same moment', () => {
  it(`${PROCESSES} processes open a new file, then the same file, together, ${ROUNDS} times: no error reaches the user`, async () => {
    const file = new URL('./support/open-race-child.ts', import.meta.url).pathname;
    const children = await Promise.all(Array.from({ length: PROCESSES }, () => forkReady(file, [])));
    try {
      let path = '';
      for (let round = 0; round < ROUNDS; round++) {
        // Even rounds: a file nobody created yet (the migration and the switch to WAL race);
        // odd rounds: the file of the round before, opened again by everyone at once.
        if (round % 2 === 0) path = join(dir, `race-${round}.db`);
        const name = queueName();
        const reports = Promise.all(children.map(nextReport));
        for (const child of children) child.proc.send({ file: path, queue: name });
        const errors = (await reports).flatMap((r) => r.errors.map((e) => `round ${round}, pid ${r.pid}: ${e}`));
        expect(errors).toEqual([]);
        const queue = new Queue(name, { connection: `sqlite:${path}` });
        try {
          expect(await queue.getJobCounts('completed', 'waiting', 'active')).toEqual({
            completed: PROCESSES,
            waiting: 0,
            active: 0,
          });
        } finally {
          await queue.close();
        }
      }
    } finally {
      await Promise.all(children.map((c) => stopChild(c)));
    }
  }, 300_000);
});
