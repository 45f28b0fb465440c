import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FlowProducer, type Job } from '../../src/index.js';
import { useQueues } from '../support/fixture.js';
import { isolated, stores, until } from '../support/stores.js';
import { cli, cliLive, hasListQueues } from './cli-harness.js';

describe('docket CLI usage', () => {
  const url = stores[0].connection();

  it('prints help for the program and every command, with exit code 0', async () => {
    const top = await cli(url, ['--help']);
    expect(top.code).toBe(0);
    for (const cmd of [
      'queues',
      'jobs',
      'job',
      'retry',
      'promote',
      'remove',
      'cancel',
      'clean',
      'pause',
      'resume',
      'drain',
      'obliterate',
      'add',
      'run',
      'dashboard',
    ]) {
      expect(top.out).toContain(cmd);
      const help = await cli(url, [cmd, '--help']);
      expect(help.code, cmd).toBe(0);
      expect(help.out).toContain(`Usage: docket ${cmd}`);
    }
  });

  it('exits 2 on usage errors and names the problem', async () => {
    const unknown = await cli(url, ['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown command/);
    expect((await cli(url, ['jobs'])).code).toBe(2);
    expect((await cli(url, ['jobs', 'q', '--state', 'nope'])).code).toBe(2);
    const limit = await cli(url, ['jobs', 'q', '--limit', 'x']);
    expect(limit.code).toBe(2);
    expect(limit.err).toContain('--limit');
    const data = await cli(url, ['add', 'q', 'n', '--data', '{bad']);
    expect(data.code).toBe(2);
    expect(data.err).toContain('--data is not valid JSON');
    expect((await cli(url, ['clean', 'q', '--grace', 'soon'])).code).toBe(2);
    expect((await cli('mysql://x', ['jobs', 'q'])).code).toBe(2);
  });
});

describe.each(stores)('docket CLI on $kind', (store) => {
  const { setup, track } = useQueues(isolated(store, 3));

  it('adds jobs, lists them as a table and as JSON, and shows one in full', async () => {
    const { queue, connection, name } = setup();
    const added = await cli(connection, [
      '--json',
      'add',
      name,
      'email',
      '--data',
      '{"to":"a@b.c"}',
      '--attempts',
      '3',
    ]);
    expect(added.code).toBe(0);
    const { id } = JSON.parse(added.out);
    expect((await queue.getJob(id))?.data).toEqual({ to: 'a@b.c' });
    expect((await queue.getJob(id))?.opts.attempts).toBe(3);
    await cli(connection, ['add', name, 'later', '--delay', '1h']);

    const table = await cli(connection, ['jobs', name]);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^ID\s+NAME\s+STATE/);
    expect(table.out).toMatch(new RegExp(`${id}\\s+email\\s+waiting`));
    expect(table.out).toMatch(/later\s+delayed/);

    const json = await cli(connection, ['--json', 'jobs', name, '--state', 'delayed']);
    const list = JSON.parse(json.out);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ name: 'later', state: 'delayed' });
    const limited = JSON.parse((await cli(connection, ['--json', 'jobs', name, '--limit', '1'])).out);
    expect(limited).toHaveLength(1);

    const one = await cli(connection, ['job', name, id]);
    expect(one.code).toBe(0);
    expect(one.out).toContain(`job ${id} (email) — waiting`);
    expect(one.out).toContain('"to": "a@b.c"');
    const missing = await cli(connection, ['job', name, 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('job nope not found');
  });

  it('shows a failed job with its reason, stack trace and logs, then retries it', async () => {
    const { queue, worker, connection, name } = setup();
    let fail = true;
    const w = worker(async (job: Job) => {
      await job.log('starting');
      await job.step('render', () => ({ subject: 'hi' }));
      if (fail) throw new Error('smtp down');
      return 'sent';
    });
    const job = await queue.add('email', { n: 1 });
    await until(async () => (await queue.getJobState(job.id!)) === 'failed', 10_000, 'failed');

    const detail = JSON.parse((await cli(connection, ['--json', 'job', name, job.id!])).out);
    expect(detail).toMatchObject({ state: 'failed', failedReason: 'smtp down', logs: ['starting'], attemptsMade: 1 });
    expect(detail.stacktrace[0]).toContain('Error: smtp down');
    const text = (await cli(connection, ['job', name, job.id!])).out;
    expect(text).toContain('failed reason: smtp down');
    expect(text).toContain('stack traces:');
    expect(detail.steps).toEqual({ render: { subject: 'hi' } });
    expect(text).toContain('steps (1 recorded):\n  render  {"subject":"hi"}');

    fail = false;
    const retried = await cli(connection, ['--json', 'retry', name, '--id', job.id!]);
    expect(retried.code).toBe(0);
    expect(JSON.parse(retried.out)).toEqual({ retried: 1 });
    await until(async () => (await queue.getJobState(job.id!)) === 'completed', 10_000, 'completed');
    await w.close();
  });

  it('retries all failed jobs, promotes delayed ones, removes and cleans', async () => {
    const { queue, worker, connection, name } = setup();
    const w = worker(async () => {
      throw new Error('no');
    });
    await queue.addBulk([1, 2, 3].map((n) => ({ name: 'x', data: { n } })));
    await until(async () => (await queue.getFailedCount()) === 3, 10_000, '3 failed');
    await w.close();

    const retried = await cli(connection, ['retry', name]);
    expect(retried.out).toContain('retried 3 failed job(s)');
    expect(await queue.getWaitingCount()).toBe(3);

    const delayed = await queue.add('d', {}, { delay: 3_600_000 });
    expect((await cli(connection, ['promote', name, '--id', delayed.id!])).code).toBe(0);
    expect(await queue.getJobState(delayed.id!)).toBe('waiting');
    await queue.add('d2', {}, { delay: 3_600_000 });
    expect(JSON.parse((await cli(connection, ['--json', 'promote', name])).out)).toEqual({ promoted: 1 });
    expect(await queue.getDelayedCount()).toBe(0);

    const removed = await cli(connection, ['--json', 'remove', name, delayed.id!]);
    expect(JSON.parse(removed.out)).toEqual({ removed: [delayed.id], missing: [] });
    expect(await queue.getJob(delayed.id!)).toBeUndefined();
    expect((await cli(connection, ['remove', name, 'ghost'])).code).toBe(1);

    const done = worker(async () => 'ok');
    await until(async () => (await queue.getCompletedCount()) === 4, 10_000, '4 completed');
    await done.close();
    const young = await cli(connection, ['--json', 'clean', name, '--state', 'completed', '--grace', '1h']);
    expect(JSON.parse(young.out).cleaned).toBe(0);
    const all = await cli(connection, ['--json', 'clean', name, '--state', 'completed', '--grace', '0']);
    expect(JSON.parse(all.out).cleaned).toBe(4);
    expect(await queue.getCompletedCount()).toBe(0);
  });

  it('cancels an active job held by a worker, and a waiting one', async () => {
    const { queue, worker, connection, name } = setup();
    const w = worker(async (job: Job) => {
      if (job.name === 'long') await new Promise(() => {}); // ignores its signal
    });
    const failed = new Promise<Error>((resolve) => w.on('failed', (_job, err) => resolve(err)));
    const long = await queue.add('long', {}, { attempts: 3 });
    await until(async () => (await queue.getJobState(long.id!)) === 'active', 10_000, 'active');
    const waiting = await queue.add('later', {}, { delay: 3_600_000 });
    const out = await cli(connection, ['--json', 'cancel', name, long.id!, waiting.id!, 'ghost', '--reason', 'ops']);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.out)).toEqual({ cancelled: [long.id, waiting.id], skipped: ['ghost'] });
    expect((await failed).message).toBe('Job cancelled: ops');
    expect((await queue.getJob(long.id!))?.failedReason).toBe('Job cancelled: ops');
    expect(await queue.getJobState(waiting.id!)).toBe('failed');
    expect((await cli(connection, ['cancel', name, long.id!])).code).toBe(1); // finished already
  });

  it('pauses, resumes, drains and obliterates (asking first)', async () => {
    const { queue, connection, name } = setup();
    await queue.addBulk([
      { name: 'a', data: {} },
      { name: 'b', data: {} },
    ]);
    expect((await cli(connection, ['pause', name])).out).toContain(`${name} paused`);
    expect(await queue.isPaused()).toBe(true);
    expect((await cli(connection, ['resume', name])).out).toContain(`${name} resumed`);
    expect(await queue.isPaused()).toBe(false);
    expect((await cli(connection, ['drain', name])).code).toBe(0);
    expect(await queue.getWaitingCount()).toBe(0);

    await queue.add('c', {});
    const noTerminal = await cli(connection, ['obliterate', name]);
    expect(noTerminal.code).toBe(1);
    expect(noTerminal.err).toContain('--yes');
    const declined = await cli(connection, ['obliterate', name], { confirm: async () => false });
    expect(declined.code).toBe(1);
    expect(await queue.getWaitingCount()).toBe(1);
    let asked = '';
    const accepted = await cli(connection, ['obliterate', name, '--force'], {
      confirm: async (q) => {
        asked = q;
        return true;
      },
    });
    expect(accepted.code).toBe(0);
    expect(asked).toContain(name);
    expect(await queue.getWaitingCount()).toBe(0);
    await queue.add('d', {});
    expect((await cli(connection, ['obliterate', name, '--yes'])).code).toBe(0);
    expect(await queue.getWaitingCount()).toBe(0);
  });

  it('shows a parent job with its children', async () => {
    const { connection, name } = setup();
    const flow = track(new FlowProducer({ connection }));
    const tree = await flow.add({
      name: 'parent',
      queueName: name,
      children: [
        { name: 'c1', queueName: name, data: {} },
        { name: 'c2', queueName: name, data: {} },
      ],
    });
    const detail = JSON.parse((await cli(connection, ['--json', 'job', name, tree.job.id!])).out);
    expect(detail.state).toBe('waiting-children');
    expect(detail.children.map((c: { status: string }) => c.status)).toEqual(['unprocessed', 'unprocessed']);
    expect(detail.children.map((c: { id: string }) => c.id).sort()).toEqual(tree.children!.map((c) => c.job.id).sort());
    const text = (await cli(connection, ['job', name, tree.job.id!])).out;
    expect(text).toContain('children (2):');
  });

  it('counts jobs per state of named queues, and refreshes with --watch', async () => {
    const { queue, connection, name } = setup();
    await queue.addBulk([
      { name: 'a', data: {} },
      { name: 'b', data: {} },
    ]);
    await queue.add('c', {}, { delay: 60_000 });
    const json = JSON.parse((await cli(connection, ['--json', 'queues', name])).out);
    expect(json).toEqual([
      expect.objectContaining({
        queue: name,
        paused: false,
        counts: expect.objectContaining({ waiting: 2, delayed: 1 }),
      }),
    ]);
    const table = (await cli(connection, ['queues', name])).out;
    expect(table).toMatch(/QUEUE\s+PAUSED\s+WAITING/);
    expect(table).toMatch(new RegExp(`${name}\\s+no\\s+2\\s+0\\s+1`));

    const watch = cliLive(connection, ['--json', 'queues', name, '--watch', '--interval', '50ms']);
    await until(() => watch.output().split('\n').filter(Boolean).length >= 1, 5000, 'first refresh');
    await queue.add('d', {});
    await until(() => watch.output().includes('"waiting":3'), 5000, 'a refresh with 3 waiting');
    const result = await watch.stop();
    expect(result.code).toBe(0);
  });

  it.runIf(hasListQueues(store))('lists every queue of the store with `docket queues`', async () => {
    const { queue, connection, name } = setup();
    await queue.add('a', {});
    const listed = JSON.parse((await cli(connection, ['--json', 'queues'])).out) as { queue: string }[];
    expect(listed.map((r) => r.queue)).toContain(name);
    expect(listed.map((r) => r.queue)).not.toContain('{docket-cli}');
  });

  it.skipIf(hasListQueues(store))('asks for queue names while the store cannot list queues', async () => {
    const { connection } = setup();
    const res = await cli(connection, ['queues']);
    expect(res.code).toBe(1);
    expect(res.err).toContain('Store.listQueues is missing');
  });

  it('runs a worker from a module and reports completed/failed', async () => {
    const { queue, connection, name } = setup();
    const dir = mkdtempSync(join(tmpdir(), 'docket-run-'));
    const file = join(dir, 'processor.mjs');
    writeFileSync(
      file,
      `export const queueName = ${JSON.stringify(name)};
       export default async function (job) { if (job.data.fail) throw new Error('bad'); return job.data.n * 2; }`,
    );
    await queue.addBulk([
      { name: 'j', data: { n: 1 } },
      { name: 'j', data: { n: 2 } },
      { name: 'j', data: { fail: true } },
    ]);
    const run = cliLive(connection, ['--json', 'run', file, '--interval', '50ms', '--concurrency', '2']);
    await until(
      async () => (await queue.getCompletedCount()) === 2 && (await queue.getFailedCount()) === 1,
      10_000,
      'jobs processed by `docket run`',
    );
    await until(() => run.output().includes('"failed":1'), 5000, 'a progress line');
    const result = await run.stop();
    expect(result.code).toBe(0);
    // One JSON document per line: the progress ticks, then the summary.
    const lines = result.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.some((l) => 'completedPerSecond' in l)).toBe(true);
    expect(lines.at(-1)).toMatchObject({
      queue: name,
      completed: 2,
      failed: 1,
    });

    const bad = join(dir, 'nothing.mjs');
    writeFileSync(bad, 'export const x = 1;');
    const refused = await cli(connection, ['run', bad, '--queue', name]);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('exports no processor');
  });
});

