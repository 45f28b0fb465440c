import { setTimeout as sleep } from 'node:timers/promises';
import type { Adapter, ClusterNode, MetricSpec, NewBenchJob, SystemName } from '../types.js';

export interface ScenarioContext {
  adapter: Adapter;
  /** Another adapter of the same system and store, on queue `queue` (the scenario closes it). */
  adapterFor(queue: string): Promise<Adapter>;
  /** The run's Redis Cluster (cluster scenarios only). */
  clusterNodes?: ClusterNode[];
  system: SystemName;
  quick: boolean;
  /** Background queue size of the `scale-*` scenarios. */
  scaleSize: number;
  /** Job count instead of the scenario's own (profiling runs). */
  jobs?: number;
}

export interface Scenario {
  name: string;
  /** One line for the report. */
  title: string;
  /** Systems it runs on by default (others lack the feature or are left out on purpose). */
  systems: readonly SystemName[];
  metrics: MetricSpec[];
  /** Jobs are removed when they complete. */
  removeOnComplete?: boolean;
  /** Runs on a Redis Cluster (3 masters, one replica each) that the orchestrator starts for it. */
  cluster?: boolean;
  /** Run one round only (the slow scale scenarios). */
  once?: boolean;
  /** Child time limit, ms. */
  timeoutMs: number;
  run(ctx: ScenarioContext): Promise<Record<string, number>>;
}

export const ALL: readonly SystemName[] = [
  'docket-redis',
  'docket-sqlite',
  'docket-postgres',
  'bullmq',
  'bullmq-postgres',
  'bee-queue',
  'plainjob',
];
export const DOCKET_AND_BULLMQ: readonly SystemName[] = [
  'docket-redis',
  'docket-sqlite',
  'docket-postgres',
  'bullmq',
  'bullmq-postgres',
];
/** The 1 M-job scale runs: Redis and SQLite (PostgreSQL's are left out to keep the run's length). */
export const SCALE_SYSTEMS: readonly SystemName[] = ['docket-redis', 'docket-sqlite', 'bullmq'];

export const RATE: MetricSpec = { key: 'rate', label: 'jobs/s', better: 'higher' };
export const CPU: MetricSpec = { key: 'cpuUs', label: 'node CPU µs/job', better: 'lower' };
/** The store server's CPU (redis-server, PostgreSQL) per job; absent for in-process stores. */
export const SERVER_CPU: MetricSpec = { key: 'serverUs', label: 'server CPU µs/job', better: 'lower' };

export function makeJobs(first: number, count: number, name = 'job'): NewBenchJob[] {
  return Array.from({ length: count }, (_, k) => ({ name, data: { i: first + k } }));
}

/** Adds `count` plain jobs in batches of 1000 (setup, not timed). */
export async function fill(
  adapter: Adapter,
  count: number,
  make: (first: number, n: number) => NewBenchJob[] = makeJobs,
) {
  for (let first = 0; first < count; first += 1000) await adapter.addBulk(make(first, Math.min(1000, count - first)));
}

/** Rate and CPU per job of a timed section; the server's CPU only where one was metered. */
export function rateMetrics(
  count: number,
  t: { ms: number; cpuMs: number; serverCpuMs?: number },
): Record<string, number> {
  return {
    rate: (count / t.ms) * 1000,
    cpuUs: (t.cpuMs * 1000) / count,
    ...(t.serverCpuMs === undefined ? {} : { serverUs: (t.serverCpuMs * 1000) / count }),
  };
}

/**
 * Lets a just-started worker go idle (blocked waiting for work) before a scenario that is about an
 * idle worker adds anything.
 */
export function settle(): Promise<void> {
  return sleep(250);
}
