import { listQueues } from '../cli/list-queues.js';
import { Queue } from '../queue.js';
import type { ConnectionOptions } from '../store/connect.js';

/** The queues a dashboard has opened, one per `<prefix>:<name>`, all closed together. */
export class QueueRegistry {
  private readonly queues = new Map<string, Queue>();
  private probe?: Queue;
  private closed = false;

  constructor(
    private readonly connection: ConnectionOptions | undefined,
    readonly prefix: string,
    private readonly fixed: string[] = [],
  ) {}

  async get(name: string, prefix = this.prefix): Promise<Queue> {
    if (this.closed) throw new Error('the dashboard is closed');
    const key = `${prefix}:${name}`;
    let queue = this.queues.get(key);
    if (!queue) {
      // Showing a queue records no library version in it (as BullMQ's skipMetasUpdate).
      queue = new Queue(name, { connection: this.connection, prefix, skipMetasUpdate: true });
      queue.on('error', () => undefined);
      this.queues.set(key, queue);
    }
    await queue.waitUntilReady();
    return queue;
  }

  /** Queue names: the fixed list plus every queue the store lists (when it can). */
  async names(): Promise<{ names: string[]; listed: boolean }> {
    // Never written; its {hash tag} passes a Redis Cluster's check whatever the prefix (redis/cluster.ts).
    this.probe ??= new Queue('{docket-dashboard}', {
      connection: this.connection,
      prefix: this.prefix,
      skipWaitingForReady: true,
    });
    await this.probe.store.ready();
    const listed = await listQueues(this.probe.store, this.prefix);
    const names = [...new Set([...this.fixed, ...(listed ?? [])])].sort();
    return { names, listed: listed !== undefined };
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.queues.values(), ...(this.probe ? [this.probe] : [])];
    this.queues.clear();
    this.probe = undefined;
    await Promise.all(all.map((q) => q.close()));
  }
}
