import { probeAfter, probeBefore } from '../probe.js';
import { countdown, percentile } from '../stats.js';
import type { NewBenchJob } from '../types.js';
import { ALL, type Scenario, settle } from './scenario.js';

const SPREAD_MS = 1_000;
const FIRST_DUE_MS = 100;

/**
 * Light load: jobs due evenly over the next second, added at once to an idle worker (c=50).
 * Lateness = processor start − due time (adapters make each system's due time exactly `data.due`).
 */
export const delayed: Scenario = {
  name: 'delayed',
  title: `delayed jobs due evenly over ${SPREAD_MS} ms, idle worker c=50: lateness (start − due)`,
  systems: ALL,
  metrics: [
    { key: 'p50', label: 'p50 ms late', better: 'lower' },
    { key: 'p99', label: 'p99 ms late', better: 'lower' },
  ],
  timeoutMs: 120_000,
  async run({ adapter, quick, jobs }) {
    const n = jobs ?? (quick ? 300 : 1_000);
    await adapter.ready();
    const lateness: number[] = [];
    const finished = countdown(n);
    const start = await adapter.startWorker({
      concurrency: 50,
      onStart: (data) => lateness.push(Date.now() - data.due!),
      onCompleted: finished.count,
    });
    start();
    await settle();
    const now = Date.now();
    const batch: NewBenchJob[] = [];
    for (let i = 0; i < n; i++) {
      const delay = FIRST_DUE_MS + Math.round((i / n) * SPREAD_MS);
      batch.push({ name: 'job', data: { i, due: now + delay }, delay });
    }
    await probeBefore();
    await adapter.addBulk(batch);
    await finished.done;
    await probeAfter();
    await adapter.stopWorker();
    return { p50: percentile(lateness, 50), p99: percentile(lateness, 99) };
  },
};
