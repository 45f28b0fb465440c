/**
 * BullMQ's `Telemetry` interface: what the `telemetry` option of Queue, Worker, QueueEvents and
 * FlowProducer takes. `bullmq-otel`'s `BullMQOtel` implements it for OpenTelemetry; any tracing
 * system can. Same names and shapes as BullMQ's, so such adapters type-check against Docket.
 */

/** What kind of work a span covers (the values of OpenTelemetry's SpanKind). */
export enum SpanKind {
  INTERNAL = 0,
  SERVER = 1,
  CLIENT = 2,
  PRODUCER = 3,
  CONSUMER = 4,
}

export interface Telemetry<Context = any> {
  /** Creates the spans. */
  tracer: Tracer<Context>;
  /** Holds the active context and (de)serialises it into jobs (`opts.telemetry.metadata`). */
  contextManager: ContextManager<Context>;
  /** Optional: records job counters, durations and queue gauges. */
  meter?: Meter;
}

export interface Tracer<Context = any> {
  /** Starts a span; without `context` the active context is the parent. */
  startSpan(name: string, options?: SpanOptions, context?: Context): Span<Context>;
}

export interface SpanOptions {
  kind: SpanKind;
}

export interface ContextManager<Context = any> {
  /** Runs `fn` with `context` active. */
  with<A extends (...args: any[]) => any>(context: Context, fn: A): ReturnType<A>;
  active(): Context;
  /** An empty context, for background loops that must not join the caller's trace (optional). */
  root?(): Context;
  /** `context` as a string a job carries to its consumer. */
  getMetadata(context: Context): string;
  /** The context `metadata` describes, as a child of `activeContext`. */
  fromMetadata(activeContext: Context, metadata: string): Context;
}

export interface Span<Context = any> {
  /** `ctx` with this span as its active span. */
  setSpanOnContext(ctx: Context): Context;
  setAttribute(key: string, value: AttributeValue): void;
  setAttributes(attributes: Attributes): void;
  addEvent(name: string, attributes?: Attributes): void;
  recordException(exception: Exception, time?: Time): void;
  end(): void;
}

export interface Attributes {
  [attribute: string]: AttributeValue | undefined;
}

export type AttributeValue =
  | string
  | number
  | boolean
  | Array<null | undefined | string>
  | Array<null | undefined | number>
  | Array<null | undefined | boolean>;

export type Exception = string | ExceptionType;

export type ExceptionType = CodeException | MessageException | NameException;

interface CodeException {
  code: string | number;
  name?: string;
  message?: string;
  stack?: string;
}

interface MessageException {
  code?: string | number;
  name?: string;
  message: string;
  stack?: string;
}

interface NameException {
  code?: string | number;
  name: string;
  message?: string;
  stack?: string;
}

export type Time = [number, number] | number | Date;

export interface Meter {
  createCounter(name: string, options?: MetricOptions): Counter;
  createHistogram(name: string, options?: MetricOptions): Histogram;
  createGauge(name: string, options?: MetricOptions): Gauge;
}

export interface MetricOptions {
  description?: string;
  /** e.g. 'ms', '1', '{jobs}'. */
  unit?: string;
}

export interface Counter {
  add(value: number, attributes?: Attributes): void;
}

export interface Histogram {
  record(value: number, attributes?: Attributes): void;
}

export interface Gauge {
  record(value: number, attributes?: Attributes): void;
}
