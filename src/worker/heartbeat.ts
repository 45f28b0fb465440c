import { hostname } from 'node:os';

/** How often a Worker writes its heartbeat; it stays listed for three of these after the last one. */
export const HEARTBEAT_MS = 10_000;

/** What a worker's heartbeat records in the workers registry (getWorkers). */
export function workerInfo(id: string, name: string | undefined, started: number) {
  return { id, name: name ?? '', addr: `${hostname()}:${process.pid}`, started, heartbeat: Date.now() };
}
