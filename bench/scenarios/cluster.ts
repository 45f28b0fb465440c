import { Cluster } from 'ioredis';
import { keySlot } from '../../src/store/redis/cluster.js';
import { countdown, timed } from '../stats.js';
import type { Adapter, ClusterNode } from '../types.js';
import { CPU, fill, RATE, rateMetrics, type Scenario } from './scenario.js';

/** Queues per master: two, so that each master serves several queues, as a sharded deployment does. */
const QUEUES_PER_MASTER = 2;
/** Concurrency of each queue's worker. */
const CONCURRENCY = 50;

/**
 * Queue names whose hash tags spread them evenly over the cluster's masters: `{bench-<n>}`, picked by
 * the slot each tag hashes to, `perMaster` per master.
 */
async function spreadQueues(nodes: ClusterNode[], perMaster: number): Promise<string[]> {
  const probe = new Cluster(nodes);
  try {
    await probe.call('PING');
    const masters = probe.nodes('master').length;
    const byMaster = new Map<string, string[]>();
    for (let n = 0; byMaster.size < masters || [...byMaster.values()].some((q) => q.length < perMaster); n++) {
      const name = `{bench-${n}}`;
      const master = probe.slots[keySlot(name)][0];
      const queues = byMaster.get(master) ?? [];
      if (queues.length < perMaster) byMaster.set(master, [...queues, name]);
    }
    return [...byMaster.values()].flat();
  } finally {
    probe.disconnect();
  }
}

/**
 * Redis Cluster throughput: jobs pre-added to queues spread over the masters, then one worker per
 * queue (concurrency 50) processes all of them with a no-op processor, timed from the workers' start
 * to the last completion.
 */
export const cluster: Scenario = {
  name: 'cluster',
  title: `Redis Cluster (3 masters + replicas): process pre-added jobs over ${3 * QUEUES_PER_MASTER} queues spread over the masters, one worker per queue at concurrency ${CONCURRENCY}`,
  systems: ['docket-redis', 'bullmq'],
  metrics: [RATE, CPU],
  cluster: true,
  timeoutMs: 300_000,
  async run({ adapterFor, clusterNodes, quick, jobs }) {
    if (!clusterNodes) throw new Error('the cluster scenario needs the run to start a Redis Cluster');
    const names = await spreadQueues(clusterNodes, QUEUES_PER_MASTER);
    const n = jobs ?? (quick ? 6_000 : 30_000);
    const perQueue = Math.ceil(n / names.length);
    const adapters: Adapter[] = [];
    try {
      for (const name of names) adapters.push(await adapterFor(name));
      for (const adapter of adapters) {
        await adapter.ready();
        await fill(adapter, perQueue);
      }
      const finished = countdown(perQueue * adapters.length);
      const starts: (() => void)[] = [];
      for (const adapter of adapters) {
        starts.push(await adapter.startWorker({ concurrency: CONCURRENCY, onCompleted: finished.count }));
      }
      const t = await timed(async () => {
        for (const start of starts) start();
        await finished.done;
      });
      for (const adapter of adapters) await adapter.stopWorker();
      return rateMetrics(perQueue * adapters.length, t);
    } finally {
      for (const adapter of adapters) await adapter.close();
    }
  },
};
