import { setTimeout as sleep } from 'node:timers/promises';
import type { FinishedWatcher } from './job.js';
import type { AnyListener, ListenerArgs, QueueEventsListener } from './listeners.js';
import { Presence } from './presence.js';
import { QueueBase, type QueueBaseOptions, withBackendFactory } from './queue-base.js';

export interface QueueEventsOptions extends QueueBaseOptions {
  autorun?: boolean;
  /** Resume after this event id; default: only events from now on. */
  lastEventId?: string;
  /** ms each read waits for new events. */
  blockingTimeout?: number;
}

/** BullMQ's typed events (src/listeners.ts), with the listener interface as a type argument for custom events. */
export interface QueueEvents<ReturnType = any> {
  on<QEL extends QueueEventsListener<ReturnType> = QueueEventsListener<ReturnType>, U extends keyof QEL = keyof QEL>(
    event: U,
    listener: QEL[U],
  ): this;
  on(event: string | symbol, listener: AnyListener): this;
  once<QEL extends QueueEventsListener<ReturnType> = QueueEventsListener<ReturnType>, U extends keyof QEL = keyof QEL>(
    event: U,
    listener: QEL[U],
  ): this;
  once(event: string | symbol, listener: AnyListener): this;
  off<QEL extends QueueEventsListener<ReturnType> = QueueEventsListener<ReturnType>, U extends keyof QEL = keyof QEL>(
    event: U,
    listener: QEL[U],
  ): this;
  off(event: string | symbol, listener: AnyListener): this;
  emit<QEL extends QueueEventsListener<ReturnType> = QueueEventsListener<ReturnType>, U extends keyof QEL = keyof QEL>(
    event: U,
    ...args: ListenerArgs<QEL[U]>
  ): boolean;
  emit(event: string | symbol, ...args: any[]): boolean;
}

/**
 * Every event of a queue, from every process, read from the queue's capped event log. Listeners get
 * `(args, eventId)` with BullMQ's payloads; `<event>:<jobId>` is emitted too.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: adds typed event methods only (src/listeners.ts)
// biome-ignore lint/correctness/noUnusedVariables: ReturnType types the merged listener methods
export class QueueEvents<ReturnType = any> extends QueueBase implements FinishedWatcher {
  readonly opts: QueueEventsOptions;
  private running?: Promise<void>;
  private readonly stop = new AbortController();
  /** Id of the last event delivered. */
  lastEventId?: string;
  /** Lists this QueueEvents in the store's registry while open (`queue.getQueueEvents()`). */
  private readonly presence: Presence;

  constructor(name: string, opts: QueueEventsOptions = {}, backendFactory?: unknown) {
    super(name, withBackendFactory(opts, backendFactory), true);
    this.opts = { blockingTimeout: 10_000, ...opts };
    this.setMaxListeners(0);
    this.presence = new Presence(this.store, this.qualifiedName, 'queue-events', (err) => this.emitError(err));
    if (opts.autorun !== false) this.run().catch((err) => this.emitError(err));
    this.waitUntilReady().catch((err) => this.emitError(err));
  }

  private emitError(err: unknown): void {
    if (this.closed) return;
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else console.error(err);
  }

  run(): Promise<void> {
    if (this.running) return Promise.reject(new Error('Queue Events is already running.'));
    this.running = this.consume();
    return this.running;
  }

  /** Resolves once the reader knows where it starts, so no event after this point is missed. */
  private started?: Promise<string>;

  override async waitUntilReady(): Promise<void> {
    await super.waitUntilReady();
    if (!this.closed) await this.presence.start();
    await this.started;
  }

  private async consume(): Promise<void> {
    this.started = (async () => {
      await super.waitUntilReady();
      return this.opts.lastEventId ?? (await this.store.lastEventId(this.qualifiedName));
    })();
    let after = await this.started;
    let failures = 0;
    while (!this.closed) {
      try {
        const events = await this.store.readEvents(
          this.qualifiedName,
          after,
          this.opts.blockingTimeout!,
          this.stop.signal,
        );
        failures = 0;
        for (const { id, event, ...fields } of events) {
          after = id;
          this.lastEventId = id;
          if (this.closed) return;
          this.deliver(event, fields, id);
        }
      } catch (err) {
        if (this.closed) return;
        this.emitError(err);
        await sleep(Math.min(5000, 100 * 2 ** failures++), undefined, { signal: this.stop.signal }).catch(
          () => undefined,
        );
      }
    }
  }

  private deliver(event: string, fields: Record<string, unknown>, id: string): void {
    if (event === 'drained') {
      this.emit('drained', id);
      return;
    }
    if (event === 'progress' && typeof fields.data === 'string') fields.data = parseJson(fields.data);
    if (event === 'completed' && typeof fields.returnvalue === 'string')
      fields.returnvalue = parseJson(fields.returnvalue);
    // BullMQ hands `delay` (the due timestamp) to listeners as a number.
    if (event === 'delayed' && typeof fields.delay === 'string') fields.delay = Number(fields.delay);
    this.emit(event, fields, id);
    if (typeof fields.jobId === 'string') this.emit(`${event}:${fields.jobId}`, fields, id);
  }

  /** @internal used by `job.waitUntilFinished`. */
  async waitForJob<R>(
    jobId: string,
    ttl: number | undefined,
    current: () => Promise<{ ok: true; value: R } | { ok: false; reason: string } | undefined>,
  ): Promise<R> {
    await this.waitUntilReady();
    return new Promise<R>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = () => {
        clearTimeout(timer);
        this.off(`completed:${jobId}`, onCompleted);
        this.off(`failed:${jobId}`, onFailed);
        this.off('closing-events', onClosed);
      };
      const onCompleted = (args: { returnvalue: R }) => {
        cleanup();
        resolve(args.returnvalue);
      };
      const onFailed = (args: { failedReason: string }) => {
        cleanup();
        reject(new Error(args.failedReason));
      };
      const onClosed = () => {
        cleanup();
        reject(new Error('QueueEvents closed before the job finished'));
      };
      this.on(`completed:${jobId}`, onCompleted);
      this.on(`failed:${jobId}`, onFailed);
      this.on('closing-events', onClosed);
      if (ttl !== undefined) {
        timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `Job wait ${jobId} timed out before finishing, no finish notification arrived after ${ttl}ms (id=${jobId})`,
            ),
          );
        }, ttl);
      }
      current().then(
        (state) => {
          if (!state) return;
          cleanup();
          if (state.ok) resolve(state.value);
          else reject(new Error(state.reason));
        },
        (err) => {
          cleanup();
          reject(err);
        },
      );
    });
  }

  override close(): Promise<void> {
    this.closeStarted.abort();
    if (!this.closing) {
      this.stop.abort();
      this.emit('closing-events');
      this.closing = (async () => {
        await this.running?.catch(() => undefined);
        await this.presence.stop();
        await this.shutdown();
      })();
    }
    return this.closing;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
