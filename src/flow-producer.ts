import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  backendOfFactory,
  DocketBackend,
  effectiveBackendFactory,
  isConnectionBackendFactory,
  isPostgresBackendFactory,
} from './backend.js';
import { JobMoveError, ValidationError } from './errors.js';
import { Job } from './job.js';
import type { AnyListener, FlowProducerListener, ListenerArgs } from './listeners.js';
import type { JobsOptions } from './options/job-options.js';
import { validatePrefix, validateQueueName } from './options/validate.js';
import { openInstances, QueueBase, type QueueBaseOptions } from './queue-base.js';
import { connect } from './store/connect.js';
import type { Store, FlowJob as StoredFlowJob } from './store/store.js';
import { TelemetryAttributes as A } from './telemetry/attributes.js';
import { SpanKind } from './telemetry/interface.js';
import { trace, withProducerMetadata } from './telemetry/trace.js';
import { traceFlow } from './telemetry/tracing.js';

/** A node of a flow: a job and the children it waits for. */
export interface FlowJob {
  name: string;
  queueName: string;
  data?: any;
  prefix?: string;
  opts?: Omit<JobsOptions, 'repeat'>;
  children?: FlowJob[];
}

export interface FlowOpts {
  /** Default job options per queue name. */
  queuesOptions?: Record<string, { defaultJobOptions?: JobsOptions }>;
}

export interface JobNode {
  job: Job;
  children?: JobNode[];
}

export interface NodeOpts {
  queueName: string;
  prefix?: string;
  id: string;
  /** Levels to read (default 10). */
  depth?: number;
  /** Children per node to read (default all). */
  maxChildren?: number;
}

/** BullMQ's typed events (src/listeners.ts). */
export interface FlowProducer {
  on<U extends keyof FlowProducerListener>(event: U, listener: FlowProducerListener[U]): this;
  on(event: string | symbol, listener: AnyListener): this;
  once<U extends keyof FlowProducerListener>(event: U, listener: FlowProducerListener[U]): this;
  once(event: string | symbol, listener: AnyListener): this;
  off<U extends keyof FlowProducerListener>(event: U, listener: FlowProducerListener[U]): this;
  off(event: string | symbol, listener: AnyListener): this;
  emit<U extends keyof FlowProducerListener>(event: U, ...args: ListenerArgs<FlowProducerListener[U]>): boolean;
  emit(event: string | symbol, ...args: any[]): boolean;
}

