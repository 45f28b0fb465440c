import type { AdapterConfig, NewBenchJob } from '../types.js';

/**
 * BullMQ-style job options of a benchmark job: a delayed job with a `data.due` gets
 * `timestamp = due - delay`, so that the queue's own due time (timestamp + delay) is exactly `due`.
 */
export function jobOpts(j: NewBenchJob): { delay?: number; timestamp?: number; group?: { id: string } } | undefined {
  const group = j.group === undefined ? undefined : { group: { id: j.group } };
  if (!j.delay) return group;
  const delayed = j.data.due === undefined ? { delay: j.delay } : { delay: j.delay, timestamp: j.data.due - j.delay };
  return { ...delayed, ...group };
}

/** The measurement's PostgreSQL database (the orchestrator makes one per measurement). */
export function needPg(cfg: AdapterConfig): string {
  if (!cfg.pgUrl) throw new Error('a PostgreSQL system needs the orchestrator to make a database (pgUrl)');
  return cfg.pgUrl;
}
