import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import * as otel from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import * as bullmq from 'bullmq';
import { BullMQOtel } from 'bullmq-otel';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import * as docket from '../../src/index.js';
import { stores } from '../support/stores.js';

/** Spans nest through an AsyncLocalStorage context, as with the Node SDK's context manager. */
class AsyncContextManager implements otel.ContextManager {
  private readonly storage = new AsyncLocalStorage<otel.Context>();
  active(): otel.Context {
    return this.storage.getStore() ?? otel.ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: otel.Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.storage.run(ctx, () => fn.apply(thisArg, args));
  }
  bind<T>(_ctx: otel.Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.storage.disable();
    return this;
  }
}

/** Records what a telemetry meter is asked to record: `<kind> <metric name> <attributes>`. */
function recordingMeter(out: string[]) {
  const describe = (attrs?: Record<string, unknown>) => JSON.stringify(attrs ?? {});
  return {
    createCounter: (name: string) => ({
      add: (_v: number, a?: Record<string, unknown>) => out.push(`counter ${name} ${describe(a)}`),
    }),
    createHistogram: (name: string) => ({
      record: (_v: number, a?: Record<string, unknown>) => out.push(`histogram ${name} ${describe(a)}`),
    }),
    createGauge: (name: string) => ({
      record: (_v: number, a?: Record<string, unknown>) => out.push(`gauge ${name} ${describe(a)}`),
    }),
  };
}

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(() => {
  otel.trace.setGlobalTracerProvider(provider);
  otel.context.setGlobalContextManager(new AsyncContextManager());
  otel.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(async () => {
  await provider.shutdown();
  otel.trace.disable();
  otel.context.disable();
  otel.propagation.disable();
});

// Attribute values that are the same in every run (ids and timestamps are not).
const STABLE = [
  'bullmq.queue.operation',
  'bullmq.job.name',
  'bullmq.job.bulk.names',
  'bullmq.job.bulk.count',
  'bullmq.flow.name',
  'bullmq.job.attempts.made',
  'bullmq.queue.rate.limit',
];

/** One line per span: name, kind, parent span's name, attribute keys (stable values), events. */
function signatures(spans: ReadableSpan[], queue: string): string[] {
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  const q = (text: string) => text.replaceAll(queue, 'Q');
  return spans
    .map((s) => {
      const parent = s.parentSpanContext ? (byId.get(s.parentSpanContext.spanId)?.name ?? 'remote') : '-';
      const attrs = Object.keys(s.attributes)
        .sort()
        .map((k) => (STABLE.includes(k) ? `${k}=${JSON.stringify(s.attributes[k])}` : k));
      const events = s.events.map((e) => `${e.name}(${Object.keys(e.attributes ?? {}).join(',')})`);
      return q(`${s.name} kind=${s.kind} parent=${parent} [${attrs.join(' ')}] ${events.join(' ')}`);
    })
    .sort();
}

/** The same user code for BullMQ and Docket: adds, a retried job, a flow, queue operations, the workers' run. */
async function scenario(lib: typeof docket | typeof bullmq, connection: any) {
  exporter.reset();
  const metrics: string[] = [];
  const telemetry = Object.assign(new BullMQOtel({ tracerName: 'parity' }), { meter: recordingMeter(metrics) });
  const name = `otel-${randomUUID().slice(0, 8)}`;
  const Lib = lib as typeof docket;
  const queue = new Lib.Queue(name, { connection, telemetry });
  let failures = 0;
  const worker = new Lib.Worker(
    name,
    async (job) => {
      if (job.name === 'flaky' && failures++ === 0) throw new Error('boom');
      return { ok: job.name };
    },
    { connection, telemetry },
  );
  const completed = new Promise<void>((resolve) => {
    let n = 0;
    worker.on('completed', () => ++n === 6 && resolve());
  });
  const flows = new Lib.FlowProducer({ connection, telemetry });
  await queue.add('single', { x: 1 });
  await queue.add('flaky', {}, { attempts: 2 });
  await queue.addBulk([
    { name: 'b1', data: {} },
    { name: 'b2', data: {} },
  ]);
  // Nodes with options: BullMQ links only those to their addNode span (Docket links every node).
  await flows.add({
    name: 'parent',
    queueName: name,
    opts: {},
    children: [{ name: 'child', queueName: name, opts: {} }],
  });
  await completed;
  await queue.rateLimit(1);
  await queue.pause();
  await queue.resume();
  await queue.recordJobCountsMetric('completed', 'failed');
  await worker.close();
  await flows.close();
  await queue.close();
  return {
    spans: signatures(exporter.getFinishedSpans(), name),
    metrics: metrics.map((m) => m.replaceAll(name, 'Q')).sort(),
  };
}

describe('bullmq-otel through the telemetry option', () => {
  let reference: { spans: string[]; metrics: string[] };

  beforeAll(async () => {
    // BullMQ itself on the run's Redis: the reference for names, kinds, nesting and attributes.
    reference = await scenario(bullmq, { url: inject('redisUrl') });
  });

  describe.each(stores)('on $kind', (store) => {
    it("produces BullMQ's spans: names, kinds, parents, attributes and events", async () => {
      const { spans } = await scenario(docket, store.connection());
      expect(reference.spans).toContain(
        'process Q kind=4 parent=add Q.single [bullmq.job.attempt_finished_timestamp bullmq.job.attempts.made=1 bullmq.job.id bullmq.job.name="single" bullmq.job.processed.timestamp bullmq.queue.name bullmq.queue.operation="process" bullmq.worker.id] job completed(bullmq.job.result)',
      );
      expect(spans).toEqual(reference.spans);
    });

    it("records BullMQ's job metrics and queue gauge on the telemetry meter", async () => {
      const { metrics } = await scenario(docket, store.connection());
      expect(reference.metrics.some((m) => m.startsWith('counter bullmq.jobs.completed'))).toBe(true);
      expect(metrics).toEqual(reference.metrics);
    });
  });

  it("records an add refused for jobId '0' on the add's span, with BullMQ's text", async () => {
    const refusedAdd = async (lib: typeof docket | typeof bullmq, connection: any) => {
      exporter.reset();
      const name = `otel-${randomUUID().slice(0, 8)}`;
      const queue = new (lib as typeof docket).Queue(name, {
        connection,
        telemetry: new BullMQOtel({ tracerName: 'parity' }),
      });
      const err = (await queue.add('zero', {}, { jobId: '0' }).catch((e: Error) => e)) as Error;
      await queue.close();
      const span = exporter.getFinishedSpans().find((s) => s.name === `add ${name}.zero`);
      return { message: err?.message, events: span?.events.map((e) => e.name), status: span?.status.code };
    };
    const reference = await refusedAdd(bullmq, { url: inject('redisUrl') });
    expect(reference.message).toBe("JobId cannot be '0' or start with '0:'");
    expect(await refusedAdd(docket, stores[0].connection())).toEqual(reference);
  });

  it('carries the producer context to the consumer in opts.telemetry.metadata', async () => {
    const telemetry = new BullMQOtel({ tracerName: 'parity' });
    const connection = stores[0].connection();
    const queue = new docket.Queue('carry', { connection, telemetry });
    exporter.reset();
    const job = await queue.add('n', {});
    const stored = await queue.getJob(job.id!);
    const producer = exporter.getFinishedSpans().find((s) => s.name === 'add carry.n')!;
    expect(JSON.parse(stored!.opts.telemetry!.metadata!).traceparent).toContain(producer.spanContext().spanId);
    await queue.close();
  });
});
