import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/errors.js';
import { useQueues } from '../support/fixture.js';
import { stores, until } from '../support/stores.js';

/**
 * Hostile job data (guarantees.md "Hostile input"): whatever a producer passes is stored and read
 * back intact, or refused with a ValidationError before anything is stored; a worker that runs such a
 * job keeps going and neighbouring jobs are untouched.
 */
describe.each(stores)('hostile job data on $kind', (store) => {
  const { setup } = useQueues(store);

  function nested(depth: number): unknown {
    let v: unknown = { leaf: 'bottom' };
    for (let i = 0; i < depth; i++) v = i % 2 ? { k: v } : [v];
    return v;
  }

  /** Adds neighbours around `body`, returns a check that they are still intact. */
  async function withNeighbours(queue: ReturnType<ReturnType<typeof useQueues>['setup']>['queue']) {
    const before = await queue.add('neighbour', { n: 'before', s: 'x'.repeat(100) });
    return async () => {
      const after = await queue.add('neighbour', { n: 'after' });
      const a = await queue.getJob(before.id!);
      const b = await queue.getJob(after.id!);
      expect(a?.data).toEqual({ n: 'before', s: 'x'.repeat(100) });
      expect(a?.name).toBe('neighbour');
      expect(b?.data).toEqual({ n: 'after' });
    };
  }

  it('stores deeply nested data intact, and refuses data too deep to serialise', async () => {
    const { queue } = setup();
    const check = await withNeighbours(queue);
    const deep = nested(2000);
    const job = await queue.add('deep', deep);
    expect((await queue.getJob(job.id!))?.data).toEqual(deep);
    const tooDeep = nested(1_000_000);
    const err = await queue.add('too-deep', tooDeep).catch((e: unknown) => e);
    // Either stored intact or refused with a readable error naming the data: never a crash.
    if (err instanceof Error) {
      expect(err).toBeInstanceOf(ValidationError);
      expect(err.message).toMatch(/data/);
    } else {
      expect((await queue.getJob((err as { id: string }).id))?.data).toEqual(tooDeep);
    }
    await check();
  });

  it('round-trips a 10 MB string through add, a worker and the return value', { timeout: 60_000 }, async () => {
    const { queue, worker } = setup();
    const check = await withNeighbours(queue);
    const big = `${'0123456789abcdef'.repeat(655_360)}é€😀`;
    expect(big.length).toBeGreaterThan(10_000_000);
    const job = await queue.add('big', { big });
    const seen: number[] = [];
    const w = worker(async (j) => {
      seen.push(j.data.big?.length ?? 0);
      return j.data.big ? { echo: j.data.big } : 'small';
    });
    void w;
    await until(async () => (await queue.getCompletedCount()) === 2, 30_000, 'both completions');
    const done = await queue.getJob(job.id!);
    expect(done?.data.big === big).toBe(true);
    expect(done?.returnvalue.echo === big).toBe(true);
    expect(seen).toContain(big.length);
    await check();
  });

  it('keeps __proto__, constructor and prototype keys as plain data without polluting anything', async () => {
    const { queue, worker } = setup();
    const check = await withNeighbours(queue);
    const data = JSON.parse(
      '{"__proto__": {"polluted": "yes"}, "constructor": {"prototype": {"polluted": "yes"}}, "a": {"__proto__": {"isAdmin": true}}}',
    );
    const job = await queue.add('proto', data, { jobId: '__proto__' });
    expect(job.id).toBe('__proto__');
    const read = (await queue.getJob('__proto__'))!;
    expect(Object.keys(read.data).sort()).toEqual(['__proto__', 'a', 'constructor']);
    expect(Object.getOwnPropertyDescriptor(read.data, '__proto__')?.value).toEqual({ polluted: 'yes' });
    expect(Object.getPrototypeOf(read.data)).toBe(Object.prototype);
    expect((read.data.a as { isAdmin?: boolean }).isAdmin).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    const w = worker(async (j) => JSON.parse(JSON.stringify(j.data)));
    void w;
    await until(async () => (await queue.getJobState('__proto__')) === 'completed', 10_000, 'the proto job');
    const done = (await queue.getJob('__proto__'))!;
    expect(Object.getOwnPropertyDescriptor(done.returnvalue, '__proto__')?.value).toEqual({ polluted: 'yes' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    await check();
  });

  it('refuses values JSON cannot hold with a ValidationError, storing nothing', async () => {
    const { queue } = setup();
    const check = await withNeighbours(queue);
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    const throwing = {
      toJSON() {
        throw new Error('toJSON exploded');
      },
    };
    const cases: [string, unknown, RegExp][] = [
      ['bigint', { n: 10n }, /BigInt/i],
      ['circular', circular, /circular/i],
      ['nested bigint', [{ deep: [1n] }], /BigInt/i],
      ['throwing toJSON', throwing, /toJSON exploded/],
    ];
    const counts = await queue.getJobCounts();
    for (const [label, data, reason] of cases) {
      const err = await queue.add(label, data).catch((e: unknown) => e);
      expect(err, label).toBeInstanceOf(ValidationError);
      expect((err as Error).message, label).toMatch(/data/);
      expect((err as Error).message, label).toMatch(reason);
    }
    // A bulk add with one bad job stores none of them.
    const bulk = await queue
      .addBulk([
        { name: 'fine', data: { ok: 1 } },
        { name: 'bad', data: { n: 1n } },
      ])
      .catch((e: unknown) => e);
    expect(bulk).toBeInstanceOf(ValidationError);
    expect(await queue.getJobCounts()).toEqual(counts);
    await check();
  });

  it('stores what JSON keeps of odd values, as BullMQ does', async () => {
    const { queue } = setup();
    const date = new Date(0);
    const job = await queue.add('odd', {
      u: undefined,
      f: () => 1,
      s: Symbol('x'),
      nan: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      date,
      map: new Map([[1, 2]]),
      neg0: -0,
      big: Number.MAX_SAFE_INTEGER,
    });
    const read = await queue.getJob(job.id!);
    expect(read?.data).toEqual({
      nan: null,
      inf: null,
      date: date.toISOString(),
      map: {},
      neg0: 0,
      big: Number.MAX_SAFE_INTEGER,
    });
    const undef = await queue.add('undefined', undefined);
    expect((await queue.getJob(undef.id!))?.data).toEqual({});
  });

  it('stores lone surrogates and other odd strings in data intact', async () => {
    const { queue, worker } = setup();
    const check = await withNeighbours(queue);
    const strings = ['\ud800', 'a\udc00b', '\udfff\ud800', '\u0000nul', '\u2028\u2029', '\ufeffbom', '😀'.slice(0, 1)];
    const job = await queue.add('surrogates', { strings, [strings[0]]: 'as a key' });
    const read = (await queue.getJob(job.id!))!;
    expect(read.data.strings).toEqual(strings);
    expect(read.data['\ud800']).toBe('as a key');
    const w = worker(async (j) => ({ back: j.data.strings }));
    void w;
    await until(async () => (await queue.getJobState(job.id!)) === 'completed', 10_000, 'the surrogate job');
    expect((await queue.getJob(job.id!))?.returnvalue).toEqual({ back: strings });
    await check();
  });

  it('refuses data over opts.sizeLimit, in bytes, before storing anything', async () => {
    const { queue } = setup({ defaultJobOptions: { sizeLimit: 1000 } });
    const check = await withNeighbours(queue);
    const fits = await queue.add('fits', { s: 'x'.repeat(900) });
    expect((await queue.getJob(fits.id!))?.data.s).toHaveLength(900);
    await expect(queue.add('over', { s: 'x'.repeat(1000) })).rejects.toThrow(/exceeds the limit/);
    // Multi-byte characters count by their UTF-8 size: 400 × '€' is 1200 bytes.
    await expect(queue.add('over', { s: '€'.repeat(400) })).rejects.toThrow(/exceeds the limit/);
    await expect(queue.add('over', { s: 'x'.repeat(10) }, { sizeLimit: 5 })).rejects.toBeInstanceOf(ValidationError);
    await expect(
      queue.addBulk([
        { name: 'ok', data: {} },
        { name: 'over', data: { s: 'x'.repeat(2000) } },
      ]),
    ).rejects.toThrow(/exceeds the limit/);
    expect(await queue.getJobCountByTypes('waiting')).toBe(2);
    await check();
  });

  it('refuses oversize or unserialisable updates and progress without touching the stored job', async () => {
    const { queue } = setup();
    const job = await queue.add('x', { v: 1 });
    await expect(job.updateData({ n: 1n } as never)).rejects.toBeInstanceOf(ValidationError);
    const circular: Record<string, unknown> = {};
    circular.c = circular;
    await expect(job.updateProgress(circular)).rejects.toBeInstanceOf(ValidationError);
    const read = await queue.getJob(job.id!);
    expect(read?.data).toEqual({ v: 1 });
    expect(read?.progress).toBe(0);
  });
});
