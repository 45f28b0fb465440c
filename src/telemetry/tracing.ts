/**
 * OpenTelemetry spans for Docket, as small hooks the API layer wraps around its work:
 * `traceAdd` (Queue.addBulk), `traceFlow` (FlowProducer.addBulk) and `traceProcess` (the worker
 * running a processor). Each is a plain pass-through when `@opentelemetry/api` cannot be imported
 * (it is an optional peer: loaded once with a dynamic `import()`).
 *
 * Context from producer to worker travels inside the job, in BullMQ's option
 * `opts.telemetry.metadata`: a JSON string of a W3C trace-context carrier
 * (`{"traceparent":"00-<trace>-<span>-<flags>","tracestate":"…"}`), plus whatever the globally
 * registered propagator adds (baggage, …). `opts.telemetry.omitContext: true` keeps a job out of
 * the producer's trace. A metadata string that is already set is kept.
 *
 * Spans do not depend on a context manager being registered: the hooks pass contexts explicitly,
 * and still run `fn` inside `context.with(…)` so spans the processor starts nest under `process`
 * when one is.
 */
import type * as Otel from '@opentelemetry/api';
import { specialErrorKind } from '../errors.js';

type OtelApi = typeof Otel;

const TRACER_NAME = 'docket';

let loading: Promise<OtelApi | undefined> | undefined;

function loadApi(): Promise<OtelApi | undefined> {
  // The namespace (not its `default`, which lacks the enums such as SpanKind).
  loading ??= import('@opentelemetry/api').then(
    (mod) => (mod.SpanKind ? mod : ((mod as unknown as { default?: OtelApi }).default ?? mod)),
    () => undefined,
  );
  return loading;
}

/**
 * True when an application registered a tracer provider. Without one every span would be a no-op,
 * yet building it (context, attributes, carrier) costs a few µs per job on the hot path.
 */
function tracing(otel: OtelApi): boolean {
  const provider = otel.trace.getTracerProvider() as { getDelegate?: () => object };
  const delegate = provider.getDelegate?.() ?? provider;
  return delegate.constructor?.name !== 'NoopTracerProvider';
}

/** @internal Tests only: `null` behaves as if `@opentelemetry/api` were not installed; `undefined` restores it. */
export function setTelemetryApiForTests(api: OtelApi | null | undefined): void {
  loading = api === undefined ? undefined : Promise.resolve(api ?? undefined);
}

/** What a job carries for tracing (BullMQ's `JobsOptions.telemetry`). */
export interface TelemetryOptions {
  /** Serialised trace context of the producer (set by `traceAdd`/`traceFlow`). */
  metadata?: string;
  /** Do not carry the producer's context in this job. */
  omitContext?: boolean;
}

interface Traceable {
  name: string;
  opts?: { telemetry?: TelemetryOptions; [key: string]: unknown };
}

/** The job view `traceProcess` needs. */
export interface ProcessedJob {
  id?: string;
  name: string;
  queueName: string;
  attemptsMade: number;
  attemptsStarted?: number;
  opts: { telemetry?: TelemetryOptions; [key: string]: unknown };
}

/** A flow node (FlowProducer's FlowJob) */
export interface TraceableFlow extends Traceable {
  queueName: string;
  children?: TraceableFlow[];
}

function tracer(otel: OtelApi): Otel.Tracer {
  return otel.trace.getTracer(TRACER_NAME);
}

