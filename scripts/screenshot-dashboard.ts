// Renders docs/dashboard/{overview,queue,job}.png: the dashboard over demo queues, in headless Chromium.
// Run: npx tsx scripts/screenshot-dashboard.ts (needs /usr/bin/chromium).

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { startDashboard } from '../src/dashboard/server.js';
import { Queue, Worker } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'docket-shot-'));
const connection = `sqlite:${join(dir, 'shot.db')}`;
const emails = new Queue('emails', { connection });
const reports = new Queue('reports', { connection });
await emails.addBulk(
  Array.from({ length: 60 }, (_, i) => ({
    name: i % 3 ? 'welcome' : 'digest',
    data: { to: `user${i}@example.com` },
    opts: i % 4 === 0 ? { group: { id: `tenant-${i % 3}` } } : { attempts: 2 },
  })),
);
await emails.upsertJobScheduler('nightly-digest', { pattern: '0 3 * * *', tz: 'Europe/Paris' }, { name: 'digest' });
await reports.addBulk(
  Array.from({ length: 12 }, (_, i) => ({ name: 'monthly', data: { n: i }, opts: { delay: (i + 3) * 60_000 } })),
);
let release!: () => void;
const held = new Promise<void>((resolve) => {
  release = resolve;
});
const worker = new Worker(
  'emails',
  async (job) => {
    await job.log(`sending to ${job.data.to}`);
    await job.step('render', () => ({ template: job.name, bytes: 1832 }));
    if (job.data.to === 'slow@example.com') await held;
    if (Number(job.id) % 7 === 0) throw new Error(`mailbox unavailable: ${job.data.to}`);
    return { sent: true };
  },
  { connection, concurrency: 4, name: 'mailer-1' },
);
while ((await emails.getJobCountByTypes('waiting', 'active')) > 0) await new Promise((r) => setTimeout(r, 50));
await emails.add('welcome', { to: 'slow@example.com' });
await emails.add('welcome', { to: 'late@example.com' }, { delay: 180_000 });
// The worker's heartbeat (every 10 s) lists the running job.
await new Promise((r) => setTimeout(r, 11_000));

const server = await startDashboard({ connection, port: 0 });
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});
mkdirSync('docs/dashboard', { recursive: true });
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const shot = async (path: string, file: string) => {
  await page.goto(server.url + path);
  await page.waitForTimeout(1500);
  await page.screenshot({ path: `docs/dashboard/${file}`, fullPage: true });
  console.log(`wrote docs/dashboard/${file}`);
};
await shot('', 'overview.png');
await shot('queues/emails?state=failed', 'queue.png');
const failed = (await emails.getFailed(0, 0))[0];
await shot(`queues/emails/jobs/${failed.id}`, 'job.png');
await browser.close();
release();
await server.close();
await worker.close();
await Promise.all([emails.close(), reports.close()]);
rmSync(dir, { recursive: true, force: true });
