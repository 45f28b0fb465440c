import { inspect } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { type Job, Queue } from '../../src/index.js';
import { useQueues } from '../support/fixture.js';
import { RedisServer } from '../support/redis-server.js';
import { queueName, stores, until } from '../support/stores.js';

/**
 * Regression tests for bugs the fault, model and hostile tests found (each names its bug). Resent moves
 * and fetches have a file of their own: resent-moves.test.ts.
 */
describe.each(stores)('known bugs on $kind', (store) => {
  const { setup, track } = useQueues(store);

  // BUG refused-move-fetches: complete.lua / fail.lua and SqliteStore.complete / fail run the
  // fetch of `fetchNext` even when the move itself was refused (lock lost). The fetched job goes
  // active under a token whose owner was just told its move failed and never processes it: it sits
  // active until its lock lapses, then stalls (stalledCounter + 1, an extra start, and with
  // maxStalledCount 0 it even fails).
  it('does not fetch a next job when the move that carries the fetch is refused', async () => {
    const { queue, worker } = setup();
    await queue.add('a', {});
    const w = worker(null, { lockDuration: 100 });
    const fetchedAt = Date.now();
    const a = (await w.getNextJob('t1', { block: false }))!;
    await until(() => Date.now() > fetchedAt + 150, 5_000, 'the lock to lapse');
    await queue.add('b', {});
    await expect(a.moveToCompleted('late', 't1', true)).rejects.toThrow(/Missing lock/);
    expect(await queue.getJobState('2')).toBe('waiting');
    await expect(a.moveToFailed(new Error('late'), 't1', true)).rejects.toThrow(/Missing lock/);
    expect(await queue.getJobState('2')).toBe('waiting');
    expect((await queue.getJob('2'))?.attemptsStarted).toBe(0);
  });

  // BUG unserialisable-result: Worker.finishCompleted calls JSON.stringify(value) outside any
  // try: a BigInt or circular return value throws there, the worker only emits 'error', and the
  // job stays active without lock renewal until the stalled checker takes it back and runs it again
  // (and again, until maxStalledCount fails it as "stalled"). The job should fail at once with a
  // reason naming the problem.
  it('fails a job whose processor returns a BigInt or a circular value, at once and readably', async () => {
    const { queue, worker } = setup();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await queue.add('bigint', {});
    await queue.add('circular', {});
    const w = worker(async (job: Job) => (job.name === 'bigint' ? 10n : circular), {
      lockDuration: 5_000,
      stalledInterval: 200,
    });
    w.on('error', () => undefined);
    await until(async () => (await queue.getFailedCount()) === 2, 3_000, 'both jobs to fail');
    expect((await queue.getJob('1'))?.failedReason).toMatch(/BigInt/i);
    expect((await queue.getJob('2'))?.failedReason).toMatch(/circular/i);
    expect((await queue.getJob('1'))?.stalledCounter).toBe(0);
  });

  // BUG undefined-returnvalue (Redis): a processor returning a function or a Symbol makes
  // JSON.stringify return undefined; Redis stores returnvalue '' and every later getJob throws
  // "Unexpected end of JSON input" (the job can no longer be read). SQLite stores NULL and reads null.
  it('completes a job whose processor returns a function or a Symbol with a null return value', async () => {
    const { queue, worker } = setup();
    await queue.add('function', {});
    await queue.add('symbol', {});
    worker(async (job: Job) => (job.name === 'function' ? () => 1 : Symbol('s')));
    await until(async () => (await queue.getCompletedCount()) === 2, 5_000, 'both jobs');
    expect((await queue.getJob('1'))?.returnvalue).toBeNull();
    expect((await queue.getJob('2'))?.returnvalue).toBeNull();
  });

  // BUG lone-surrogates: names and ids are sent to Redis / SQLite as UTF-8, which cannot hold a
  // lone surrogate: each becomes U+FFFD (one or three of them). The name comes back changed, and two
  // different ids ('x\ud800' and 'x\udbff') land on the same job. They should be refused.
  it('refuses (or keeps apart) names and ids with lone surrogates', async () => {
    const queue = track(new Queue(queueName(), { connection: store.connection() }));
    const first = await queue.add('name\ud800', { n: 1 }, { jobId: 'x\ud800' }).catch((e: unknown) => e);
    if (first instanceof Error) {
      expect(first).toBeInstanceOf(ValidationError);
      return;
    }
    await queue.add('other', { n: 2 }, { jobId: 'x\udbff' });
    expect((await queue.getJob('x\ud800'))?.name).toBe('name\ud800');
    expect((await queue.getJob('x\udbff'))?.data).toEqual({ n: 2 });
    expect(await queue.getJobCountByTypes('waiting')).toBe(2);
  });

  // BUG remove-lapsed (SQLite): SqliteStore.remove refuses any row with a token, even when its lock
  // lapsed; the contract (store.ts) counts a lapsed lock as missing and the Redis store removes such a
  // job. queue.remove() then throws "locked by another worker" on SQLite only. (The model test skips
  // this case on SQLite.)
  it('removes an active job whose lock lapsed', async () => {
    const { queue, worker } = setup();
    await queue.add('x', {});
    const w = worker(null, { lockDuration: 50 });
    expect(await w.getNextJob('t', { block: false })).toBeDefined();
    // Timed from the reply, not from the call: the store sets the lock when it runs the fetch, which a
    // loaded machine may delay past any margin counted from before the call.
    const fetchedBy = Date.now();
    await until(() => Date.now() > fetchedBy + 200, 5_000, 'the lock to lapse');
    expect(await queue.remove('1')).toBe(1);
    expect(await queue.getJobState('1')).toBe('unknown');
  });
});

