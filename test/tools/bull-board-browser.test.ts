import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { createBullBoard } from '@bull-board/api';
import type { IServerAdapter } from '@bull-board/api/dist/types.js';
import { ExpressAdapter } from '@bull-board/express';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlowProducer, type Job, Queue } from '../../src/index.js';
import { bullBoardAdapterOnDocket } from '../support/bullmq-alias.js';
import { clickWhenSettled, hasChromium, launchChromium } from '../support/chromium.js';
import { useQueues } from '../support/fixture.js';
import { queueName, stores, until } from '../support/stores.js';

// express ships no types; two calls do not need @types/express.
const express = createRequire(import.meta.url)('express') as () => {
  use(path: string, handler: unknown): void;
  listen(port: number, host: string): Server;
};

const BASE = '/admin/queues';
const BULLMQ_6_STATUSES = ['active', 'completed', 'delayed', 'failed', 'prioritized', 'waiting', 'waiting-children'];

/** bull-board's UI and API for `queues`, served by its Express adapter as its README sets it up. */
async function serveBoard(queues: Queue[]): Promise<{ url: string; close(): Promise<void> }> {
  const { BullMQAdapter } = bullBoardAdapterOnDocket();
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(BASE);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q)),
    // @bull-board/express 9.10.1 pins its own @bull-board/api: the same interface, typed twice.
    serverAdapter: serverAdapter as unknown as IServerAdapter,
    // Refresh every second (default 5 s) so the page follows the queue without long waits.
    options: { uiConfig: { pollingInterval: { forceInterval: 1 } } },
  });
  const app = express();
  app.use(BASE, serverAdapter.getRouter());
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${BASE}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe.runIf(hasChromium)("bull-board's official adapter on Docket in headless Chromium", () => {
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let context: BrowserContext;

  beforeAll(async () => {
    browser = await launchChromium();
    context = browser.context;
    // The page asks Google for its fonts: keep the test off the network.
    await context.route(/^(?!http:\/\/127\.0\.0\.1[:/])/, (route) => route.abort());
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
  });

  describe.each(stores)('on $kind', (store) => {
    const { setup, track } = useQueues(store);

    it('lists the queues with BullMQ tabs, shows a failed job, retries it and draws a flow', async () => {
      const { queue, worker, connection, name } = setup();
      const kids = queueName('kids');
      const kidsQueue = track(new Queue(kids, { connection }));
      const flows = track(new FlowProducer({ connection }));
      // The children's queue has no worker: the parent stays waiting for them.
      const tree = await flows.add({
        name: 'parent',
        queueName: name,
        children: [
          { name: 'one', queueName: kids },
          { name: 'two', queueName: kids },
        ],
      });
      let healthy = false;
      worker(async (job: Job) => {
        if (job.data.flaky && !healthy) throw new Error('upstream unavailable');
        return 'ok';
      });
      const flaky = await queue.add('flaky', { flaky: true });
      await until(async () => (await queue.getJobState(flaky.id!)) === 'failed', 15_000, 'the flaky job to fail');

      const board = await serveBoard([queue, kidsQueue]);
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      const poll = { timeout: 30_000 };
      try {
        await page.goto(board.url, { waitUntil: 'domcontentloaded' });
        for (const q of [name, kids]) {
          await expect.poll(() => page.locator(`a[href="${BASE}/queue/${q}"]`).count(), poll).toBeGreaterThan(0);
        }

        await page.goto(`${board.url}/queue/${name}?status=failed`, { waitUntil: 'domcontentloaded' });
        const tabs = page.locator(`a[href^="${BASE}/queue/${name}?status="]`);
        // One link per status tab (the open tab's link shows twice): BullMQ 6's, no "paused".
        const statuses = () =>
          tabs.evaluateAll((links) => [
            ...new Set(links.map((a) => new URL((a as HTMLAnchorElement).href).searchParams.get('status'))),
          ]);
        await expect.poll(async () => (await statuses()).sort(), poll).toEqual(BULLMQ_6_STATUSES);
        const card = page.locator(`a[href^="${BASE}/queue/${name}/${flaky.id}"]`);
        await expect.poll(() => card.count(), poll).toBe(1);
        await expect.poll(() => page.getByText('upstream unavailable').count(), poll).toBeGreaterThan(0);

        healthy = true;
        // The card's retry button (an icon), then the board's "Are you sure?".
        await clickWhenSettled(
          page.locator('[data-base-ui-tooltip-trigger] button:has(svg.lucide-refresh-cw)').first(),
        );
        await clickWhenSettled(page.getByRole('button', { name: 'Confirm' }));
        await until(async () => (await queue.getJobState(flaky.id!)) === 'completed', 15_000, 'the retried job');
        await expect.poll(() => card.count(), poll).toBe(0);

        await page.goto(`${board.url}/queue/${name}/${tree.job.id}`, { waitUntil: 'domcontentloaded' });
        const node = (label: string) => page.getByRole('group', { name: new RegExp(`^${label}, `) });
        await expect.poll(() => node('parent').getAttribute('aria-label'), poll).toMatch(/^parent, waiting.children, /);
        for (const child of tree.children!) {
          await expect
            .poll(() => node(child.job.name).getAttribute('aria-label'), poll)
            .toBe(`${child.job.name}, waiting, queue ${kids}, id ${child.job.id}`);
        }
      } finally {
        await page.close();
        await board.close();
      }
    }, 120_000);
  });
});
