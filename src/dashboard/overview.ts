import type { CountsCache } from './counts-cache.js';
import type { QueueRegistry } from './registry.js';
import type { StalledTracker } from './stalled-tracker.js';
import type { ThroughputReader } from './throughput.js';

/** Every queue's counts per state, paused flag, stalled jobs of the last hour and throughput. */
export async function queueSummaries(
  registry: QueueRegistry,
  throughput: ThroughputReader,
  stalled: StalledTracker,
  counted: CountsCache,
) {
  const { names, listed } = await registry.names();
  const queues = await Promise.all(
    names.map(async (name) => {
      const q = await registry.get(name);
      const [counts, paused, stalls, perMinute] = await Promise.all([
        counted.get(q),
        q.isPaused(),
        stalled.read(q),
        throughput.read(q),
      ]);
      // The count is the store's per-minute record (exact for the whole hour); the ids come from the event log.
      const count = perMinute.stalled.reduce((a, b) => a + b, 0);
      return { name, paused, counts, stalled: { ...stalls, count, since: perMinute.since }, throughput: perMinute };
    }),
  );
  return { queues, listed };
}