describe('docket dashboard command', () => {
  it('serves the dashboard until interrupted', async () => {
    const connection = stores[0].connection();
    const live = cliLive(connection, ['--json', '--create', 'dashboard', '--port', '0', '--queues', 'alpha']);
    const { url } = JSON.parse(
      await until(() => (live.output().trim().endsWith('}') ? live.output() : ''), 10_000, 'dashboard url'),
    );
    const res = await fetch(`${url}api/queues`);
    expect((await res.json()).queues.map((q: { name: string }) => q.name)).toEqual(['alpha']);
    expect((await live.stop()).code).toBe(0);
    await expect(fetch(`${url}api/queues`)).rejects.toThrow();
  });

  it('asks for basic auth when given --basic-auth', async () => {
    const connection = stores[0].connection();
    const live = cliLive(connection, ['--json', '--create', 'dashboard', '--port', '0', '--basic-auth', 'ops:pw']);
    const { url } = JSON.parse(
      await until(() => (live.output().trim().endsWith('}') ? live.output() : ''), 10_000, 'dashboard url'),
    );
    expect((await fetch(`${url}api/queues`)).status).toBe(401);
    expect((await live.stop()).code).toBe(0);
    expect((await cli(connection, ['dashboard', '--basic-auth', 'nocolon'])).code).toBe(2);
  });
});
