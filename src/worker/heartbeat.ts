import { hostname } from 'node:os';
import { isNotConnectionError } from '../errors.js';
import type { WorkerHost } from './host.js';

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

/**
 * A worker's entry in the workers registry: written once it is ready and every HEARTBEAT_MS after,
 * with the ids of the jobs it runs.
 */
export class Heartbeat {
  private timer?: NodeJS.Timeout;
  private readonly started = Date.now();

  constructor(
    private readonly host: WorkerHost,
    private readonly id: string,
    private readonly name: string | undefined,
    private readonly runningIds: () => string[],
  ) {}

  start(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async beat(): Promise<void> {
    const info = workerInfo(this.id, this.name, this.started, this.runningIds());
    const { store, qualifiedName } = this.host;
    // A lost connection is not reported (as the fetch loop's): the next beat registers again.
    await store.registerWorker(qualifiedName, info, HEARTBEAT_MS * 3).catch((err) => {
      if (isNotConnectionError(err)) this.host.emitError(err);
    });
  }
}
