import { fork } from 'node:child_process';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from './support/redis-server.js';
import { queueName, stores } from './support/stores.js';

/**
 * An idle worker's cost does not grow with its concurrency (guarantees.md "Idle cost"): a Worker at
 * concurrency 1e6 on an empty queue costs what one at concurrency 10 does, in its own process
 * (CPU time and memory over an idle window, measured by test/support/idle-worker-child.ts) and,
 * on Redis, in the server's CPU. Each fetch used to carry one lock token per free slot: at 1e6 that
 * was ~1 s of worker CPU, ~1.5 s of Redis CPU and +300–500 MB of RSS per 4 s idle window.
 *
 * Margins: within 10 % of concurrency 10, plus an absolute allowance for the noise of two separate
 * processes (JIT, GC timing); CPU time is per process, so a loaded machine slows the window down
 * without inflating it much.
 */
const WINDOW_MS = 4000;

interface IdleCost {
  cpuMs: number;
  heapAfterGcMb: number;
  peakRssMb: number;
  peakHeapMb: number;
  serverCpuMs?: number;
}

describe.each(stores)('idle cost on $kind', (store) => {
  // Redis: a server of its own, so that its CPU counts this worker's calls only.
  const server = new RedisServer();
  beforeAll(async () => {
    if (store.kind === 'redis') await server.start();
  });
  afterAll(() => server.destroy());

  async function serverCpuMs(admin: Redis | undefined): Promise<number> {
    if (!admin) return 0;
    const info = await admin.info('cpu');
    const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
    return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
  }

  /** Runs an idle worker at `concurrency` in a child process and returns what its window cost. */
  async function idleCost(concurrency: number): Promise<IdleCost> {
    const connection = store.kind === 'redis' ? server.url : store.connection();
    const admin = store.kind === 'redis' ? new Redis(server.url) : undefined;
    const proc = fork(
      new URL('./support/idle-worker-child.ts', import.meta.url),
      [connection, queueName('idle'), String(concurrency), String(WINDOW_MS)],
      { execArgv: ['--import', 'tsx', '--expose-gc'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] },
    );
    const stderr: string[] = [];
    proc.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    try {
      let serverAtStart = 0;
      const result = await new Promise<IdleCost>((resolve, reject) => {
        proc.on('message', (msg) => {
          if (msg === 'window') void serverCpuMs(admin).then((ms) => (serverAtStart = ms));
          else if (typeof msg === 'object') resolve(msg as IdleCost);
        });
        proc.once('exit', (code) => reject(new Error(`idle worker exited with ${code}:\n${stderr.join('')}`)));
      });
      if (admin) result.serverCpuMs = Math.round((await serverCpuMs(admin)) - serverAtStart);
      return result;
    } finally {
      proc.kill('SIGKILL');
      await admin?.quit();
    }
  }

  it('costs the same at concurrency 1e6 as at 10', { timeout: 90_000 }, async () => {
    const low = await idleCost(10);
    const high = await idleCost(1_000_000);
    const within = (a: number, b: number, allowance: number) => a <= b * 1.1 + allowance;
    const report = `concurrency 10: ${JSON.stringify(low)}; 1e6: ${JSON.stringify(high)}`;
    expect(within(high.cpuMs, low.cpuMs, 100), report).toBe(true);
    expect(within(high.peakRssMb, low.peakRssMb, 10), report).toBe(true);
    expect(within(high.peakHeapMb, low.peakHeapMb, 8), report).toBe(true);
    expect(within(high.heapAfterGcMb, low.heapAfterGcMb, 4), report).toBe(true);
    if (store.kind === 'redis') expect(within(high.serverCpuMs!, low.serverCpuMs!, 100), report).toBe(true);
  });
});
