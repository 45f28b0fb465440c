import { timed } from '../stats.js';
import { ALL, CPU, makeJobs, RATE, rateMetrics, type Scenario, SERVER_CPU } from './scenario.js';

/** `add` one job at a time, each awaited before the next. */
export const addOne: Scenario = {
  name: 'add',
  title: 'add one job at a time (awaited)',
  systems: ALL,
  metrics: [RATE, CPU, SERVER_CPU],
  timeoutMs: 180_000,
  async run({ adapter, quick, jobs }) {
    const n = jobs ?? (quick ? 2_000 : 10_000);
    await adapter.ready();
    for (const j of makeJobs(0, 100)) await adapter.add(j);
    const t = await timed(async () => {
      for (let i = 0; i < n; i++) await adapter.add({ name: 'job', data: { i } });
    });
    return rateMetrics(n, t);
  },
};

/** `addBulk` in batches of 1000, each awaited before the next. */
export const addBulk: Scenario = {
  name: 'addBulk',
  title: 'addBulk, batches of 1000',
  systems: ALL,
  metrics: [RATE, CPU, SERVER_CPU],
  timeoutMs: 180_000,
  async run({ adapter, quick, jobs }) {
    const n = jobs ?? (quick ? 20_000 : 100_000);
    await adapter.ready();
    await adapter.addBulk(makeJobs(0, 1000));
    const t = await timed(async () => {
      for (let first = 0; first < n; first += 1000) await adapter.addBulk(makeJobs(first, 1000));
    });
    return rateMetrics(n, t);
  },
};

/** 100 callers adding at once, each awaiting its `add` before its next (a web server's request handlers). */
export const addConcurrent: Scenario = {
  name: 'add-concurrent',
  title: 'add from 100 callers at once (each awaited)',
  systems: ALL,
  metrics: [RATE, CPU, SERVER_CPU],
  timeoutMs: 180_000,
  async run({ adapter, quick, jobs }) {
    const n = jobs ?? (quick ? 10_000 : 50_000);
    const callers = 100;
    await adapter.ready();
    for (const j of makeJobs(0, 100)) await adapter.add(j);
    let next = 0;
    const caller = async () => {
      for (let i = next++; i < n; i = next++) await adapter.add({ name: 'job', data: { i } });
    };
    const t = await timed(() => Promise.all(Array.from({ length: callers }, caller)));
    return rateMetrics(n, t);
  },
};

/** `add` one at a time, 100 000 jobs, one round (the long-run row of `add`). */
export const addOneLong: Scenario = {
  ...addOne,
  name: 'add-100k',
  title: 'add one job at a time (awaited), 100 000 jobs',
  systems: ALL.filter((s) => s !== 'docket-postgres' && s !== 'bullmq-postgres'),
  once: true,
  timeoutMs: 600_000,
  run: (ctx) => addOne.run({ ...ctx, jobs: ctx.jobs ?? (ctx.quick ? 20_000 : 100_000) }),
};
