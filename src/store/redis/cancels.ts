import type { CancelNotice } from '../store.js';
import { isCluster, type RedisClient } from './cluster.js';

type Listener = (notice: CancelNotice) => void;

/**
 * Delivers Store.cancelJob's notices on Redis: cancelJob.lua PUBLISHes `[id, token, failedReason]`
 * on `<q>:cancels` in the same call that fails the job; this subscribes a connection of its own
 * (duplicated from the store's client on first use) to the channel of each queue watched. A
 * subscription, once made, stays until the store closes: a Worker watches and unwatches as jobs
 * start and end, and a SUBSCRIBE round trip per job would cost more than an idle subscription
 * (which costs nothing while no cancel is published). Messages missed while reconnecting are not
 * resent; the cancel is durable in the job, and its holder learns of it at its next lock renewal.
 */
export class CancelSubscriber {
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly subscribed = new Map<string, Promise<unknown>>();
  private client?: RedisClient;
  private closed = false;

  constructor(private readonly main: RedisClient) {}

  /** Subscribes to `queue`'s channel (once); resolves when Redis confirmed it. Never rejects. */
  subscribe(queue: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    let done = this.subscribed.get(queue);
    if (!done) {
      done = this.connection()
        .subscribe(channelOf(queue))
        .catch(() => this.subscribed.delete(queue));
      this.subscribed.set(queue, done);
    }
    return done.then(() => undefined);
  }

  watch(queue: string, listener: Listener): () => void {
    let set = this.listeners.get(queue);
    if (!set) {
      set = new Set();
      this.listeners.set(queue, set);
    }
    set.add(listener);
    if (!this.subscribed.has(queue)) void this.subscribe(queue);
    return () => {
      set.delete(listener);
    };
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
    this.subscribed.clear();
    this.client?.disconnect();
    this.client = undefined;
  }

  private connection(): RedisClient {
    if (this.client) return this.client;
    const main = this.main;
    const client: RedisClient = isCluster(main) ? main.duplicate() : main.duplicate({ disconnectTimeout: 0 });
    client.on('error', () => {}); // reconnects by itself; notices missed meanwhile are covered (see above)
    client.on('message', (channel: string, message: string) => this.deliver(channel, message));
    this.client = client;
    return client;
  }

  private deliver(channel: string, message: string): void {
    const queue = channel.slice(0, -':cancels'.length);
    const set = this.listeners.get(queue);
    if (!set || set.size === 0) return;
    let notice: CancelNotice;
    try {
      const [id, token, failedReason] = JSON.parse(message) as [string, string, string];
      notice = { id: String(id), token: String(token), failedReason: String(failedReason) };
    } catch {
      return;
    }
    for (const listener of [...set]) listener(notice);
  }
}

/** The channel cancelJob.lua publishes on: `<prefix>:<queue>:cancels`. */
export function channelOf(queue: string): string {
  return `${queue}:cancels`;
}
