import { countdown, timed } from '../stats.js';
import type { Adapter, NewBenchJob } from '../types.js';
import { ALL, CPU, fill, makeJobs, RATE, rateMetrics, SCALE_SYSTEMS, type Scenario } from './scenario.js';

/** Starts a no-op worker at `concurrency` and times `n` completions. */
export async function timeProcessing(adapter: Adapter, n: number, concurrency: number, batch?: number) {
  const finished = countdown(n);
  const start = await adapter.startWorker({ concurrency, onCompleted: finished.count, batch });
  const { ms, cpuMs } = await timed(async () => {
    start();
    await finished.done;
  });
  await adapter.stopWorker();
  return rateMetrics(n, ms, cpuMs);
}

/** Processes 20 000 pre-added jobs with a no-op processor. */
function processScenario(concurrency: number, remove: boolean): Scenario {
  return {
    name: `process-c${concurrency}${remove ? '-remove' : ''}`,
    title: `process pre-added jobs, no-op, concurrency ${concurrency}, ${remove ? 'removeOnComplete: true' : 'jobs kept'}`,
    // plainjob cannot remove jobs on completion.
    systems: remove ? ALL.filter((s) => s !== 'plainjob') : ALL,
    metrics: [RATE, CPU],
    removeOnComplete: remove,
    timeoutMs: 240_000,
    async run({ adapter, quick, jobs }) {
      const n = jobs ?? (quick ? 5_000 : 20_000);
      await adapter.ready();
      await fill(adapter, n);
      return timeProcessing(adapter, n, concurrency);
    },
  };
}

export const processScenarios = [
  processScenario(1, false),
  processScenario(50, false),
  processScenario(1, true),
  processScenario(50, true),
];

/** Systems of the 100 000-job rows: the Redis and SQLite peers (PostgreSQL's left out for the run's length). */
const LONG_SYSTEMS = ALL.filter((s) => s !== 'docket-postgres' && s !== 'bullmq-postgres');

/** The `process` runs at 100 000 jobs, one round each: a lead that shrinks as runs get longer shows here. */
function longProcessScenario(concurrency: number): Scenario {
  return {
    name: `process-c${concurrency}-100k`,
    title: `process 100 000 pre-added jobs, no-op, concurrency ${concurrency}, jobs kept`,
    systems: LONG_SYSTEMS,
    metrics: [RATE, CPU],
    once: true,
    timeoutMs: 600_000,
    async run({ adapter, quick, jobs }) {
      const n = jobs ?? (quick ? 20_000 : 100_000);
      await adapter.ready();
      await fill(adapter, n);
      return timeProcessing(adapter, n, concurrency);
    },
  };
}

export const longProcessScenarios = [longProcessScenario(1), longProcessScenario(50)];

type Background = 'empty' | 'waiting' | 'delayed';

/**
 * The `process` c=50 run with a long queue behind it: `waiting` processes the first jobs of
 * `scaleSize` waiting ones; `delayed` processes jobs added after `scaleSize` delayed ones (due in a
 * day); `empty` is the same run with no background, for the ratio.
 */
function scaleScenario(background: Background): Scenario {
  return {
    name: `scale-${background}`,
    title:
      background === 'empty'
        ? 'scale baseline: process c=50 with an empty queue'
        : `scale: process c=50 with N jobs already ${background}`,
    systems: SCALE_SYSTEMS,
    metrics: [RATE, CPU],
    once: true,
    timeoutMs: 1_800_000,
    async run({ adapter, quick, scaleSize, jobs }) {
      const n = jobs ?? (quick ? 5_000 : 20_000);
      await adapter.ready();
      if (background === 'waiting') await fill(adapter, Math.max(scaleSize, n));
      if (background === 'delayed') {
        const day = 24 * 3600_000;
        await fill(adapter, scaleSize, (first, count) =>
          makeJobs(first, count, 'later').map((j): NewBenchJob => ({ ...j, delay: day })),
        );
      }
      if (background !== 'waiting') await fill(adapter, n);
      return timeProcessing(adapter, n, 50);
    },
  };
}

export const scaleScenarios = [scaleScenario('empty'), scaleScenario('waiting'), scaleScenario('delayed')];
