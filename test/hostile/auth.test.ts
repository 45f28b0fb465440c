import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Queue, QueueEvents, Worker } from '../../src/index.js';
import { RedisServer } from '../support/redis-server.js';
import { queueName, until } from '../support/stores.js';

/**
 * Credentials (guarantees.md "Secrets and files"): Redis URLs with a password or an ACL user work,
 * and no password ever shows up in an error, a log line or an event; a SQLite file is created
 * readable by its owner only.
 */
const PASSWORD = 'S3cret-Pa55word-xyzzy';
const USER_PASSWORD = 'Us3r-Pa55word-plugh';
const WRONG = 'Wr0ng-Pa55word-frotz';

describe('Redis with requirepass and an ACL user', () => {
  const server = new RedisServer(['--requirepass', PASSWORD]);
  let captured: string[] = [];
  const spies: { mockRestore(): void }[] = [];

  beforeAll(async () => {
    await server.start();
    const admin = new Redis({ port: server.port, host: '127.0.0.1', password: PASSWORD });
    await admin.call('ACL', 'SETUSER', 'docket', 'on', `>${USER_PASSWORD}`, '~*', '&*', '+@all');
    await admin.quit();
  });

  afterAll(async () => {
    await server.destroy();
  });

  function captureOutput() {
    captured = [];
    for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
      spies.push(vi.spyOn(console, method).mockImplementation((...args: unknown[]) => captured.push(inspect(args))));
    }
    const write = process.stderr.write.bind(process.stderr);
    spies.push(
      vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
        captured.push(String(chunk));
        return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
      }) as never),
    );
  }

  function restoreOutput() {
    for (const spy of spies.splice(0)) spy.mockRestore();
  }

  /** What an application prints of an error: its string, message and stack. (The fields ioredis
   *  attaches, which util.inspect shows, are regressions.test.ts "password-in-error-command".) */
  function errorText(err: unknown): string {
    const e = err as Error;
    return [String(e), e?.message, e?.stack].join('\n');
  }

  for (const [label, url] of [
    ['redis://:password@', () => `redis://:${PASSWORD}@127.0.0.1:${server.port}`],
    ['redis://user:password@ (ACL user)', () => `redis://docket:${USER_PASSWORD}@127.0.0.1:${server.port}`],
  ] as const) {
    it(`adds, processes and reports events over ${label}`, async () => {
      const connection = url();
      const name = queueName();
      const queue = new Queue(name, { connection });
      const events = new QueueEvents(name, { connection });
      const worker = new Worker(name, async (job) => `done ${job.data.n}`, { connection, drainDelay: 1 });
      try {
        await events.waitUntilReady();
        const job = await queue.add('x', { n: 1 });
        expect(await job.waitUntilFinished(events, 10_000)).toBe('done 1');
      } finally {
        await Promise.all([worker.close(), events.close(), queue.close()]);
      }
    });
  }

  it('keeps a wrong password out of errors, logs and events', async () => {
    captureOutput();
    const seen: unknown[] = [];
    const connection = `redis://docket:${WRONG}@127.0.0.1:${server.port}`;
    const name = queueName();
    const queue = new Queue(name, { connection });
    const worker = new Worker(name, async () => 'x', { connection, drainDelay: 1 });
    const events = new QueueEvents(name, { connection });
    for (const emitter of [queue, worker, events]) emitter.on('error', (err) => seen.push(err));
    try {
      const addError = await Promise.race([
        queue.add('x', {}).then(
          () => new Error('the add should not succeed with a wrong password'),
          (err: unknown) => err,
        ),
        new Promise((r) => setTimeout(() => r(new Error('add still pending')), 5_000)),
      ]);
      seen.push(addError);
      await until(() => seen.length >= 2, 10_000, 'errors from the worker or events');
      // Let retries print whatever they print.
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await Promise.all([worker.close(), events.close(), queue.close()]);
      restoreOutput();
    }
    const texts = seen.map(errorText);
    expect(
      texts.some((t) => /WRONGPASS|NOAUTH|auth|password/i.test(t)),
      texts.join('\n---\n'),
    ).toBe(true);
    for (const text of [...texts, ...captured]) {
      expect(text).not.toContain(WRONG);
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(USER_PASSWORD);
    }
  });

  it('keeps the password of an unsupported URL out of the validation error', () => {
    const thrown: unknown[] = [];
    for (const connection of [`mysql://root:${WRONG}@db:3306/x`, `http://u:${WRONG}@host/`, `mongodb://:${WRONG}@h`]) {
      try {
        new Queue(queueName(), { connection }).close();
      } catch (err) {
        thrown.push(err);
      }
    }
    expect(thrown.length).toBeGreaterThan(0);
    for (const err of thrown) expect(errorText(err)).not.toContain(WRONG);
  });
});

describe('SQLite file permissions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'docket-perm-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the database file readable and writable by its owner only, whatever the umask', async () => {
    const old = process.umask(0o000);
    const file = join(dir, 'perm.db');
    const queue = new Queue(queueName(), { connection: `sqlite:${file}` });
    try {
      await queue.add('x', { secret: 'data' });
      for (const f of [file, `${file}-wal`, `${file}-shm`]) {
        let mode: number | undefined;
        try {
          mode = statSync(f).mode & 0o777;
        } catch {
          continue; // not every companion file exists at every moment
        }
        expect(mode.toString(8), f).toBe('600');
      }
    } finally {
      process.umask(old);
      await queue.close();
    }
  });
});
