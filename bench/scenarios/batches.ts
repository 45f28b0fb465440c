import type { Adapter } from '../types.js';
import { timeProcessing } from './process.js';
import { CPU, fill, RATE, type Scenario } from './scenario.js';

// Batches (issue 23, BullMQ Pro's API): Docket only, as BullMQ has batches only in its paid Pro.
const DOCKET = ['docket-redis', 'docket-sqlite', 'docket-postgres'] as const;

/** Jobs per batch, and the single-job worker's concurrency: the same 100 jobs in flight either way. */
const BATCH = 100;

/**
 * Processing pre-added jobs with a no-op processor in batches of 100 (concurrency 1) against single
 * jobs at concurrency 100 on another queue of the same store in the same run. Reported besides the
 * rates: the worker's store calls per job (fetch, complete, fail, lock renewal, stalled check), from
 * the worker's own store object, so a round trip to Redis / PostgreSQL or a SQLite transaction each.
 */
export const batches: Scenario = {
  name: 'batches-100',
  title: `process, no-op: batches of ${BATCH} (c=1) vs single jobs (c=${BATCH})`,
  systems: DOCKET,
  metrics: [
    RATE,
    CPU,
    { key: 'callsPerJob', label: 'store calls/job', better: 'lower' },
    { key: 'singleRate', label: 'single jobs/s', better: 'higher' },
    { key: 'singleCallsPerJob', label: 'single store calls/job', better: 'lower' },
    { key: 'ratio', label: 'batch/single', better: 'higher' },
  ],
  timeoutMs: 600_000,
  async run({ adapter, adapterFor, quick, jobs }) {
    const n = jobs ?? (quick ? 5_000 : 20_000);
    const single = await adapterFor('bench-single');
    try {
      const one = await measure(single, n, BATCH);
      const batched = await measure(adapter, n, 1, BATCH);
      return {
        ...batched,
        singleRate: one.rate,
        singleCallsPerJob: one.callsPerJob,
        ratio: batched.rate / one.rate,
      };
    } finally {
      await single.close();
    }
  },
};

async function measure(
  adapter: Adapter,
  n: number,
  concurrency: number,
  batch?: number,
): Promise<Record<string, number>> {
  await adapter.ready();
  await fill(adapter, n);
  const metrics = await timeProcessing(adapter, n, concurrency, batch);
  return { ...metrics, callsPerJob: (adapter.storeCalls?.() ?? Number.NaN) / n };
}
