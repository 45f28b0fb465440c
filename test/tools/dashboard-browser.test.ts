import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard } from '../../src/dashboard/server.js';
import type { Job } from '../../src/index.js';
import { clickWhenSettled, hasChromium, launchChromium } from '../support/chromium.js';
import { useQueues } from '../support/fixture.js';
import { isolated, stores } from '../support/stores.js';

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

  describe.each(stores)('on $kind', (store) => {
    // The page lists every queue of the store: a Redis database of its own keeps out the thousands
    // that the run's other files make (in a full run on db 0 the page re-rendered too slowly to click).
    const { setup } = useQueues(isolated(store, 5));

    it('shows counts change as jobs run, then retries a failed job and watches it complete', async () => {
      const { queue, worker, connection, name } = setup();
      await queue.addBulk([
        { name: 'ok', data: { n: 1 } },
        { name: 'ok', data: { n: 2 } },
        { name: 'flaky', data: { flaky: true } },
      ]);
      const server = await startDashboard({ connection, queues: [name], port: 0 });
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      try {
        await page.goto(server.url);
        const count = (state: string) => page.getByTestId(`count-${name}-${state}`);
        await expect.poll(() => count('waiting').textContent(), { timeout: 30_000 }).toBe('3');

        let healthy = false;
        worker(async (job: Job) => {
          await job.log(`attempt ${job.attemptsMade + 1}`);
          await job.step('fetched', () => `page ${job.data.n ?? 0}`);
          if (job.data.flaky && !healthy) throw new Error('upstream unavailable');
          return 'ok';
        });
        await expect.poll(() => count('completed').textContent(), { timeout: 30_000 }).toBe('2');
        await expect.poll(() => count('failed').textContent(), { timeout: 30_000 }).toBe('1');
        expect(await count('waiting').textContent()).toBe('0');

        await clickWhenSettled(count('failed'));
        const row = page.locator('[data-testid="jobs"] tbody tr');
        await expect.poll(() => row.count(), { timeout: 30_000 }).toBe(1);
        expect(await row.first().textContent()).toContain('upstream unavailable');
        await clickWhenSettled(row.first().locator('a'));
        await expect.poll(() => page.getByTestId('job-state').textContent(), { timeout: 30_000 }).toBe('failed');
        expect(await page.getByTestId('job-stack').first().textContent()).toContain('upstream unavailable');
        expect(await page.getByTestId('job-logs').textContent()).toContain('attempt 1');
        expect(await page.getByTestId('job-steps').textContent()).toContain('"page 0"');

        healthy = true;
        await clickWhenSettled(page.getByTestId('job-retry'));
        await expect.poll(() => page.getByTestId('job-state').textContent(), { timeout: 30_000 }).toBe('completed');
        await expect.poll(() => count('completed').textContent(), { timeout: 30_000 }).toBe('3');
        expect(await count('failed').textContent()).toBe('0');
        expect(await page.getByTestId('status').textContent()).toBe('');
      } finally {
        await page.close();
        await server.close();
      }
    }, 120_000);
  });
});
