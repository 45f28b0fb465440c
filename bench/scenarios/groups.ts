import { countdown, timed } from '../stats.js';
import type { Adapter, NewBenchJob } from '../types.js';
import { timeProcessing } from './process.js';
import { CPU, fill, makeJobs, RATE, type Scenario } from './scenario.js';

// Groups (issue 22, BullMQ Pro's API): Docket only, as BullMQ has groups only in its paid Pro.
const DOCKET = ['docket-redis', 'docket-sqlite', 'docket-postgres'] as const;

/**
 * Processing at c=50 with jobs spread over 10 000 groups (2 jobs each, so every fetch goes round
 * groups), against the same jobs without groups on another queue of the same store in the same run.
 */
export const groupsMany: Scenario = {
  name: 'groups-10k',
  title: 'process c=50: 20 000 jobs in 10 000 groups vs no groups',
  systems: DOCKET,
  metrics: [
    RATE,
    CPU,
    { key: 'plainRate', label: 'no groups jobs/s', better: 'higher' },
    { key: 'ratio', label: 'groups/plain', better: 'higher' },
  ],
  timeoutMs: 600_000,
  async run({ adapter, adapterFor, quick, jobs }) {
    const n = jobs ?? (quick ? 5_000 : 20_000);
    const groups = n / 2;
    const plain = await adapterFor('bench-plain');
    try {
      await plain.ready();
      await fill(plain, n);
      const base = await timeProcessing(plain, n, 50);
      await adapter.ready();
      await fill(adapter, n, (first, count) =>
        makeJobs(first, count).map((j): NewBenchJob => ({ ...j, group: `g${j.data.i % groups}` })),
      );
      const grouped = await timeProcessing(adapter, n, 50);
      return { ...grouped, plainRate: base.rate, ratio: grouped.rate / base.rate };
    } finally {
      await plain.close();
    }
  },
};

/**
 * The wait of a one-job group's job behind a big group: a c=10 worker runs a 5 000-job group; after
 * its first 100 completions one job of a new group is added. Reported: ms from that add to its
 * start, and how many of the big group's jobs started in between (round-robin: about one per other
 * group plus the jobs already fetched). `plainAhead`: the same without groups (the whole backlog).
 */
export const groupsSmallWait: Scenario = {
  name: 'groups-small-wait',
  title: "wait of a 1-job group's job behind a 5 000-job group (c=10)",
  systems: DOCKET,
  metrics: [
    { key: 'waitMs', label: 'wait ms', better: 'lower' },
    { key: 'ahead', label: 'jobs started before it', better: 'lower' },
    { key: 'plainAhead', label: 'same without groups', better: 'lower' },
  ],
  timeoutMs: 600_000,
  async run({ adapter, adapterFor, quick }) {
    const big = quick ? 2_000 : 5_000;
    const grouped = await smallWait(adapter, big, true);
    const plain = await adapterFor('bench-plain');
    try {
      const ungrouped = await smallWait(plain, big, false);
      return { waitMs: grouped.waitMs, ahead: grouped.ahead, plainAhead: ungrouped.ahead };
    } finally {
      await plain.close();
    }
  },
};

async function smallWait(adapter: Adapter, big: number, groups: boolean) {
  await adapter.ready();
  await fill(adapter, big, (first, count) =>
    makeJobs(first, count).map((j): NewBenchJob => (groups ? { ...j, group: 'big' } : j)),
  );
  let started = 0;
  let addedAt = 0;
  let startedAhead = -1;
  let startedAt = 0;
  const warm = countdown(100);
  const all = countdown(big + 1);
  const start = await adapter.startWorker({
    concurrency: 10,
    onStart(data) {
      if (data.i === -1) {
        startedAt = performance.now();
        startedAhead = started;
      } else if (addedAt > 0) started++;
    },
    onCompleted() {
      warm.count();
      all.count();
    },
  });
  start();
  await warm.done;
  addedAt = performance.now();
  await adapter.add({ name: 'small', data: { i: -1 }, ...(groups ? { group: 'small' } : {}) });
  await timed(() => all.done);
  await adapter.stopWorker();
  return { waitMs: startedAt - addedAt, ahead: startedAhead };
}

export const groupScenarios = [groupsMany, groupsSmallWait];
