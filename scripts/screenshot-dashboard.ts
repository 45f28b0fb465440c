// Renders docs/dashboard.png: a dashboard over a demo queue, in headless Chromium.

import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { createDashboard } from '../src/dashboard/dashboard.js';
import { Queue, Worker } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'docket-shot-'));
const connection = `sqlite:${join(dir, 'shot.db')}`;
const emails = new Queue('emails', { connection });
const reports = new Queue('reports', { connection });
await emails.addBulk(Array.from({ length: 40 }, (_, i) => ({ name: 'welcome', data: { to: `user${i}@example.com` } })));
await reports.addBulk(
  Array.from({ length: 12 }, (_, i) => ({ name: 'monthly', data: { n: i }, opts: { delay: i * 60_000 } })),
);
const worker = new Worker(
  'emails',
  async (job) => {
    if (Number(job.id) % 7 === 0) throw new Error('mailbox unavailable');
    return 'sent';
  },
  { connection, concurrency: 4 },
);
while ((await emails.getJobCountByTypes('waiting', 'active')) > 0) await new Promise((r) => setTimeout(r, 50));
await emails.add('welcome', { to: 'late@example.com' });

const dashboard = createDashboard({ connection });
const server = createServer(dashboard).listen(0);
const port = (server.address() as { port: number }).port;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ],
});
const page = await browser.newPage({ viewport: { width: 1200, height: 720 } });
await page.goto(`http://127.0.0.1:${port}/`);
await page.waitForTimeout(1000);
await page.click('text=emails');
await page.waitForTimeout(1000);
await page.screenshot({ path: 'docs/dashboard.png' });
await browser.close();
server.close();
await dashboard.close();
await worker.close();
await Promise.all([emails.close(), reports.close()]);
console.log('wrote docs/dashboard.png');
