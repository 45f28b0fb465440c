import * as otel from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DelayedError, FlowProducer, type Job } from '../../src/index.js';
import { setTelemetryApiForTests, traceAdd, traceFlow, traceProcess } from '../../src/telemetry/tracing.js';
import { useQueues } from '../support/fixture.js';
import { stores, until } from '../support/stores.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

beforeAll(() => {
  otel.trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  otel.trace.disable();
});
afterEach(() => {
  exporter.reset();
  setTelemetryApiForTests(undefined);
});

const spans = (name: string) => exporter.getFinishedSpans().filter((s) => s.name === name);
const traceparentOf = (metadata: unknown) => JSON.parse(String(metadata)).traceparent as string;

describe('tracing hooks', () => {
  it('traceAdd makes a PRODUCER span and puts its context in opts.telemetry.metadata', async () => {
    let seen: { name: string; opts?: Record<string, any> }[] = [];
    const result = await traceAdd('emails', [{ name: 'welcome', opts: { attempts: 2 } }], async (jobs) => {
      seen = jobs;
      return [{ id: '7' }];
    });
    expect(result).toEqual([{ id: '7' }]);
    const [span] = spans('add emails.welcome');
    expect(span.kind).toBe(otel.SpanKind.PRODUCER);
    expect(span.attributes).toMatchObject({
      'docket.queue.name': 'emails',
      'docket.job.id': '7',
      'messaging.system': 'docket',
    });
    const { traceId, spanId } = span.spanContext();
    expect(traceparentOf(seen[0].opts?.telemetry.metadata)).toBe(`00-${traceId}-${spanId}-01`);
    expect(seen[0].opts?.attempts).toBe(2);
  });

  it('keeps jobs that opt out (omitContext) or already carry metadata', async () => {
    let seen: { name: string; opts?: Record<string, any> }[] = [];
    await traceAdd(
      'q',
      [
        { name: 'a', opts: { telemetry: { omitContext: true } } },
        { name: 'b', opts: { telemetry: { metadata: 'mine' } } },
        { name: 'c' },
      ],
      async (jobs) => {
        seen = jobs;
      },
    );
    expect(spans('addBulk q')).toHaveLength(1);
    expect(seen[0].opts?.telemetry).toEqual({ omitContext: true });
    expect(seen[1].opts?.telemetry).toEqual({ metadata: 'mine' });
    expect(seen[2].opts?.telemetry.metadata).toContain('traceparent');
  });

  it('traceProcess continues the producer trace, with queue, job id and attempt, and records failures', async () => {
    let metadata = '';
    await traceAdd('q', [{ name: 'n', opts: {} as Record<string, any> }], async (jobs) => {
      metadata = jobs[0].opts.telemetry.metadata;
    });
    const producer = spans('add q.n')[0].spanContext();
    const job = {
      id: '42',
      name: 'n',
      queueName: 'q',
      attemptsMade: 1,
      attemptsStarted: 2,
      opts: { telemetry: { metadata } },
    };
    expect(await traceProcess(job, async () => 'done')).toBe('done');
    await expect(traceProcess(job, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(traceProcess(job, async () => Promise.reject(new DelayedError()))).rejects.toThrow();
    const [ok, failed, delayed] = spans('process q');
    expect(ok.kind).toBe(otel.SpanKind.CONSUMER);
    expect(ok.spanContext().traceId).toBe(producer.traceId);
    expect(ok.parentSpanContext?.spanId).toBe(producer.spanId);
    expect(ok.attributes).toMatchObject({ 'docket.queue.name': 'q', 'docket.job.id': '42', 'docket.job.attempt': 2 });
    expect(ok.status.code).not.toBe(otel.SpanStatusCode.ERROR);
    expect(failed.status).toMatchObject({ code: otel.SpanStatusCode.ERROR, message: 'boom' });
    expect(failed.events.map((e) => e.name)).toContain('exception');
    expect(delayed.status.code).not.toBe(otel.SpanStatusCode.ERROR);
  });

  it('traceProcess starts a new trace for a job without metadata', async () => {
    await traceProcess({ id: '1', name: 'n', queueName: 'q', attemptsMade: 0, opts: {} }, async () => undefined);
    const [span] = spans('process q');
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.attributes['docket.job.attempt']).toBe(1);
  });

  it('traceFlow marks every node of the tree with the addFlow span', async () => {
    let seen: any[] = [];
    await traceFlow(
      [
        {
          name: 'root',
          queueName: 'top',
          children: [{ name: 'kid', queueName: 'leaf', children: [{ name: 'g', queueName: 'leaf' }] }],
        },
      ],
      async (flows) => {
        seen = flows;
      },
    );
    const [span] = spans('addFlow top');
    expect(span.attributes).toMatchObject({ 'docket.job.count': 3, 'docket.flow.count': 1 });
    const want = `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;
    expect(traceparentOf(seen[0].opts.telemetry.metadata)).toBe(want);
    expect(traceparentOf(seen[0].children[0].opts.telemetry.metadata)).toBe(want);
    expect(traceparentOf(seen[0].children[0].children[0].opts.telemetry.metadata)).toBe(want);
  });

  it('passes everything through untouched when @opentelemetry/api is absent', async () => {
    setTelemetryApiForTests(null);
    const jobs = [{ name: 'a', opts: {} }];
    expect(await traceAdd('q', jobs, async (j) => j)).toBe(jobs);
    expect(await traceProcess({ name: 'a', queueName: 'q', attemptsMade: 0, opts: {} }, async () => 5)).toBe(5);
    const flows = [{ name: 'r', queueName: 'q' }];
    expect(await traceFlow(flows, async (f) => f)).toBe(flows);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });
});

describe.each(stores)('trace context through the store on $kind', (store) => {
  const { setup, track } = useQueues(store);

  // Until Queue.addBulk / Worker / FlowProducer.addBulk call the hooks themselves (docs/tools.md),
  // this test wraps them by hand; once they do, it uses the plain API.
  it('carries the producer context from add to the worker, and from a flow to its children', async () => {
    const { queue, worker, connection, name } = setup();
    const probe = await queue.add('probe', {});
    const integrated = typeof probe.opts.telemetry === 'object';
    await queue.remove(probe.id!);
    exporter.reset();

    worker((job: Job) => (integrated ? Promise.resolve(job.data.n) : traceProcess(job, async () => job.data.n)));
    const jobs = [{ name: 'x', data: { n: 1 } }];
    const [job] = integrated ? await queue.addBulk(jobs) : await traceAdd(name, jobs, (j) => queue.addBulk(j));
    const flow = track(new FlowProducer({ connection }));
    const flows = [
      { name: 'p', queueName: name, data: { n: 0 }, children: [{ name: 'c', queueName: name, data: { n: 2 } }] },
    ];
    const tree = integrated ? await flow.addBulk(flows) : await traceFlow(flows, (f) => flow.addBulk(f));
    await until(async () => (await queue.getCompletedCount()) === 3, 10_000, 'all processed');
    await until(() => spans(`process ${name}`).length === 3, 5000, 'process spans');
    const add = spans(`add ${name}.x`)[0];
    const addFlow = spans(`addFlow ${name}`)[0];
    const processes = spans(`process ${name}`);
    const byJob = (id: string) => processes.find((s) => s.attributes['docket.job.id'] === id)!;
    expect(byJob(job.id!).parentSpanContext?.spanId).toBe(add.spanContext().spanId);
    expect(byJob(job.id!).spanContext().traceId).toBe(add.spanContext().traceId);
    expect(byJob(job.id!).attributes).toMatchObject({ 'docket.queue.name': name, 'docket.job.attempt': 1 });
    for (const id of [tree[0].job.id!, tree[0].children![0].job.id!]) {
      expect(byJob(id).parentSpanContext?.spanId).toBe(addFlow.spanContext().spanId);
    }
  });
});
