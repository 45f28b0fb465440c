/**
 * Spans and metrics through the `telemetry` option (BullMQ's `Telemetry`, e.g. `bullmq-otel`), with
 * BullMQ's span names, kinds and attributes, so that dashboards built on BullMQ's traces see Docket's.
 *
 * A span is named `<operation> <destination>` (the destination is usually the queue's name; `add`
 * uses `<queue>.<job name>`) and carries `bullmq.queue.name` and `bullmq.queue.operation`. Producers
 * hand their context to consumers inside the job (`opts.telemetry.metadata`, serialised by the
 * context manager); a consumer's span (`process <queue>`) is a child of the producer's.
 * Without the option nothing here runs (Docket's own OpenTelemetry hooks in tracing.ts apply then).
 */
import { MetricNames, TelemetryAttributes } from './attributes.js';
import { type Attributes, type Span, SpanKind, type Telemetry } from './interface.js';

/** The span (when tracing) and the producer context to store in jobs (`metadata()`). */
export interface SpanScope {
  span?: Span;
  /** This span's context serialised for a job's `opts.telemetry.metadata`; undefined without telemetry. */
  metadata(): string | undefined;
}

const UNTRACED: SpanScope = { metadata: () => undefined };

/**
 * Runs `fn` in a span of `telemetry` (or plainly without it). `parentMetadata` (a job's
 * `opts.telemetry.metadata`) makes the span a child of the context it describes. A thrown error is
 * recorded on the span and rethrown.
 */
export function trace<T>(
  telemetry: Telemetry | undefined,
  kind: SpanKind,
  queueName: string,
  operation: string,
  destination: string,
  fn: (scope: SpanScope) => Promise<T>,
  parentMetadata?: string,
): Promise<T> {
  // Not async without telemetry: a worker calls this for every job.
  if (!telemetry) return fn(UNTRACED);
  return inSpan(telemetry, kind, queueName, operation, destination, fn, parentMetadata);
}

async function inSpan<T>(
  telemetry: Telemetry,
  kind: SpanKind,
  queueName: string,
  operation: string,
  destination: string,
  fn: (scope: SpanScope) => Promise<T>,
  parentMetadata?: string,
): Promise<T> {
  const { tracer, contextManager } = telemetry;
  const active = contextManager.active();
  const parent = parentMetadata ? contextManager.fromMetadata(active, parentMetadata) : undefined;
  const span = tracer.startSpan(destination ? `${operation} ${destination}` : operation, { kind }, parent);
  try {
    span.setAttributes({
      [TelemetryAttributes.QueueName]: queueName,
      [TelemetryAttributes.QueueOperation]: operation,
    });
    // A consumer continues the producer's trace; other spans nest in the caller's context.
    const context = span.setSpanOnContext(kind === SpanKind.CONSUMER && parent ? parent : active);
    const scope: SpanScope = { span, metadata: () => contextManager.getMetadata(context) };
    return await contextManager.with(context, () => fn(scope));
  } catch (err) {
    span.recordException(err as Error);
    throw err;
  } finally {
    span.end();
  }
}

/** Runs `fn` outside the caller's context (for background loops), when the context manager can. */
export function detached<T>(telemetry: Telemetry | undefined, fn: () => T): T {
  const root = telemetry?.contextManager.root?.();
  return root === undefined ? fn() : telemetry!.contextManager.with(root, fn);
}

/** `opts.telemetry` of a job added under a producer span: the span's metadata unless the job opts out or has its own. */
export function withProducerMetadata<O extends { telemetry?: { metadata?: string; omitContext?: boolean } }>(
  opts: O,
  metadata: string | undefined,
): O {
  const own = opts.telemetry;
  if (!metadata || own?.omitContext || own?.metadata) return opts;
  return { ...opts, telemetry: { ...own, metadata } };
}

const COUNTERS: Record<string, MetricNames> = {
  completed: MetricNames.JobsCompleted,
  failed: MetricNames.JobsFailed,
  delayed: MetricNames.JobsDelayed,
  retried: MetricNames.JobsRetried,
  waiting: MetricNames.JobsWaiting,
  'waiting-children': MetricNames.JobsWaitingChildren,
};

/** BullMQ's job metrics: one count for the state the job moved to, and its duration since it started. */
export function recordJobMetric(
  telemetry: Telemetry | undefined,
  job: { queueName: string; name: string; processedOn?: number },
  state: 'completed' | 'failed' | 'delayed' | 'retried' | 'waiting' | 'waiting-children',
): void {
  const meter = telemetry?.meter;
  if (!meter) return;
  const attributes: Attributes = {
    [TelemetryAttributes.QueueName]: job.queueName,
    [TelemetryAttributes.JobName]: job.name,
    [TelemetryAttributes.JobState]: state,
  };
  meter.createCounter(COUNTERS[state], { description: `Number of jobs ${state}`, unit: '1' }).add(1, attributes);
  if (job.processedOn) {
    meter
      .createHistogram(MetricNames.JobDuration, { description: 'Job processing duration', unit: 'ms' })
      .record(Date.now() - job.processedOn, attributes);
  }
}

/** BullMQ's queue gauge: jobs per state (`recordJobCountsMetric`). */
export function recordJobCounts(
  telemetry: Telemetry | undefined,
  queueName: string,
  counts: Record<string, number>,
): void {
  const meter = telemetry?.meter;
  if (!meter) return;
  const gauge = meter.createGauge(MetricNames.QueueJobsCount, {
    description: 'Number of jobs in the queue by state',
    unit: '{jobs}',
  });
  for (const [state, count] of Object.entries(counts)) {
    gauge.record(count, {
      [TelemetryAttributes.QueueName]: queueName,
      [TelemetryAttributes.QueueJobsState]: state,
    });
  }
}
