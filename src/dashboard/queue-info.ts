import type { CountsCache } from './counts-cache.js';
import type { QueueRegistry } from './registry.js';

/** Schedulers and groups listed on a queue page (the totals are shown beside them). */
const LISTED = 50;
/** Next jobs listed per group. */
const GROUP_JOBS = 5;

/** A queue page's side panels: counts, paused, live workers, job schedulers and groups. */
export async function queueInfo(registry: QueueRegistry, counted: CountsCache, name: string) {
  const queue = await registry.get(name);
  const now = Date.now();
  const [counts, paused, registered, schedulers, schedulerCount, groups] = await Promise.all([
    counted.get(queue),
    queue.isPaused(),
    queue.store.getWorkers(queue.qualifiedName, now),
    queue.getJobSchedulers(0, LISTED - 1, true),
    queue.getJobSchedulersCount(),
    // One more than shown tells whether there are more (reading every group would not scale).
    queue.store.getGroups(queue.qualifiedName, 0, LISTED),
  ]);
  // Each listed group's next few jobs, to link to (a grouped waiting job is in no state tab).
  const groupRows = await Promise.all(
    groups.slice(0, LISTED).map(async (g) => ({
      g,
      jobIds: await queue.store.getGroupJobIds(queue.qualifiedName, g.id, 0, GROUP_JOBS - 1),
    })),
  );
  const workers = registered
    .filter((w) => (w.kind ?? 'worker') === 'worker')
    .map((w) => {
      const at = w.addr.lastIndexOf(':');
      return {
        id: w.id,
        name: w.name,
        host: at > 0 ? w.addr.slice(0, at) : w.addr,
        pid: at > 0 ? Number(w.addr.slice(at + 1)) : undefined,
        started: w.started,
        heartbeat: w.heartbeat,
        running: w.running,
        runningIds: w.runningIds ?? [],
      };
    });
  return {
    name,
    paused,
    counts,
    workers,
    schedulers: schedulers.map((s) => ({
      key: s.key,
      name: s.name,
      pattern: s.pattern,
      every: s.every,
      tz: s.tz,
      next: s.next,
      iterationCount: s.iterationCount,
      limit: s.limit,
      endDate: s.endDate,
    })),
    schedulerCount,
    groups: groupRows.map(({ g, jobIds }) => ({
      id: g.id,
      waiting: g.waiting,
      active: g.active,
      paused: g.paused,
      concurrency: g.concurrency,
      limit: g.limit,
      limitedUntil: g.limitedUntil > now ? g.limitedUntil : undefined,
      jobIds,
    })),
    moreGroups: groups.length > LISTED,
  };
}
