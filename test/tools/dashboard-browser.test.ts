import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard } from '../../src/dashboard/server.js';
import type { Job } from '../../src/index.js';
import { clickWhenSettled, hasChromium, launchChromium } from '../support/chromium.js';
import { useQueues } from '../support/fixture.js';
import { isolated, stores, until } from '../support/stores.js';

describe.runIf(hasChromium)('dashboard in headless Chromium', () => {
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let context: BrowserContext;

  beforeAll(async () => {
    browser = await launchChromium();
    context = browser.context;
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  /** A page that accepts the confirm() of remove and cancel. */
  async function open(url: string): Promise<Page> {
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(url);
    return page;
  }
  const poll = { timeout: 30_000 };

  describe.each(stores)('on $kind', (store) => {
    // The overview lists every queue of the store: a Redis database of its own keeps out the
    // thousands that the run's other files make.
    const { setup } = useQueues(isolated(store, 5));

    it('overview → failed jobs → search → job page (own URL) → retry that completes it', async () => {
      const { queue, worker, connection, name } = setup();
      await queue.addBulk([
        { name: 'ok', data: { n: 1 } },
        { name: 'ok', data: { n: 2 } },
        { name: 'flaky', data: { flaky: true, customer: 'acme-42' } },
      ]);
      const server = await startDashboard({ connection, queues: [name], port: 0 });
      const page = await open(server.url);
      try {
        expect(await page.getByTestId('store').textContent()).toMatch(/^(SQLite|Redis|PostgreSQL) /);
        const count = (state: string) => page.getByTestId(`count-${name}-${state}`);
        await expect.poll(() => count('waiting').textContent(), poll).toBe('3');

        let healthy = false;
        worker(async (job: Job) => {
          await job.log(`attempt ${job.attemptsMade + 1}`);
          await job.step('fetched', () => `page ${job.data.n ?? 0}`);
          if (job.data.flaky && !healthy) throw new Error('upstream unavailable');
          return 'ok';
        });
        await expect.poll(() => count('completed').textContent(), poll).toBe('2');
        await expect.poll(() => count('failed').textContent(), poll).toBe('1');
        // Failures stand out, and the chart has bars for this minute.
        expect(await count('failed').getAttribute('class')).toContain('hot');
        await expect
          .poll(() => page.locator(`[data-testid="throughput-${name}"] rect`).count(), poll)
          .toBeGreaterThan(0);

        await clickWhenSettled(count('failed'));
        await page.waitForURL(/\/queues\/[^/]+\?state=failed$/);
        const rows = page.locator('[data-testid="jobs"] tbody tr');
        await expect.poll(() => rows.count(), poll).toBe(1);
        expect(await rows.first().textContent()).toContain('upstream unavailable');

        await page.getByTestId('search').fill('ACME-42');
        await clickWhenSettled(page.getByTestId('search-go'));
        await page.waitForURL(/search=ACME-42/);
        await expect
          .poll(() => page.getByTestId('search-note').textContent(), poll)
          .toContain('Looked at the newest 1 of 1 failed jobs');
        await page.getByTestId('search').fill('no such text');
        await clickWhenSettled(page.getByTestId('search-go'));
        await expect.poll(() => page.getByTestId('search-note').textContent(), poll).toContain('0 match');
        // A time range alone: the last hour holds the failure; a range starting tomorrow holds nothing.
        await page.getByTestId('search').fill('');
        await page.getByTestId('range').selectOption('1h');
        await clickWhenSettled(page.getByTestId('search-go'));
        await page.waitForURL(/range=1h/);
        await expect.poll(() => page.getByTestId('search-note').textContent(), poll).toContain(': 1 match');
        await page.getByTestId('range').selectOption('custom');
        const tomorrow = new Date(Date.now() + 86_400_000 - new Date().getTimezoneOffset() * 60_000);
        await page.locator('input[name="from"]').fill(tomorrow.toISOString().slice(0, 16));
        await clickWhenSettled(page.getByTestId('search-go'));
        await page.waitForURL(/range=custom/);
        await expect.poll(() => page.getByTestId('search-note').textContent(), poll).toContain(': 0 match');

        const failed = (await queue.getFailed())[0];
        // The job's own URL, as a deep link opened fresh.
        await page.goto(`${server.url}queues/${name}/jobs/${failed.id}`);
        await expect.poll(() => page.getByTestId('job-state').textContent(), poll).toBe('failed');
        expect(await page.getByTestId('job-stack').first().textContent()).toContain('upstream unavailable');
        expect(await page.getByTestId('job-logs').textContent()).toContain('attempt 1');
        expect(await page.getByTestId('job-steps').textContent()).toContain('"page 0"');
        expect(await page.getByTestId('job-data').textContent()).toContain('acme-42');
        expect(await page.getByTestId('job-promote').count()).toBe(0);

        healthy = true;
        await clickWhenSettled(page.getByTestId('job-retry'));
        await expect.poll(() => page.getByTestId('job-state').textContent(), poll).toBe('completed');
        // The page reads the job and its state in two calls: a refresh between the completion's write and
        // the state read can show 'completed' with the value still unread; the next refresh shows it.
        await expect.poll(() => page.getByTestId('job-returnvalue').textContent(), poll).toContain('ok');
        expect(await queue.getJobState(failed.id!)).toBe('completed');
        expect(await page.getByTestId('status').textContent()).toBe('');
      } finally {
        await page.close();
        await server.close();
      }
    }, 120_000);

    it('adds a job from the form (naming bad JSON), promotes it with a bulk action, and hides actions when read-only', async () => {
      const { queue, connection, name } = setup();
      const server = await startDashboard({ connection, queues: [name], port: 0 });
      const page = await open(`${server.url}queues/${name}?state=delayed`);
      try {
        await page.getByTestId('add-name').fill('report');
        await page.getByTestId('add-data').fill('{"month": 11,}');
        await clickWhenSettled(page.getByTestId('add-submit'));
        await expect
          .poll(() => page.getByTestId('add-message').textContent(), poll)
          .toContain('data is not valid JSON');
        expect(await queue.getJobCountByTypes('waiting', 'delayed')).toBe(0);

        await page.getByTestId('add-data').fill('{"month": 11}');
        await page.getByTestId('add-opts').fill('{"delay": 3600000}');
        await clickWhenSettled(page.getByTestId('add-submit'));
        await expect.poll(() => page.getByTestId('added-job').count(), poll).toBe(1);
        const id = (await page.getByTestId('added-job').textContent())!;
        expect(await queue.getJobState(id)).toBe('delayed');

        const row = page.locator(`[data-testid="jobs"] tr[data-job="${id}"]`);
        await expect.poll(() => row.count(), poll).toBe(1);
        expect(await row.textContent()).toMatch(/in (60|59) m/);
        await clickWhenSettled(page.getByTestId('select-all'));
        await clickWhenSettled(page.getByTestId('bulk-promote'));
        await expect.poll(() => page.getByTestId('bulk-result').textContent(), poll).toBe('promote: 1 done');
        await until(async () => (await queue.getJobState(id)) === 'waiting', 10_000, 'the promoted job');
        await expect.poll(() => page.getByTestId('tab-delayed').textContent(), poll).toBe('delayed (0)');

        const ro = await startDashboard({ connection, queues: [name], port: 0, readOnly: true });
        const view = await open(`${ro.url}queues/${name}?state=waiting`);
        try {
          await expect.poll(() => view.locator('[data-testid="jobs"] tbody tr').count(), poll).toBe(1);
          expect(await view.getByTestId('read-only').count()).toBe(1);
          expect(await view.getByTestId('add-form').count()).toBe(0);
          expect(
            await view
              .locator('[data-testid^="bulk-"], [data-testid^="select-"], [data-testid="pause-resume"]')
              .count(),
          ).toBe(0);
          await view.goto(`${ro.url}queues/${name}/jobs/${id}`);
          await expect.poll(() => view.getByTestId('job-state').textContent(), poll).toBe('waiting');
          expect(await view.locator('[data-testid="job-remove"], [data-testid="job-cancel"]').count()).toBe(0);
        } finally {
          await view.close();
          await ro.close();
        }
      } finally {
        await page.close();
        await server.close();
      }
    }, 120_000);
  });
});