/** The carrier for `ctx` as a metadata string, or undefined when `ctx` holds no valid span. */
function serialize(otel: OtelApi, ctx: Otel.Context): string | undefined {
  const spanContext = otel.trace.getSpanContext(ctx);
  if (!spanContext || !otel.trace.isSpanContextValid(spanContext)) return undefined;
  const carrier: Record<string, string> = {};
  otel.propagation.inject(ctx, carrier);
  if (!carrier.traceparent) {
    const flags = (spanContext.traceFlags & otel.TraceFlags.SAMPLED) === otel.TraceFlags.SAMPLED ? '01' : '00';
    carrier.traceparent = `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`;
    const state = spanContext.traceState?.serialize();
    if (state) carrier.tracestate = state;
  }
  return JSON.stringify(carrier);
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The producer's context from a job's metadata (through the global propagator, else W3C by hand). */
function deserialize(otel: OtelApi, metadata: string | undefined, base: Otel.Context): Otel.Context | undefined {
  if (!metadata) return undefined;
  let carrier: Record<string, string>;
  try {
    carrier = JSON.parse(metadata);
  } catch {
    return undefined;
  }
  if (!carrier || typeof carrier !== 'object') return undefined;
  const extracted = otel.propagation.extract(base, carrier);
  const found = otel.trace.getSpanContext(extracted);
  if (found && otel.trace.isSpanContextValid(found) && found !== otel.trace.getSpanContext(base)) return extracted;
  const m = TRACEPARENT.exec(String(carrier.traceparent ?? ''));
  if (!m) return undefined;
  const spanContext: Otel.SpanContext = {
    traceId: m[1],
    spanId: m[2],
    traceFlags: Number.parseInt(m[3], 16),
    isRemote: true,
  };
  if (!otel.trace.isSpanContextValid(spanContext)) return undefined;
  return otel.trace.setSpanContext(base, spanContext);
}

function withMetadata<T extends Traceable>(job: T, metadata: string | undefined): T {
  const telemetry = job.opts?.telemetry;
  if (!metadata || telemetry?.omitContext || telemetry?.metadata) return job;
  return { ...job, opts: { ...job.opts, telemetry: { ...telemetry, metadata } } };
}

function fail(otel: OtelApi, span: Otel.Span, err: unknown): void {
  const error = err instanceof Error ? err : new Error(String(err));
  span.recordException(error);
  span.setStatus({ code: otel.SpanStatusCode.ERROR, message: error.message });
}

async function inSpan<T>(
  otel: OtelApi,
  name: string,
  options: Otel.SpanOptions,
  parent: Otel.Context,
  fn: (span: Otel.Span, ctx: Otel.Context) => Promise<T>,
  isFailure: (err: unknown) => boolean = () => true,
): Promise<T> {
  const span = tracer(otel).startSpan(name, options, parent);
  const ctx = otel.trace.setSpan(parent, span);
  try {
    return await otel.context.with(ctx, () => fn(span, ctx));
  } catch (err) {
    if (isFailure(err)) fail(otel, span, err);
    throw err;
  } finally {
    span.end();
  }
}

/**
 * Wraps adding `jobs` to `queueName` in a PRODUCER span (`add <queue>.<name>`, or `addBulk <queue>`
 * for several) and hands `fn` copies of the jobs whose `opts.telemetry.metadata` carries it.
 */
export async function traceAdd<J extends Traceable, T>(
  queueName: string,
  jobs: J[],
  fn: (jobs: J[]) => Promise<T>,
): Promise<T> {
  const otel = await loadApi();
  if (!otel || !tracing(otel)) return fn(jobs);
  const name = jobs.length === 1 ? `add ${queueName}.${jobs[0].name}` : `addBulk ${queueName}`;
  const attributes: Otel.Attributes = {
    'messaging.system': 'docket',
    'messaging.operation.type': 'send',
    'messaging.destination.name': queueName,
    'docket.queue.name': queueName,
    'docket.job.count': jobs.length,
  };
  if (jobs.length === 1) attributes['docket.job.name'] = jobs[0].name;
  return inSpan(otel, name, { kind: otel.SpanKind.PRODUCER, attributes }, otel.context.active(), async (span, ctx) => {
    const metadata = serialize(otel, ctx);
    const result = await fn(jobs.map((j) => withMetadata(j, metadata)));
    const ids = Array.isArray(result) ? result.map((j) => (j as { id?: unknown })?.id).filter((id) => id != null) : [];
    if (ids.length === 1) span.setAttribute('docket.job.id', String(ids[0]));
    else if (ids.length > 1) span.setAttribute('docket.job.ids', ids.map(String));
    return result;
  });
}

/** Wraps adding flows in a PRODUCER span (`addFlow <root queue>`); every node of the copies `fn` gets carries it. */
export async function traceFlow<F extends TraceableFlow, T>(flows: F[], fn: (flows: F[]) => Promise<T>): Promise<T> {
  const otel = await loadApi();
  if (!otel || !tracing(otel)) return fn(flows);
  const roots = [...new Set(flows.map((f) => f.queueName))];
  let count = 0;
  const countNodes = (f: TraceableFlow): void => {
    count++;
    for (const c of f.children ?? []) countNodes(c);
  };
  for (const f of flows) countNodes(f);
  const attributes: Otel.Attributes = {
    'messaging.system': 'docket',
    'messaging.operation.type': 'send',
    'messaging.destination.name': roots.join(','),
    'docket.queue.name': roots.join(','),
    'docket.flow.count': flows.length,
    'docket.job.count': count,
  };
  return inSpan(
    otel,
    `addFlow ${roots.join(',')}`,
    { kind: otel.SpanKind.PRODUCER, attributes },
    otel.context.active(),
    (_span, ctx) => {
      const metadata = serialize(otel, ctx);
      const mark = <N extends TraceableFlow>(node: N): N => {
        const marked = withMetadata(node, metadata);
        return node.children ? { ...marked, children: node.children.map(mark) } : marked;
      };
      return fn(flows.map(mark));
    },
  );
}

/**
 * Runs the processor `fn` for `job` in a CONSUMER span (`process <queue>`) whose parent is the
 * producer's context carried by the job (else the active context). Attributes: queue, job id,
 * name and attempt (1 for the first run). A thrown error marks the span as failed, except the
 * special errors (DelayedError, WaitingChildrenError, WaitingError, RateLimitError) that only move
 * the job.
 */
export async function traceProcess<T>(job: ProcessedJob, fn: () => Promise<T>): Promise<T> {
  const otel = await loadApi();
  if (!otel || !tracing(otel)) return fn();
  const active = otel.context.active();
  const parent = deserialize(otel, job.opts?.telemetry?.metadata, active) ?? active;
  const attributes: Otel.Attributes = {
    'messaging.system': 'docket',
    'messaging.operation.type': 'process',
    'messaging.destination.name': job.queueName,
    'docket.queue.name': job.queueName,
    'docket.job.name': job.name,
    'docket.job.attempt': job.attemptsMade + 1,
  };
  if (job.id !== undefined) {
    attributes['docket.job.id'] = job.id;
    attributes['messaging.message.id'] = job.id;
  }
  if (job.attemptsStarted !== undefined) attributes['docket.job.attempts_started'] = job.attemptsStarted;
  return inSpan(
    otel,
    `process ${job.queueName}`,
    { kind: otel.SpanKind.CONSUMER, attributes },
    parent,
    () => fn(),
    (err) => specialErrorKind(err) === undefined,
  );
}
