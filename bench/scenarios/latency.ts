import { setTimeout as sleep } from 'node:timers/promises';
import { probeAfter, probeBefore } from '../probe.js';
import { percentile } from '../stats.js';
import { ALL, type Scenario, settle } from './scenario.js';

/** End-to-end latency: one job at a time to an idle worker, from before `add` to `completed`. */
export const latency: Scenario = {
  name: 'latency',
  title: 'end-to-end add → completed, one job at a time, idle worker (c=1)',
  systems: ALL,
  metrics: [
    { key: 'p50', label: 'p50 ms', better: 'lower' },
    { key: 'p99', label: 'p99 ms', better: 'lower' },
  ],
  timeoutMs: 240_000,
  async run({ adapter, quick, jobs }) {
    const n = jobs ?? (quick ? 500 : 2_000);
    const warmup = 50;
    await adapter.ready();
    let onDone: (() => void) | undefined;
    const start = await adapter.startWorker({ concurrency: 1, onCompleted: () => onDone?.() });
    start();
    await settle();
    const samples: number[] = [];
    const one = async (i: number) => {
      const done = new Promise<void>((resolve) => (onDone = resolve));
      const t0 = performance.now();
      await adapter.add({ name: 'job', data: { i } });
      await done;
      const ms = performance.now() - t0;
      // Let the worker go back to waiting: the next job must reach an idle worker, not one still
      // looping after the completion it just reported.
      await sleep(1);
      return ms;
    };
    for (let i = 0; i < warmup; i++) await one(i);
    await probeBefore();
    for (let i = 0; i < n; i++) samples.push(await one(warmup + i));
    await probeAfter();
    await adapter.stopWorker();
    return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
  },
};
