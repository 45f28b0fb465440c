import { BlockingPool } from './blocking.js';
import { checkQueueSlot, isCluster, masters, type RedisClient } from './cluster.js';
import { ConnectionWatch } from './connected.js';
import { BULLMQ_ONLY_SUFFIXES, SCHEMA_VERSION, SUFFIXES } from './keys.js';
import { defineScripts, runScript, type ScriptName } from './scripts.js';

export interface RedisStoreOptions {
  /** Quit `client` on close (true when Docket created the client from a URL or options). */
  ownsClient?: boolean;
}

let evictionWarned = false;

/**
 * The RedisStore's client and what every call goes through: the per-queue schema stamp, the script
 * runner, the pool of blocking connections, and closing. Blocking waits use duplicated connections,
 * so the main client never blocks.
 */
export class RedisConnection {
  readonly blocking: BlockingPool;
  private readonly readyQueues = new Map<string, Promise<void>>();
  private evictionChecked?: Promise<void>;
  private closing?: Promise<void>;
  private readonly watch: ConnectionWatch;
  /** Aborted by close(): calls still waiting for the connection give up. */
  private readonly closed = new AbortController();

  constructor(
    readonly client: RedisClient,
    private readonly opts: RedisStoreOptions,
    onError: (err: Error) => void,
  ) {
    defineScripts(client);
    this.blocking = new BlockingPool(client);
    this.watch = ConnectionWatch.of(client);
    // Without a listener ioredis prints every connection error; the owner hears of them through onError.
    // A client given by the user gets one too, as BullMQ adds one to every client: its errors reach the
    // Queue's or Worker's 'error' listeners (not "[ioredis] Unhandled error event"); removed on close.
    this.forwardError = (err: Error) => {
      if (client.status !== 'ready') this.watch.lastError = redactError(err);
      onError(redactError(err));
    };
    // One listener per Queue or Worker sharing the user's client: raise its cap with each (Node warns past it).
    if (!opts.ownsClient && client.getMaxListeners() > 0) client.setMaxListeners(client.getMaxListeners() + 1);
    client.on('error', this.forwardError);
  }

  private readonly forwardError: (err: Error) => void;

  /** Waits (bounded, see connected.ts) for the connection; then checks the server once and stamps `queue`. */
  async ready(queue?: string): Promise<void> {
    await this.watch.connected(this.closed.signal);
    this.evictionChecked ??= this.checkEvictionPolicy();
    await this.evictionChecked;
    if (queue !== undefined) await this.queueReady(queue);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed.abort();
      this.blocking.close();
      const client = this.client;
      // The user's client stays theirs, without Docket's listener; Docket's own keeps it while it quits.
      if (!this.opts.ownsClient) {
        client.off('error', this.forwardError);
        if (client.getMaxListeners() > 1) client.setMaxListeners(client.getMaxListeners() - 1);
      }
      if (this.opts.ownsClient && client.status !== 'end') {
        // QUIT answers before the socket closes: wait for 'end' so close() leaves nothing open.
        const ended = new Promise<void>((resolve) => {
          client.once('end', resolve);
          setTimeout(() => {
            client.disconnect();
            resolve();
          }, 2000).unref();
        });
        if (client.status === 'ready') {
          await client.quit().catch(() => client.disconnect());
          if ((client.status as string) !== 'end') await ended;
        } else {
          // Connecting or between retries: nothing is in flight, and ioredis may never emit 'end'.
          client.disconnect();
        }
      }
    })();
    return this.closing;
  }

  async run(name: ScriptName, queue: string, args: (string | number)[]): Promise<unknown> {
    try {
      await this.queueReady(queue);
      return await runScript(this.client, name, queue, args);
    } catch (err) {
      throw redactError(err);
    }
  }

  /** Stamps or checks `<q>:meta` once per queue and store; every method passes through here. */
  queueReady(queue: string): Promise<void> {
    let ready = this.readyQueues.get(queue);
    if (!ready) {
      ready = this.checkQueue(queue).then(() => this.stampQueue(queue));
      this.readyQueues.set(queue, ready);
      ready.catch(() => this.readyQueues.delete(queue));
    }
    return ready;
  }

  /** On a Cluster, refuses a queue whose keys would spread over several slots (cluster.ts). */
  async checkQueue(queue: string): Promise<void> {
    if (isCluster(this.client)) checkQueueSlot(queue);
  }

  /** Forgets a queue's stamp (gone with an obliterated queue): the next use stamps it again. */
  forgetQueue(queue: string): void {
    this.readyQueues.delete(queue);
  }

  private async stampQueue(queue: string): Promise<void> {
    if (this.closing) throw new Error(`The store of queue ${queue} is closed.`);
    const own = SUFFIXES.filter((suffix) => suffix !== 'meta');
    const answer = await runScript(this.client, 'ready', queue, [SCHEMA_VERSION, ...own, ...BULLMQ_ONLY_SUFFIXES]);
    if (answer === 0) return;
    if (answer === -1) {
      throw new Error(
        `Queue ${queue} was written by BullMQ (or another tool): Docket will not modify it. ` +
          'Use another queue name or prefix, or drain the queue with BullMQ first.',
      );
    }
    throw new Error(
      `Queue ${queue} has Docket schema version ${String(answer)}, but this Docket knows version ${SCHEMA_VERSION}: ` +
        'upgrade Docket.',
    );
  }

  /** Jobs are data: warn (once per process) when Redis (any master of a Cluster) may evict keys under memory pressure. */
  private async checkEvictionPolicy(): Promise<void> {
    if (evictionWarned) return;
    try {
      const policies = await Promise.all(
        (await masters(this.client)).map(async (node) => {
          const reply = (await node.config('GET', 'maxmemory-policy')) as unknown as string[];
          return Array.isArray(reply) ? reply[1] : undefined;
        }),
      );
      const policy = policies.find((p) => p && p !== 'noeviction');
      if (policy && !evictionWarned) {
        evictionWarned = true;
        console.warn(
          `Docket: Redis maxmemory-policy is "${policy}"; set it to "noeviction" or Redis may drop jobs under memory pressure.`,
        );
      }
    } catch {
      // CONFIG is often disabled on managed Redis: nothing to check then.
    }
  }
}

/** ioredis attaches the failed command to its errors: an AUTH/HELLO command carries the password. */
function redactError<E>(err: E): E {
  const command = (err as { command?: { name?: string; args?: unknown[] } })?.command;
  if (command && /^(auth|hello)$/i.test(command.name ?? '')) command.args = ['***'];
  return err;
}
