import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DelayedError, Job, Queue, Worker } from '../../src/index.js';
import { queueName, stores } from '../support/stores.js';

/**
 * Model test (guarantees.md "The state machine"): random sequences of public API calls run against
 * each store and against a small in-memory model of BullMQ's job state machine; after every step
 * the queue's counts, the state and counters of the jobs the step touched, and every fetch's choice
 * of job must match the model; at the end of a sequence every job is compared in full.
 *
 * FUZZ_RUNS=<n> runs n sequences per store (default 2000); FUZZ_SEED=<seed> replays a failure.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const LONG_LOCK = 600_000;
const FAR = 1_000_000_000;
const MAX_STALLED = 1;

type State = 'waiting' | 'prioritized' | 'active' | 'delayed' | 'completed' | 'failed' | 'removed';
type TokenKind = 'right' | 'wrong';

interface ModelJob {
  id: string;
  state: State;
  priority: number;
  lifo: boolean;
  attempts: number;
  attemptsMade: number;
  attemptsStarted: number;
  stalledCounter: number;
  /** Order among runnable jobs: (lane = priority, sort), lowest first. */
  sort: number;
  token?: string;
  /** Fetched with the 1 ms lock and waited out: every lock check fails, the checker takes it. */
  lapsed: boolean;
  /** Lock expiry order, for the order the stalled checker puts lapsed jobs back. */
  lockOrder: number;
  /** Durable steps recorded, in order (their ids; a step's value is its index). */
  steps: string[];
}

type Op =
  | { t: 'add'; priority: number; delayed: boolean; attempts: number; lifo: boolean; custom: string | null }
  | { t: 'fetch'; short: boolean }
  | { t: 'complete' | 'fail' | 'delay' | 'toWait' | 'extend' | 'step' | 'sleep'; job: JobRef; token: TokenKind }
  | { t: 'promote' | 'remove' | 'cancel'; job: JobRef }
  | { t: 'retry'; job: JobRef; state: 'completed' | 'failed' }
  | { t: 'pause' | 'resume' | 'stall' };

/** Which job a step acts on: an index, and whether to prefer an active job (most moves need one). */
const jobRef = fc.record({ n: fc.nat(50), active: fc.constantFrom(true, true, true, false) });
type JobRef = { n: number; active: boolean };

const addArb = fc.record({
  t: fc.constant('add' as const),
  priority: fc.constantFrom(0, 0, 0, 1, 2),
  delayed: fc.constantFrom(false, false, false, false, true),
  attempts: fc.constantFrom(1, 1, 2, 3),
  lifo: fc.constantFrom(false, false, true),
  custom: fc.constantFrom(null, null, null, 'job-a', 'job-b'),
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: addArb },
  {
    weight: 7,
    arbitrary: fc.record({ t: fc.constant('fetch' as const), short: fc.constantFrom(false, false, false, true) }),
  },
  {
    weight: 7,
    arbitrary: fc.record({
      t: fc.constantFrom(
        'complete' as const,
        'fail' as const,
        'delay' as const,
        'toWait' as const,
        'extend' as const,
        'step' as const,
        'sleep' as const,
      ),
      job: jobRef,
      token: fc.constantFrom('right' as const, 'right' as const, 'right' as const, 'right' as const, 'wrong' as const),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constantFrom('promote' as const, 'remove' as const), job: jobRef }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('cancel' as const), job: jobRef }) },
  {
    weight: 1,
    arbitrary: fc.record({
      t: fc.constant('retry' as const),
      job: jobRef,
      state: fc.constantFrom('completed' as const, 'failed' as const),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('pause' as const) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('resume' as const) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('stall' as const) }) },
);

/** A sequence: a few adds to start with, then anything. */
const sequenceArb = fc
  .tuple(fc.array(addArb, { minLength: 1, maxLength: 4 }), fc.array(opArb, { minLength: 1, maxLength: 16 }))
  .map(([adds, ops]) => [...adds, ...ops] as Op[]);

/** BullMQ's state machine for one queue, as Docket documents it (store.ts, BULLMQ-SEMANTICS.md). */
class Model {
  jobs: ModelJob[] = [];
  paused = false;
  private nextId = 0;
  private seq = 0;
  private fetches = 0;

  find(id: string): ModelJob | undefined {
    return this.jobs.find((j) => j.id === id && j.state !== 'removed');
  }

  /**
   * Puts a job in line: its priority lane, FIFO, or next in line when `front` (or lifo, lane 0);
   * 'head' puts it first of any lane (a job given back by moveToWait keeps its place).
   */
  private toRunnable(job: ModelJob, front: boolean | 'head'): void {
    job.state = job.priority > 0 ? 'prioritized' : 'waiting';
    const s = ++this.seq;
    job.sort = front === 'head' || (job.priority === 0 && (front || job.lifo)) ? -s : s;
    job.token = undefined;
    job.lapsed = false;
  }

