import { countdown, timed } from '../stats.js';
import { DOCKET_AND_BULLMQ, type Scenario, SERVER_CPU, settle } from './scenario.js';

const CHILDREN = 10;
const FLOWS_PER_CALL = 50;

/**
 * Flows of one parent and 10 children on one queue, worker at concurrency 50 already running: from
 * the first `addBulk` of flows (50 per call) until every parent has completed.
 */
export const flow: Scenario = {
  name: 'flow',
  title: `flows: parent + ${CHILDREN} children, added ${FLOWS_PER_CALL} flows per call, c=50, until all parents complete`,
  systems: DOCKET_AND_BULLMQ,
  metrics: [
    { key: 'flows', label: 'flows/s', better: 'higher' },
    { key: 'cpuUs', label: 'node CPU µs/job', better: 'lower' },
    SERVER_CPU,
  ],
  timeoutMs: 240_000,
  async run({ adapter, quick, jobs }) {
    const parents = jobs ?? (quick ? 200 : 1_000);
    await adapter.ready();
    const finished = countdown(parents);
    const start = await adapter.startWorker({
      concurrency: 50,
      onCompleted: (name) => name === 'parent' && finished.count(),
    });
    start();
    await settle();
    const { ms, cpuMs, serverCpuMs } = await timed(async () => {
      for (let first = 0; first < parents; first += FLOWS_PER_CALL) {
        await adapter.addFlows!(first, Math.min(FLOWS_PER_CALL, parents - first), CHILDREN);
      }
      await finished.done;
    });
    await adapter.stopWorker();
    const total = parents * (CHILDREN + 1);
    return {
      flows: (parents / ms) * 1000,
      cpuUs: (cpuMs * 1000) / total,
      ...(serverCpuMs === undefined ? {} : { serverUs: (serverCpuMs * 1000) / total }),
    };
  },
};
