import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Store, WorkerInfo } from './store/store.js';

/** How often an open QueueEvents tells the store it is alive; it stays listed for three periods. */
const HEARTBEAT_MS = 10_000;

/**
 * Keeps a QueueEvents listed in the store's registry (the one Workers write) while it is open, so
 * that `queue.getQueueEvents()` can list it: BullMQ lists Redis clients by name instead.
 */
export class Presence {
  private readonly info: Omit<WorkerInfo, 'heartbeat'>;
  private timer?: NodeJS.Timeout;
  private registered?: Promise<void>;

  constructor(
    private readonly store: Store,
    private readonly queue: string,
    kind: 'queue-events',
    private readonly onError: (err: unknown) => void,
  ) {
    this.info = { id: randomUUID(), name: '', addr: `${hostname()}:${process.pid}`, started: Date.now(), kind };
  }

  /** Registers now (resolving once listed) and every HEARTBEAT_MS after. */
  start(): Promise<void> {
    if (!this.registered) {
      this.registered = this.beat();
      this.timer = setInterval(() => void this.beat().catch(this.onError), HEARTBEAT_MS);
      this.timer.unref();
    }
    return this.registered;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.registered) {
      await this.registered.catch(() => undefined);
      await this.store.unregisterWorker(this.queue, this.info.id).catch(() => undefined);
    }
  }

  private beat(): Promise<void> {
    return this.store.registerWorker(this.queue, { ...this.info, heartbeat: Date.now() }, HEARTBEAT_MS * 3);
  }
}
