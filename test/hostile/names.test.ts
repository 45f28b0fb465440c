import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { Queue } from '../../src/index.js';
import { useQueues } from '../support/fixture.js';
import { queueName, stores, until } from '../support/stores.js';

/**
 * Hostile names and ids (guarantees.md "Hostile input"): a queue, prefix, job name or job id full of
 * glob, hash-tag, SQL or Lua metacharacters is an opaque string: it never reaches another queue's
 * keys or rows and never runs as code. ':' in queue names and job ids is refused.
 */
// Lone surrogates in names and ids: see regressions.test.ts.
const METAS = ['*', '?', '[ab]', '{tag}', '}{', '%', '_', "'", '"', ';--', '\\', '\n', '\r\n', ' ', ']]', '\t'];

describe.each(stores)('hostile names and ids on $kind', (store) => {
  const { track } = useQueues(store);

  it("refuses ':' in queue names and job ids, naming the problem", async () => {
    const connection = store.connection();
    expect(() => new Queue('a:b', { connection })).toThrow(ValidationError);
    expect(() => new Queue('a:b', { connection })).toThrow('Queue name cannot contain :');
    expect(() => new Queue('', { connection })).toThrow(ValidationError);
    const queue = track(new Queue(queueName(), { connection }));
    await expect(queue.add('x', {}, { jobId: 'a:b' })).rejects.toThrow(ValidationError);
    await expect(queue.add('x', {}, { jobId: '123' })).rejects.toThrow(ValidationError);
    expect(await queue.getJobCountByTypes('waiting')).toBe(0);
    // An empty jobId is ignored, as in BullMQ: the job gets a number.
    expect((await queue.add('x', {}, { jobId: '' })).id).toMatch(/^\d+$/);
  });

  it('keeps queues whose names a glob, LIKE or hash tag would confuse apart', { timeout: 60_000 }, async () => {
    const connection = store.connection();
    const base = queueName('n');
    // Each hostile name next to a neighbour that a pattern built from the hostile name would match.
    const pairs: [string, string][] = [
      [`${base}*`, `${base}x`],
      [`${base}?`, `${base}y`],
      [`${base}[ab]`, `${base}a`],
      [`${base}%`, `${base}anything`],
      [`${base}_`, `${base}z`],
      [`${base}{t}`, `${base}t`],
      [`${base}'); DROP TABLE jobs; --`, `${base}'`],
      [`${base}]]..redis.call('FLUSHALL')..[[`, `${base}]]`],
      [`${base}\n`, `${base}`],
      [`${base}\\`, `${base}\\\\`],
    ];
    for (const [hostile, neighbour] of pairs) {
      const h = track(new Queue(hostile, { connection }));
      const n = track(new Queue(neighbour, { connection }));
      await n.add('keep', { who: neighbour });
      await n.add('keep-delayed', { who: neighbour }, { delay: 60_000 });
      await h.add('mine', { who: hostile });
      await h.add('mine-delayed', { who: hostile }, { delay: 60_000 });
      expect(await h.getJobCounts('waiting', 'delayed'), hostile).toEqual({ waiting: 1, delayed: 1 });
      await h.pause();
      expect(await n.isPaused(), neighbour).toBe(false);
      await h.drain(true);
      await h.clean(0, 0, 'completed');
      await h.obliterate({ force: true });
      expect(await h.getJobCounts('waiting', 'delayed'), hostile).toEqual({ waiting: 0, delayed: 0 });
      expect(await n.getJobCounts('waiting', 'delayed'), neighbour).toEqual({ waiting: 1, delayed: 1 });
      expect((await n.getJob('1'))?.data, neighbour).toEqual({ who: neighbour });
      await Promise.all([h.close(), n.close()]);
    }
  });

  it('keeps prefixes with metacharacters apart', async () => {
    const connection = store.connection();
    const name = queueName();
    const hostile = track(new Queue(name, { connection, prefix: 'p*' }));
    const neighbour = track(new Queue(name, { connection, prefix: 'px' }));
    await neighbour.add('keep', {});
    await hostile.add('mine', {});
    await hostile.obliterate({ force: true });
    expect(await neighbour.getJobCountByTypes('waiting')).toBe(1);
    const tagged = track(new Queue(name, { connection, prefix: '{p}' }));
    await tagged.add('tagged', { ok: true });
    expect((await tagged.getJob('1'))?.data).toEqual({ ok: true });
  });

  it('stores job ids and names with metacharacters as opaque strings, one job each', async () => {
    const connection = store.connection();
    const queue = track(new Queue(queueName(), { connection }));
    const ids = [
      ...METAS.map((m) => `id${m}`),
      "x'); DELETE FROM jobs; --",
      "]]..redis.call('FLUSHALL')..[[",
      'meta-not-really',
      '__proto__',
      'constructor',
      'ünïcödé-😀',
    ];
    for (const id of ids) await queue.add(`name ${id} \n ${'*'.repeat(3)}`, { id }, { jobId: id });
    expect(await queue.getJobCountByTypes('waiting')).toBe(ids.length);
    for (const id of ids) {
      const job = await queue.getJob(id);
      expect(job?.id, JSON.stringify(id)).toBe(id);
      expect(job?.data, JSON.stringify(id)).toEqual({ id });
      expect(job?.name).toBe(`name ${id} \n ***`);
      expect(await queue.getJobState(id)).toBe('waiting');
    }
    // Removing one removes that one only: the neighbour a glob or LIKE would also match stays.
    expect(await queue.remove('id*')).toBe(1);
    expect(await queue.remove('id%')).toBe(1);
    expect(await queue.remove('id_')).toBe(1);
    expect(await queue.getJobCountByTypes('waiting')).toBe(ids.length - 3);
    expect(await queue.getJob('id?')).toBeDefined();
    // A duplicate hostile id is a duplicate, not a second row.
    await queue.add('again', { id: 'again' }, { jobId: "x'); DELETE FROM jobs; --" });
    expect((await queue.getJob("x'); DELETE FROM jobs; --"))?.data).toEqual({ id: "x'); DELETE FROM jobs; --" });
    expect(await queue.getJobCountByTypes('waiting')).toBe(ids.length - 3);
  });

  it('runs jobs with hostile ids through a worker and the events', async () => {
    const connection = store.connection();
    const name = queueName();
    const queue = track(new Queue(name, { connection }));
    const { Worker } = await import('../../src/index.js');
    const ids = ['{a}', '*', "'", 'a\nb', ']]'];
    for (const id of ids) await queue.add('j', { id }, { jobId: id });
    track(new Worker(name, async (job) => `done ${job.id}`, { connection, drainDelay: 1 }));
    await until(async () => (await queue.getCompletedCount()) === ids.length, 10_000, 'every hostile id to complete');
    for (const id of ids) expect((await queue.getJob(id))?.returnvalue).toBe(`done ${id}`);
  });
});
