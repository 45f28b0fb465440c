import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Queue } from '../src/index.js';
import { queueName, until } from './support/stores.js';

const dir = mkdtempSync(join(tmpdir(), 'docket-checkpoint-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sqlite WAL checkpoints', () => {
  it('keeps checkpointing, from its own thread, with automatic checkpoints off', async () => {
    const file = join(dir, 'q.db');
    const queue = new Queue(queueName(), { connection: `sqlite:${file}` });
    try {
      await queue.waitUntilReady();
      const before = statSync(file).size;
      // Commits go to the WAL; the committing connection never checkpoints (wal_autocheckpoint = 0),
      // so the main file only grows when the checkpointer thread copies the pages over.
      for (let i = 0; i < 20; i++) {
        await queue.addBulk(Array.from({ length: 500 }, (_, n) => ({ name: 'x', data: { n, pad: 'p'.repeat(200) } })));
      }
      await until(() => statSync(file).size > before + 1_000_000, 20_000, 'the database file to grow');
      expect(await queue.count()).toBe(10_000);
    } finally {
      await queue.close();
    }
  });
});
