import { hostname } from 'node:os';

/** How often a Worker writes its heartbeat; it stays listed for three of these after the last one. */
export const HEARTBEAT_MS = 10_000;

/** Running job ids a heartbeat records (the dashboard lists them); a count says how many in all. */
const RUNNING_LISTED = 50;

/** What a worker's heartbeat records in the workers registry (getWorkers, the dashboard). */
export function workerInfo(id: string, name: string | undefined, started: number, running: string[] = []) {
  return {
    id,
    name: name ?? '',
    addr: `${hostname()}:${process.pid}`,
    started,
    heartbeat: Date.now(),
    running: running.length,
    runningIds: running.slice(0, RUNNING_LISTED),
  };
}