/**
 * Adds trees of jobs whose parents wait for their children, atomically: the whole tree is stored
 * or none of it. BullMQ's `FlowProducer`.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: adds typed event methods only (src/listeners.ts)
export class FlowProducer extends EventEmitter {
  readonly name = 'flow-producer';
  private readonly store: Store;
  private readonly views = new Map<string, QueueBase>();
  private readonly prefix: string;
  /** False when the store came from another instance's `getBackend()`: its owner closes it. */
  private readonly ownsStore: boolean;
  private backend?: DocketBackend;
  private closing?: Promise<void>;

  /**
   * `backendFactory` (or the process-wide default) as queue-base.ts `withBackendFactory` takes it; with
   * `() => queue.getBackend()` of a Docket instance (bull-board passes one to draw flows) the producer
   * shares that store and holds nothing of its own to close.
   */
  constructor(
    readonly opts: QueueBaseOptions = {},
    backendFactory?: unknown,
  ) {
    super();
    this.prefix = opts.prefix ?? 'bull';
    validatePrefix(this.prefix);
    const factory = effectiveBackendFactory(backendFactory);
    const postgres = isPostgresBackendFactory(factory);
    const given = postgres || isConnectionBackendFactory(factory) ? undefined : backendOfFactory(factory, '', opts);
    this.ownsStore = given === undefined || given.owned;
    this.store =
      given?.store ??
      connect({
        connection: opts.connection,
        sqlite: opts.sqlite,
        postgres: opts.postgres,
        kind: postgres ? 'postgres' : undefined,
      });
    if (this.ownsStore) {
      // The store's connection errors (Redis unreachable, refused credentials), as the other classes emit them.
      this.store.onError = (err) => {
        if (!this.closing && this.listenerCount('error') > 0) this.emit('error', err);
      };
      openInstances.add(this);
    }
  }

  /** BullMQ v6's handle on the datastore (see backend.ts). */
  getBackend(): DocketBackend {
    this.backend ??= new DocketBackend(this.store, '');
    return this.backend;
  }

  /** A Job owner for `queueName` sharing this producer's store. */
  private view(queueName: string, prefix = this.prefix): QueueBase {
    const key = `${prefix}:${queueName}`;
    let view = this.views.get(key);
    if (!view) {
      view = new QueueBase(queueName, { prefix, telemetry: this.opts.telemetry }, false, this.store);
      this.views.set(key, view);
    }
    return view;
  }

  async waitUntilReady(): Promise<void> {
    await this.store.ready();
  }

  /** Adds one tree atomically; resolves with the stored jobs in the same shape. */
  async add(flow: FlowJob, opts: FlowOpts = {}): Promise<JobNode> {
    const { telemetry } = this.opts;
    return trace(telemetry, SpanKind.PRODUCER, flow.queueName, 'addFlow', flow.queueName, ({ span }) => {
      span?.setAttributes({ [A.FlowName]: flow.name });
      return this.ownTracing([flow], async ([traced]) => {
        const nodes: StoredFlowJob[] = [];
        const tree = await this.prepare(traced, undefined, nodes, opts);
        await this.store.addFlow(await this.ready(nodes)).then((res) => adoptIds(tree, nodes, res.ids));
        return tree;
      });
    });
  }

  /** Docket's own spans (tracing.ts) when the `telemetry` option is not set; `telemetry`'s come from `trace`. */
  private ownTracing<T>(flows: FlowJob[], fn: (flows: FlowJob[]) => Promise<T>): Promise<T> {
    return this.opts.telemetry ? fn(flows) : traceFlow(flows, fn);
  }

  /**
   * Adds several trees in one atomic step. As in BullMQ, a tree the store refuses (its parent is
   * missing, or an existing child has another parent) is left out and the others are added: the
   * whole batch is tried first, and flow by flow only when it was refused.
   */
  async addBulk(flows: FlowJob[], opts: FlowOpts = {}): Promise<JobNode[]> {
    return trace(this.opts.telemetry, SpanKind.PRODUCER, '', 'addBulkFlows', '', ({ span }) => {
      span?.setAttributes({ [A.BulkCount]: flows.length, [A.BulkNames]: flows.map((f) => f.name).join(',') });
      return this.ownTracing(flows, (traced) => this.storeFlows(traced, opts));
    });
  }

  private async storeFlows(flows: FlowJob[], opts: FlowOpts): Promise<JobNode[]> {
    const perFlow: { tree: JobNode; nodes: StoredFlowJob[] }[] = [];
    for (const flow of flows) {
      const nodes: StoredFlowJob[] = [];
      perFlow.push({ tree: await this.prepare(flow, undefined, nodes, opts), nodes });
    }
    const all = await this.ready(perFlow.flatMap((f) => f.nodes));
    if (all.length === 0) return perFlow.map((f) => f.tree);
    try {
      const { ids } = await this.store.addFlow(all);
      let at = 0;
      for (const f of perFlow) {
        adoptIds(f.tree, f.nodes, ids.slice(at, at + f.nodes.length));
        at += f.nodes.length;
      }
    } catch (err) {
      if (!isRefusedAdd(err)) throw err;
      for (const f of perFlow) {
        try {
          adoptIds(f.tree, f.nodes, (await this.store.addFlow(f.nodes)).ids);
        } catch (one) {
          if (!isRefusedAdd(one)) throw one;
        }
      }
    }
    return perFlow.map((f) => f.tree);
  }

  private async ready(nodes: StoredFlowJob[]): Promise<StoredFlowJob[]> {
    await Promise.all(nodes.map((n) => this.views.get(n.queue)?.waitUntilReady()));
    return nodes;
  }

  /**
   * Flattens a tree parents-first into `out`, returning the matching JobNode tree. With `telemetry`
   * each node gets BullMQ's `addNode <queue>` span (a child's inside its parent's), whose context the
   * node's job carries to its consumer.
   */
  private prepare(
    flow: FlowJob,
    parent: { id: string; queue: string } | undefined,
    out: StoredFlowJob[],
    opts: FlowOpts,
  ): Promise<JobNode> {
    validateQueueName(flow.queueName);
    const view = this.view(flow.queueName, flow.prefix);
    const defaults = opts.queuesOptions?.[flow.queueName]?.defaultJobOptions ?? {};
    const base: JobsOptions = { ...defaults, ...flow.opts };
    const id: string = base.jobId ?? randomUUID();
    const children = flow.children ?? [];
    const { telemetry } = this.opts;
    return trace(telemetry, SpanKind.PRODUCER, flow.queueName, 'addNode', flow.queueName, async (scope) => {
      scope.span?.setAttributes({ [A.JobName]: flow.name, [A.JobId]: id });
      const jobOpts = withProducerMetadata(base, scope.metadata());
      if (parent) jobOpts.parent = parent;
      if (children.length > 0 && jobOpts.deduplication !== undefined) {
        // BullMQ's words: a deduplicated parent would leave its new children waiting for nothing.
        throw new ValidationError('Deduplication options cannot be used on flow nodes with children');
      }
      const stored = Job.toNewJob(flow.name, flow.data ?? {}, { ...jobOpts, jobId: id });
      out.push({ ...stored, id, queue: view.qualifiedName, hasChildren: children.length > 0 });
      const job = new Job(view, flow.name, flow.data ?? {}, jobOpts, id);
      const ref = { id, queue: view.qualifiedName };
      const childNodes: JobNode[] = [];
      for (const child of children) childNodes.push(await this.prepare(child, ref, out, opts));
      return childNodes.length > 0 ? { job, children: childNodes } : { job };
    });
  }

  /** Reads a stored tree from its root, `depth` levels deep. */
  async getFlow(opts: NodeOpts): Promise<JobNode | undefined> {
    const view = this.view(opts.queueName, opts.prefix);
    return this.readNode(view, opts.id, opts.depth ?? 10, opts.maxChildren);
  }

  private async readNode(
    view: QueueBase,
    id: string,
    depth: number,
    maxChildren?: number,
  ): Promise<JobNode | undefined> {
    const job = await Job.fromId(view, id);
    if (!job) return undefined;
    if (depth <= 1) return { job };
    const deps = await this.store.getDependencies(view.qualifiedName, id);
    let keys = [
      ...Object.keys(deps.processed),
      ...deps.unprocessed,
      ...Object.keys(deps.failed),
      ...Object.keys(deps.ignored),
    ];
    if (maxChildren !== undefined) keys = keys.slice(0, maxChildren);
    const children: JobNode[] = [];
    for (const key of keys) {
      const { prefix, queueName, jobId } = splitJobKey(key);
      const child = await this.readNode(this.view(queueName, prefix), jobId, depth - 1, maxChildren);
      if (child) children.push(child);
    }
    return children.length > 0 ? { job, children } : { job };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        if (this.ownsStore) await this.store.close();
      } finally {
        openInstances.delete(this);
      }
    })();
    return this.closing;
  }

  async disconnect(): Promise<void> {
    await this.close();
  }
}

/** A refusal of the whole add by the store: a missing parent (-5) or a parent that cannot be replaced (-7). */
function isRefusedAdd(err: unknown): boolean {
  return err instanceof JobMoveError && (err.code === -5 || err.code === -7);
}

/** A deduplicated node's job takes the id of the job it was deduplicated to (same order as `prepare` pushed). */
function adoptIds(tree: JobNode, nodes: StoredFlowJob[], ids: string[]): void {
  const jobs: Job[] = [];
  const walk = (node: JobNode) => {
    jobs.push(node.job);
    for (const child of node.children ?? []) walk(child);
  };
  walk(tree);
  jobs.forEach((job, i) => {
    if (ids[i] !== undefined && ids[i] !== nodes[i]?.id) job.id = ids[i];
  });
}

/** `<prefix>:<queue>:<id>` → parts; queue names and ids never contain ':', prefixes may. */
function splitJobKey(key: string): { prefix: string; queueName: string; jobId: string } {
  const idAt = key.lastIndexOf(':');
  const queueAt = key.lastIndexOf(':', idAt - 1);
  return { prefix: key.slice(0, queueAt), queueName: key.slice(queueAt + 1, idAt), jobId: key.slice(idAt + 1) };
}
