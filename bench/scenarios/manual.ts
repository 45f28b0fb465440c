import { timed } from '../stats.js';
import { CPU, fill, RATE, rateMetrics, type Scenario, SERVER_CPU } from './scenario.js';

/** Manual fetching: getNextJob once, then moveToCompleted(…, fetchNext = true) in a loop. */
export const manual: Scenario = {
  name: 'manual',
  title: 'manual fetching: getNextJob, then moveToCompleted(fetchNext) loop',
  systems: ['docket-redis', 'docket-sqlite', 'docket-postgres', 'bullmq', 'bullmq-postgres', 'plainjob'],
  metrics: [RATE, CPU, SERVER_CPU],
  timeoutMs: 180_000,
  async run({ adapter, quick, jobs }) {
    const n = jobs ?? (quick ? 2_000 : 10_000);
    await adapter.ready();
    await fill(adapter, n);
    const loop = await adapter.openManual!();
    const { value, ...t } = await timed(() => loop.run(n));
    await loop.close();
    if (value !== n) throw new Error(`manual loop processed ${value} of ${n} jobs`);
    return rateMetrics(n, t);
  },
};
