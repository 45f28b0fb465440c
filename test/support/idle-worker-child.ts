// An idle Worker in its own process, measuring what idling costs it (test/worker-idle-cost.test.ts).
// argv = connection, queue name, concurrency, window ms. Run with --expose-gc. Sends over IPC
// 'ready', 'window' when the measured window starts, then { cpuMs, heapAfterGcMb, peakRssMb,
// peakHeapMb } for the window, and exits.
import { Worker } from '../../src/index.js';

const [connection, name, concurrency, windowMs] = process.argv.slice(2);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');
const mb = (n: number) => Math.round((n / 2 ** 20) * 10) / 10;

const worker = new Worker(name, async () => undefined, {
  connection,
  concurrency: Number(concurrency),
  // Short waits: several idle fetches fall in the window (the default waits 5 s between them).
  drainDelay: 1,
});
worker.on('error', (err) => console.error(err));

async function measure() {
  await new Promise<void>((resolve) => worker.once('drained', () => resolve()));
  // Let start-up settle (first fetches, JIT), then measure from a collected heap.
  await new Promise((r) => setTimeout(r, 1500));
  gc!();
  let peakRss = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  }, 20);
  process.send?.('window');
  const cpu = process.cpuUsage();
  await new Promise((r) => setTimeout(r, Number(windowMs)));
  const used = process.cpuUsage(cpu);
  clearInterval(sampler);
  gc!();
  const result = {
    cpuMs: Math.round((used.user + used.system) / 1000),
    heapAfterGcMb: mb(process.memoryUsage().heapUsed),
    peakRssMb: mb(peakRss),
    peakHeapMb: mb(peakHeap),
  };
  await worker.close();
  process.send?.(result);
  process.exit(0);
}

process.send?.('ready');
measure().catch((err) => {
  console.error(err);
  process.exit(1);
});