  /** Returns [id, created]; `created` false for a duplicate custom id. */
  add(op: Extract<Op, { t: 'add' }>): { id: string; created: boolean } {
    if (op.custom !== null && this.find(op.custom)) return { id: op.custom, created: false };
    const id = op.custom ?? String(++this.nextId);
    this.jobs = this.jobs.filter((j) => j.id !== id);
    const job: ModelJob = {
      id,
      state: 'delayed',
      priority: op.priority,
      lifo: op.lifo,
      attempts: op.attempts,
      attemptsMade: 0,
      attemptsStarted: 0,
      stalledCounter: 0,
      sort: 0,
      lapsed: false,
      lockOrder: 0,
      steps: [],
    };
    if (!op.delayed) this.toRunnable(job, false);
    this.jobs.push(job);
    return { id, created: true };
  }

  /** The job a fetch takes, or undefined. */
  fetch(token: string, short: boolean): ModelJob | undefined {
    if (this.paused) return undefined;
    const runnable = this.jobs
      .filter((j) => j.state === 'waiting' || j.state === 'prioritized')
      .sort((a, b) => a.priority - b.priority || a.sort - b.sort);
    const job = runnable[0];
    if (!job) return undefined;
    job.state = 'active';
    job.token = token;
    job.lapsed = short;
    job.lockOrder = ++this.fetches;
    job.attemptsStarted++;
    return job;
  }

  /** The MoveCode a lock-checked move gets. */
  lockCode(job: ModelJob | undefined, token: string): 0 | -1 | -2 | -6 {
    if (!job) return -1;
    if (job.state !== 'active' || job.lapsed) return -2;
    return job.token === token ? 0 : -6;
  }

  complete(job: ModelJob): void {
    job.state = 'completed';
    job.attemptsMade++;
    job.token = undefined;
  }

  fail(job: ModelJob): void {
    job.attemptsMade++;
    if (job.attemptsMade < job.attempts) this.toRunnable(job, false);
    else {
      job.state = 'failed';
      job.token = undefined;
    }
  }

  /** queue.cancelJob: any unfinished job fails for good; an active one spends its attempt. False when finished. */
  cancel(job: ModelJob): boolean {
    if (job.state === 'completed' || job.state === 'failed' || job.state === 'removed') return false;
    if (job.state === 'active') job.attemptsMade++;
    job.state = 'failed';
    job.token = undefined;
    job.lapsed = false;
    return true;
  }

  delay(job: ModelJob): void {
    job.state = 'delayed';
    job.token = undefined;
  }

  toWait(job: ModelJob): void {
    this.toRunnable(job, 'head');
  }

  promote(job: ModelJob): void {
    this.toRunnable(job, false);
  }

  /** A retry from scratch clears the durable steps. */
  retry(job: ModelJob): void {
    job.steps = [];
    this.toRunnable(job, false);
  }

  /**
   * The stalled checker: lapsed active jobs back to the front of the line. One over MAX_STALLED goes
   * back too, marked to fail when a processing Worker takes it (BullMQ 6); this model fetches by hand,
   * so it is handed out like any other job.
   */
  stall(): void {
    const lapsed = this.jobs.filter((j) => j.state === 'active' && j.lapsed).sort((a, b) => a.lockOrder - b.lockOrder);
    for (const job of lapsed) {
      job.stalledCounter++;
      this.toRunnable(job, true);
    }
  }

  counts(): Record<string, number> {
    const n = (s: State) => this.jobs.filter((j) => j.state === s).length;
    return {
      waiting: n('waiting'),
      prioritized: n('prioritized'),
      active: n('active'),
      delayed: n('delayed'),
      completed: n('completed'),
      failed: n('failed'),
      paused: this.paused ? n('waiting') + n('prioritized') : 0,
    };
  }
}

/** How often each kind of step took effect, to show the sequences reach every transition. */
const effects: Record<string, number> = {};
const tally = (what: string) => {
  effects[what] = (effects[what] ?? 0) + 1;
};

const COUNT_TYPES = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed', 'paused'];

