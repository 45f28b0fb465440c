import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Queue, Worker } from '../../src/index.js';
import { type Child, forkReady, killChild, sleep } from '../support/processes.js';
import { queueName, until } from '../support/stores.js';

/**
 * SQLite crash (guarantees.md "A process dies in the middle of a SQLite transaction"): processes
 * that add and process jobs on one file are SIGKILLed at random moments, over and over. After each
 * kill the file passes `PRAGMA integrity_check`, every add that resolved is there, and every job row
 * is in one consistent state; at the end a fresh worker finishes every job.
 */
const ROUNDS = 6;
const childFile = new URL('../support/sqlite-crash-child.ts', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'docket-sqlite-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Row {
  id: string;
  state: string;
  lane: number;
  token: string | null;
  processed_on: number | null;
  finished_on: number | null;
  returnvalue: string | null;
  failed_reason: string | null;
  attempts_made: number;
  attempts_started: number;
}

/** Reads the file as it is on disk, outside Docket, and checks every row. */
function inspectFile(file: string, queue: string): { ids: Set<string>; states: Record<string, number> } {
  const db = new Database(file);
  try {
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(db.pragma('foreign_key_check')).toEqual([]);
    const rows = db
      .prepare(
        `SELECT id, state, lane, token, processed_on, finished_on, returnvalue, failed_reason, attempts_made,
           attempts_started FROM jobs WHERE queue = ?`,
      )
      .all(queue) as Row[];
    const states: Record<string, number> = {};
    const bad: string[] = [];
    for (const r of rows) {
      states[r.state] = (states[r.state] ?? 0) + 1;
      const ok = (() => {
        switch (r.state) {
          case 'completed':
            return r.finished_on !== null && r.returnvalue !== null && r.token === null && r.attempts_made >= 1;
          case 'failed':
            return r.finished_on !== null && r.failed_reason !== null && r.token === null && r.attempts_made >= 1;
          case 'active':
            return r.token !== null && r.processed_on !== null && r.finished_on === null;
          case 'waiting':
          case 'delayed':
            return r.token === null && r.finished_on === null;
          default:
            return false;
        }
      })();
      if (!ok || r.attempts_made > r.attempts_started) bad.push(JSON.stringify(r));
    }
    expect(bad).toEqual([]);
    const ids = new Set(rows.map((r) => r.id));
    expect(ids.size).toBe(rows.length);
    return { ids, states };
  } finally {
    db.close();
  }
}

function ledgerIds(ledger: string): string[] {
  if (!existsSync(ledger)) return [];
  return readFileSync(ledger, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0);
}

describe('processes killed in the middle of SQLite transactions', () => {
  it('leaves a consistent file holding every acknowledged add', { timeout: 120_000 }, async () => {
    const file = join(dir, 'crash.db');
    const connection = `sqlite:${file}`;
    const name = queueName('crash');
    const qualified = `bull:${name}`;
    const ledger = join(dir, 'acked.log');
    let last: { ids: Set<string>; states: Record<string, number> } = { ids: new Set(), states: {} };
    for (let round = 0; round < ROUNDS; round++) {
      const children: Child[] = await Promise.all([
        forkReady(childFile, [connection, name, ledger]),
        forkReady(childFile, [connection, name, ledger]),
      ]);
      try {
        // Let them add and process for a random while, then kill one, then the other a moment later.
        await sleep(150 + Math.random() * 600);
        await killChild(children[0]);
        await sleep(Math.random() * 100);
        await killChild(children[1]);
      } finally {
        await Promise.all(children.map(killChild));
      }
      last = inspectFile(file, qualified);
      const acked = ledgerIds(ledger);
      const missing = acked.filter((id) => !last.ids.has(id));
      expect(missing, `round ${round}: acknowledged adds missing after the kill`).toEqual([]);
    }
    const acked = ledgerIds(ledger);
    expect(acked.length).toBeGreaterThan(100);
    console.info(
      `[sqlite-crash] ${ROUNDS} rounds, ${acked.length} acknowledged adds, states ${JSON.stringify(last.states)}`,
    );

    // Reopen through Docket: the counts agree with the file, and a worker finishes everything.
    const queue = new Queue(name, { connection });
    const worker = new Worker(name, async () => 'after the crash', {
      connection,
      concurrency: 8,
      drainDelay: 1,
      lockDuration: 1000,
      stalledInterval: 200,
      maxStalledCount: 5,
    });
    try {
      const counts = await queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed');
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(last.ids.size);
      await until(
        async () => {
          const c = await queue.getJobCounts('completed', 'failed');
          return c.completed + c.failed === last.ids.size;
        },
        60_000,
        'every job to finish after the crashes',
      );
      const final = inspectFile(file, qualified);
      expect(final.states.active ?? 0).toBe(0);
    } finally {
      await worker.close();
      await queue.close();
    }
  });
});
