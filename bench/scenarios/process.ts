import { countdown, timed } from '../stats.js';
import type { Adapter, NewBenchJob } from '../types.js';
import { ALL, CPU, fill, makeJobs, RATE, rateMetrics, SCALE_SYSTEMS, type Scenario, SERVER_CPU } from './scenario.js';

/** Starts a no-op worker at `concurrency` and times `n` completions. */
export async function timeProcessing(adapter: Adapter, n: number, concurrency: number, batch?: number) {
  const finished = countdown(n);
  const start = await adapter.startWorker({ concurrency, onCompleted: finished.count, batch });
  const t = await timed(async () => {
    start();
    await finished.done;
  });
  await adapter.stopWorker();
  return rateMetrics(n, t);
}

/** Processes 20 000 pre-added jobs (`long`: 100 000, one round) with a no-op processor. */
function processScenario(concurrency: number, remove: boolean, long = false): Scenario {
  return {
    name: `process-c${concurrency}${remove ? '-remove' : ''}${long ? '-100k' : ''}`,
    title: `process ${long ? '100 000 ' : ''}pre-added jobs, no-op, concurrency ${concurrency}, ${remove ? 'removeOnComplete: true' : 'jobs kept'}`,
    // plainjob cannot remove jobs on completion; the 100 000-job rows leave PostgreSQL's systems out (run length).
    systems: long ? LONG_SYSTEMS : remove ? ALL.filter((s) => s !== 'plainjob') : ALL,
    metrics: [RATE, CPU, SERVER_CPU],
    removeOnComplete: remove,
    once: long,
    timeoutMs: long ? 600_000 : 240_000,
    async run({ adapter, quick, jobs }) {
      const n = jobs ?? (long ? (quick ? 20_000 : 100_000) : quick ? 5_000 : 20_000);
      await adapter.ready();
      await fill(adapter, n);
      return timeProcessing(adapter, n, concurrency);
    },
  };
}

/** Systems of the 100 000-job rows: the Redis and SQLite peers. */
const LONG_SYSTEMS = ALL.filter((s) => s !== 'docket-postgres' && s !== 'bullmq-postgres');

export const processScenarios = [
  processScenario(1, false),
  processScenario(50, false),
  processScenario(1, true),
  processScenario(50, true),
];

export const longProcessScenarios = [processScenario(1, false, true), processScenario(50, false, true)];

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
