/**
 * CPU time a store's server spends during a timed section, for the "server CPU µs/job" rows:
 * redis-server's own count (`INFO cpu`), PostgreSQL's as the sum over this machine's `postgres`
 * processes in /proc (the bench's database server runs here; its other work is idle). Off for
 * in-process stores (SQLite) and the cluster rows (six servers).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';

type Meter = () => Promise<number>;
let meter: Meter | undefined;

/** Milliseconds of CPU the server has used so far, or undefined when no server is metered. */
export async function serverCpuNow(): Promise<number | undefined> {
  return meter?.();
}

export function meterRedis(url: string): void {
  const admin = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  meter = async () => {
    if (admin.status === 'wait') await admin.connect();
    const text = await admin.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(text)?.[1] ?? Number.NaN);
    return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
  };
}

/** /proc's clock ticks per second (USER_HZ): 100 on Linux for every architecture Node runs on. */
const TICKS_PER_SECOND = 100;

export function meterPostgres(): void {
  meter = async () => {
    let ticks = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      // "pid (comm) state ppid …": utime and stime are fields 14 and 15, counted after the comm's ")".
      const close = stat.lastIndexOf(')');
      if (stat.slice(stat.indexOf('(') + 1, close) !== 'postgres') continue;
      const rest = stat.slice(close + 2).split(' ');
      ticks += Number(rest[11]) + Number(rest[12]);
    }
    return (ticks * 1000) / TICKS_PER_SECOND;
  };
}
