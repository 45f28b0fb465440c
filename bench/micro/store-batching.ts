/**
 * What batching completions would buy: drives a Docket Store directly (no Worker, no Job objects)
 * through the loop a worker at concurrency K runs, but with all K completions of a round in one
 * `complete(items, now, fetch K)` call — the Store contract already takes item lists. K = 1 is
 * one complete + fetch-next per job. `lanes` runs that many such loops at once (K jobs each), so
 * that one batch is executed by Redis while the process prepares the next. Uses Docket internals
 * (the Store seam).
 *
 *   npx tsx bench/micro/store-batching.ts [jobs] [K,K,...] [lanes,lanes,...]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { connect } from '../../src/store/connect.js';
import type { JobRecord, NewJob, Store } from '../../src/store/store.js';
import { RedisServer } from '../../test/support/redis-server.js';

let tokenSeq = 0;
const tokens = (n: number) => Array.from({ length: n }, () => `bench:${++tokenSeq}`);

async function measure(store: Store, queue: string, jobs: number, k: number, lanes: number, admin?: Redis) {
  await store.ready(queue);
  const now = Date.now();
  for (let first = 0; first < jobs; first += 1000) {
    const batch: NewJob[] = Array.from({ length: Math.min(1000, jobs - first) }, (_, i) => ({
      name: 'job',
      data: JSON.stringify({ i: first + i }),
      opts: '{}',
      timestamp: now,
      delay: 0,
      priority: 0,
      lifo: false,
    }));
    await store.addJobs(queue, batch);
  }
  const req = (n: number) => ({ tokens: tokens(n), lockDuration: 30_000, now: Date.now() });
  const redis0 = admin ? await redisCpuMs(admin) : 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let done = 0;
  const lane = async () => {
    let inHand: JobRecord[] = (await store.fetchNext(queue, req(k))).jobs;
    while (inHand.length > 0) {
      const items = inHand.map((j) => ({ id: j.id, token: j.token!, returnvalue: 'null', retention: {} }));
      const res = await store.complete(queue, items, Date.now(), req(k));
      done += items.length;
      inHand = res.next?.jobs ?? [];
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const redisUs = admin ? (((await redisCpuMs(admin)) - redis0) * 1000) / done : undefined;
  return { done, rate: (done / ms) * 1000, cpuUs: (cpu.user + cpu.system) / done, redisUs };
}

async function redisCpuMs(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const get = (f: string) => Number(new RegExp(`${f}:([\\d.]+)`).exec(info)?.[1]);
  return (get('used_cpu_user') + get('used_cpu_sys')) * 1000;
}

async function main(): Promise<void> {
  const jobs = Number(process.argv[2] ?? 20_000);
  const ks = (process.argv[3] ?? '1,10,50').split(',').map(Number);
  const laneCounts = (process.argv[4] ?? '1').split(',').map(Number);
  const server = new RedisServer();
  await server.start();
  const admin = new Redis(server.url);
  const dir = mkdtempSync(join(tmpdir(), 'docket-batching-'));
  try {
    for (const kind of ['redis', 'sqlite'] as const) {
      for (const [k, lanes] of ks.flatMap((k) => laneCounts.map((l) => [k, l] as const))) {
        await admin.flushall();
        const store = connect({ connection: kind === 'redis' ? server.url : `sqlite:${join(dir, `k${k}.db`)}` });
        const r = await measure(store, `bull:batch${k}`, jobs, k, lanes, kind === 'redis' ? admin : undefined);
        const redisUs = r.redisUs === undefined ? '' : ` · redis-server ${r.redisUs.toFixed(1)} µs/job`;
        const rate = Math.round(r.rate).toLocaleString('en-US').padStart(7);
        console.log(
          `${kind.padEnd(6)} K=${String(k).padEnd(3)} lanes=${lanes} ${rate} jobs/s · node ${r.cpuUs.toFixed(1)} µs/job${redisUs}`,
        );
        await store.close();
      }
    }
  } finally {
    admin.disconnect();
    await server.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