describe.each(stores)('the job state machine on $kind matches the model', (store) => {
  let connection: string | Redis;
  let redis: Redis | undefined;

  beforeAll(() => {
    if (store.kind === 'redis') {
      // One client shared by every queue and worker of every sequence: no connection per sequence.
      redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: null });
      connection = redis;
    } else {
      connection = store.connection();
    }
  });

  afterAll(async () => {
    await redis?.quit();
  });

  async function runSequence(ops: Op[]): Promise<void> {
    const name = queueName('model');
    const queue = new Queue(name, { connection });
    const long = new Worker(name, null, { connection, lockDuration: LONG_LOCK, drainDelay: 1 });
    const short = new Worker(name, null, { connection, lockDuration: 1, drainDelay: 1 });
    const model = new Model();
    let tokens = 0;
    const log: string[] = [];
    try {
      for (const op of ops) {
        log.push(JSON.stringify(op));
        const touched = await step(op);
        const where = () => `after ${log.join(' → ')}`;
        expect(await queue.getJobCounts(...COUNT_TYPES), where()).toEqual(model.counts());
        for (const job of touched) await compare(job, where);
      }
      for (const job of model.jobs) await compare(job, () => `at the end of ${log.join(' → ')}`);
    } finally {
      await Promise.all([short.close(), long.close()]);
      await queue.close();
    }

    async function compare(job: ModelJob, where: () => string): Promise<void> {
      const state = await queue.getJobState(job.id);
      if (job.state === 'removed') {
        if (!model.find(job.id)) expect(state, `${job.id} ${where()}`).toBe('unknown');
        return;
      }
      expect(state, `state of ${job.id} ${where()}`).toBe(job.state);
      const read = (await queue.getJob(job.id))!;
      expect(
        { made: read.attemptsMade, started: read.attemptsStarted, stalled: read.stalledCounter },
        `counters of ${job.id} ${where()}`,
      ).toEqual({ made: job.attemptsMade, started: job.attemptsStarted, stalled: job.stalledCounter });
      expect(Object.keys(read.steps), `steps of ${job.id} ${where()}`).toEqual(job.steps);
      const finished = job.state === 'completed' || job.state === 'failed';
      expect(read.finishedOn !== undefined, `finishedOn of ${job.id} ${where()}`).toBe(finished);
    }

    /** A Job object for `job` as its holder would have it. */
    function handle(job: ModelJob): Job {
      const j = new Job(queue, 'j', {}, { attempts: job.attempts }, job.id);
      j.attemptsMade = job.attemptsMade;
      j.attemptsStarted = job.attemptsStarted;
      return j;
    }

    function pick(ref: JobRef): ModelJob | undefined {
      const active = model.jobs.filter((j) => j.state === 'active');
      const from = ref.active && active.length > 0 ? active : model.jobs;
      return from.length ? from[ref.n % from.length] : undefined;
    }

    async function expectCode(promise: Promise<unknown>, code: number, what: string): Promise<void> {
      if (code === 0) {
        await promise;
        return;
      }
      const err = (await promise.then(
        () => undefined,
        (e: unknown) => e,
      )) as { code?: number; message?: string } | undefined;
      expect(err, `${what} should be refused with ${code}`).toBeDefined();
      expect(err?.code, `${what}: ${err?.message}`).toBe(code);
    }

    async function step(op: Op): Promise<ModelJob[]> {
      switch (op.t) {
        case 'add': {
          const expected = model.add(op);
          const job = await queue.add(
            'j',
            { op },
            {
              priority: op.priority || undefined,
              delay: op.delayed ? FAR : undefined,
              attempts: op.attempts,
              lifo: op.lifo || undefined,
              jobId: op.custom ?? undefined,
            },
          );
          expect(job.id).toBe(expected.id);
          return [model.find(expected.id)!];
        }
        case 'fetch': {
          const token = `tok-${++tokens}`;
          const expected = model.fetch(token, op.short);
          const got = await (op.short ? short : long).getNextJob(token, { block: false });
          if (op.short) {
            // Wait out the 1 ms lock so that it has lapsed for every later step.
            const back = Date.now();
            while (Date.now() < back + 3) await new Promise((r) => setTimeout(r, 1));
          }
          expect(got?.id, `fetch after ${log.join(' → ')}`).toBe(expected?.id);
          tally(expected ? `fetch ${op.short ? 'short' : 'long'}` : 'fetch none');
          return expected ? [expected] : [];
        }
        case 'complete':
        case 'fail':
        case 'delay':
        case 'toWait':
        case 'extend':
        case 'step':
        case 'sleep': {
          const job = pick(op.job);
          if (!job) return [];
          const token = op.token === 'right' && job.token ? job.token : 'not-a-token';
          const code = model.lockCode(job.state === 'removed' ? undefined : job, token);
          const j = handle(job);
          if (op.t === 'extend') {
            expect(await j.extendLock(token, LONG_LOCK)).toBe(code === 0 ? 1 : 0);
            return [job];
          }
          if (op.t === 'step' || op.t === 'sleep') {
            // A durable step records under the lock (job.token); a sleep also parks the job.
            j.token = token;
            const id = `s${job.steps.length}`;
            const what = `${op.t} of ${job.id} (${job.state}${job.lapsed ? ', lapsed' : ''})`;
            if (op.t === 'step')
              await expectCode(
                j.step(id, () => job.steps.length),
                code,
                what,
              );
            else if (code === 0) await expect(j.sleep(id, FAR), what).rejects.toThrow(DelayedError);
            else await expectCode(j.sleep(id, FAR), code, what);
            tally(`${op.t} ${code}`);
            if (code === 0) {
              job.steps.push(id);
              if (op.t === 'sleep') model.delay(job);
            }
            return [job];
          }
          const call =
            op.t === 'complete'
              ? j.moveToCompleted('done', token, false)
              : op.t === 'fail'
                ? j.moveToFailed(new Error('failed on purpose'), token, false)
                : op.t === 'delay'
                  ? j.moveToDelayed(Date.now() + FAR, token)
                  : j.moveToWait(token);
          await expectCode(call, code, `${op.t} of ${job.id} (${job.state}${job.lapsed ? ', lapsed' : ''})`);
          tally(`${op.t} ${code}`);
          if (code === 0) {
            if (op.t === 'complete') model.complete(job);
            else if (op.t === 'fail') model.fail(job);
            else if (op.t === 'delay') model.delay(job);
            else model.toWait(job);
          }
          return [job];
        }
        case 'promote': {
          const job = pick(op.job);
          if (!job) return [];
          const call = handle(job).promote();
          if (job.state === 'removed') await expectCode(call, -1, `promote of removed ${job.id}`);
          else if (job.state !== 'delayed') await expect(call).rejects.toThrow(/not in the delayed state/);
          else {
            await call;
            model.promote(job);
          }
          return [job];
        }
        case 'retry': {
          const job = pick(op.job);
          if (!job) return [];
          const call = handle(job).retry(op.state);
          if (job.state === 'removed') await expectCode(call, -1, `retry of removed ${job.id}`);
          else if (job.state !== op.state) await expect(call).rejects.toThrow(/is not in the .* state/);
          else {
            await call;
            model.retry(job);
          }
          return [job];
        }
        case 'remove': {
          const job = pick(op.job);
          if (!job) return [];
          // SQLite refuses to remove an active job whose lock lapsed (regressions.test.ts,
          // "remove-lapsed"): not exercised here.
          if (store.kind === 'sqlite' && job.state === 'active' && job.lapsed) return [];
          const call = queue.remove(job.id);
          if (job.state === 'removed') expect(await call).toBe(0);
          else if (job.state === 'active' && !job.lapsed) await expect(call).rejects.toThrow(/locked/);
          else {
            expect(await call).toBe(1);
            job.state = 'removed';
          }
          return [job];
        }
        case 'cancel': {
          const job = pick(op.job);
          if (!job) return [];
          const from = job.state;
          expect(await queue.cancelJob(job.id, 'model'), `cancel of ${job.id} (${from})`).toBe(model.cancel(job));
          tally(`cancel ${from}`);
          return [job];
        }
        case 'pause':
          await queue.pause();
          model.paused = true;
          return [];
        case 'resume':
          await queue.resume();
          model.paused = false;
          return [];
        case 'stall': {
          const before = model.jobs.filter((j) => j.state === 'active' && j.lapsed);
          model.stall();
          tally(`stall of ${before.length}`);
          // A checker of its own, closed at once so that no later timer run races the next steps.
          const checker = new Worker(name, null, {
            connection,
            lockDuration: LONG_LOCK,
            stalledInterval: 1,
            maxStalledCount: MAX_STALLED,
          });
          try {
            await checker.startStalledCheckTimer();
          } finally {
            await checker.close();
          }
          return before;
        }
      }
    }
  }

  it(`agrees with the model over ${RUNS} random sequences`, { timeout: 600_000 }, async () => {
    const started = Date.now();
    // Keeps the SQLite file open between sequences.
    const anchor = new Queue(queueName('anchor'), { connection });
    try {
      await anchor.waitUntilReady();
      await fc.assert(
        fc.asyncProperty(sequenceArb, async (ops) => {
          await runSequence(ops);
        }),
        { numRuns: RUNS, seed: SEED },
      );
    } finally {
      await anchor.close();
    }
    console.info(
      `[model ${store.kind}] ${RUNS} sequences in ${((Date.now() - started) / 1000).toFixed(1)} s; steps that took effect: ${JSON.stringify(effects)}`,
    );
    for (const key of Object.keys(effects)) delete effects[key];
  });
});