// BUG password-in-error-command (Redis): with a wrong password, ioredis rejects with a ReplyError
// whose `command` field is { name: 'hello', args: ['3', 'AUTH', user, password] }. Docket passes
// that error on unchanged (worker/queue/events 'error', rejected calls), so console.error(err) or
// util.inspect(err) prints the password. Message and stack are clean (see auth.test.ts).
describe('known bugs: secrets', () => {
  // BUG redact-typo-url: redactUrl only hides `//user:pass@`; a mistyped URL such as
  // `redis:/:secret@host` or `redis:secret@host` reaches the ValidationError message verbatim.
  it('keeps the password of a mistyped redis URL out of the validation error', () => {
    for (const connection of ['redis:/:Wr0ng-Pa55@host:6379', 'redis:Wr0ng-Pa55@host']) {
      let message = '';
      try {
        new Queue(queueName(), { connection }).close();
      } catch (err) {
        message = `${(err as Error).message}\n${(err as Error).stack}`;
      }
      expect(message).not.toBe('');
      expect(message).not.toContain('Wr0ng-Pa55');
    }
  });

  const server = new RedisServer(['--requirepass', 'right-password']);
  beforeAll(() => server.start());
  afterAll(() => server.destroy());

  it('keeps a wrong password out of everything an error shows', async () => {
    const wrong = 'Wr0ng-Pa55word-frotz';
    const connection = `redis://docket:${wrong}@127.0.0.1:${server.port}`;
    const queue = new Queue(queueName(), { connection });
    const err = await Promise.race([
      queue.add('x', {}).then(
        () => undefined,
        (e: unknown) => e,
      ),
      new Promise((r) => setTimeout(() => r(undefined), 5_000)),
    ]);
    await queue.close();
    const admin = new Redis({ port: server.port, password: 'right-password' });
    await admin.quit();
    expect(err).toBeInstanceOf(Error);
    expect(inspect(err, { depth: 6, showHidden: true })).not.toContain(wrong);
    expect(JSON.stringify(err)).not.toContain(wrong);
  });
});

// BUG resent-add (Redis): ioredis re-sends commands whose reply was lost when a connection drops
// (autoResendUnfulfilledCommands, on by default). A resent addJobs script ran twice: one
// acknowledged add became two jobs with automatic ids. (Resent fetches and moves: resent-moves.test.ts.)
describe('known bugs: Redis connection cuts', () => {
  const server = new RedisServer();
  beforeAll(() => server.start());
  afterAll(() => server.destroy());

  // BUG resent-add (Redis): ioredis resends a command whose reply was lost with a cut connection,
  // so an add ran twice. Each addJobs call now carries a call id; a resent call gets the first answer.
  it('never turns one add into two jobs when connections are cut', async () => {
    const queue = new Queue(queueName(), { connection: server.url });
    const admin = new Redis(server.url);
    let attempted = 0;
    let stop = false;
    // Ten adds in flight at any moment, so that cuts often land between a script and its reply.
    const adding = Array.from({ length: 10 }, async () => {
      while (!stop) {
        attempted++;
        await queue.add('j', { pad: 'x'.repeat(2000) }).catch(() => undefined);
      }
    });
    for (let i = 0; i < 60; i++) {
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 30));
      await admin.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    }
    stop = true;
    await Promise.all(adding);
    const count = await queue.getJobCountByTypes('waiting');
    await queue.close();
    await admin.quit();
    expect(count).toBeLessThanOrEqual(attempted);
  });

  // BUG unhandled-client-error (Redis): the ioredis client a RedisStore creates from a URL has no
  // 'error' listener, so every dropped connection prints "[ioredis] Unhandled error event: …" to the
  // console instead of reaching the Queue/Worker 'error' event.
  it('reports a dropped connection through the error event, not the console', async () => {
    const { vi } = await import('vitest');
    const printed: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => printed.push(args.join(' ')));
    const queue = new Queue(queueName(), { connection: server.url });
    queue.on('error', () => undefined);
    try {
      await queue.add('x', {});
      await server.stop(true);
      await new Promise((r) => setTimeout(r, 300));
      await server.start();
      await queue.add('y', {});
    } finally {
      spy.mockRestore();
      await queue.close();
    }
    expect(printed.filter((p) => p.includes('Unhandled error event'))).toEqual([]);
  });
});
