import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard } from '../../src/dashboard/server.js';
import type { Job } from '../../src/index.js';
import { useQueues } from '../support/fixture.js';
import { stores } from '../support/stores.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

// Skipped by name when the machine has no Chromium (CI installs it: see the workflow).
describe.runIf(existsSync(CHROMIUM))('dashboard in headless Chromium', () => {
  let context: BrowserContext;
  let profile: string;

  beforeAll(async () => {
    profile = mkdtempSync(join(tmpdir(), 'docket-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
  });

  describe.each(stores)('on $kind', (store) => {
    const { setup } = useQueues(store);

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

/** The page re-renders on every refresh: retry a click whose element was replaced under it. */
async function clickWhenSettled(locator: { click(opts: { timeout: number }): Promise<void> }): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await locator.click({ timeout: 2000 });
      return;
    } catch (err) {
      if (attempt >= 15) throw err;
    }
  }
}
