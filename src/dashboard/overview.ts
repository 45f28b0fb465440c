import type { QueueRegistry } from './registry.js';
import type { StalledTracker } from './stalled-tracker.js';
import type { ThroughputReader } from './throughput.js';

export const COUNTED = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'];

/** Every queue's counts per state, paused flag, stalled jobs of the last hour and throughput. */
export async function queueSummaries(registry: QueueRegistry, throughput: ThroughputReader, stalled: StalledTracker) {
  const { names, listed } = await registry.names();
  const queues = await Promise.all(
    names.map(async (name) => {
      const q = await registry.get(name);
      const [counts, paused, stalls, perMinute] = await Promise.all([
        q.getJobCounts(...COUNTED),
        q.isPaused(),
        stalled.read(q),
        throughput.read(q),
      ]);
      return { name, paused, counts, stalled: stalls, throughput: perMinute };
    }),
  );
  return { queues, listed };
}
