/** Small numeric helpers shared by the scenarios and the report. */
import { probeAfter, probeBefore } from './probe.js';
import { serverCpuNow } from './server-cpu.js';

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Linear-interpolated percentile (p in 0..100) of `values`; NaN when empty. */
export function percentile(values: number[], p: number): number {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return Number.NaN;
  const at = (p / 100) * (xs.length - 1);
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return xs[lo] + (xs[hi] - xs[lo]) * (at - lo);
}

/**
 * Runs `fn` and measures wall time, this process's CPU time (user + system) and, when one is metered
 * (server-cpu.ts), the store server's CPU time, all in ms. The
 * probe (off unless `bench/profile.ts` turned it on) instruments exactly this section.
 */
export async function timed<T>(
  fn: () => Promise<T>,
): Promise<{ ms: number; cpuMs: number; serverCpuMs?: number; value: T }> {
  await probeBefore();
  const server0 = await serverCpuNow();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const server1 = await serverCpuNow();
  await probeAfter();
  const serverCpuMs = server0 === undefined || server1 === undefined ? undefined : server1 - server0;
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, ...(serverCpuMs === undefined ? {} : { serverCpuMs }), value };
}

/** A promise that resolves once `count()` has been called `n` times. */
export function countdown(n: number): { count(): void; done: Promise<void> } {
  let left = n;
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  if (n <= 0) resolve();
  return {
    count() {
      if (--left === 0) resolve();
    },
    done,
  };
}

/** Rounds for display: 3 significant digits, thousands separated. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  if (abs >= 100) return Math.round(value).toLocaleString('en-US');
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}
