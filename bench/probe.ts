/**
 * Optional instrumentation of a scenario's timed section (`bench/profile.ts` turns it on): a V8
 * CPU profile of just that section, Redis server CPU and per-command stats, commands sent by the
 * client, and SQLite statements run. Off in normal runs: `timed()` then measures only time.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface ProbeReport {
  /** Redis server CPU (user + sys) during the section, ms. */
  redisCpuMs?: number;
  /** INFO commandstats over the section: command → calls and total µs (script-internal calls included). */
  commands?: Record<string, { calls: number; usec: number }>;
  /** Commands the process sent through ioredis (each blocking wait and each script call is one). */
  clientCommands?: number;
  /** SQLite statement executions (run/get/all/iterate) and transactions. */
  sqliteStatements?: number;
  sqliteTransactions?: number;
  /** Per SQL text: executions and µs spent in them (count mode). */
  sql?: Record<string, { calls: number; us: number }>;
  cpuProfile?: string;
}

interface Probe {
  before(): Promise<void>;
  after(): Promise<void>;
}

let active: Probe | undefined;
export const probeReport: ProbeReport = {};

export async function probeBefore(): Promise<void> {
  await active?.before();
}

export async function probeAfter(): Promise<void> {
  await active?.after();
}

const counters = { client: 0, statements: 0, transactions: 0 };
const sqlStats = new Map<string, { calls: number; us: number }>();

/** Counts commands sent by every ioredis client of the process (Docket and BullMQ use this ioredis). */
function countRedisCommands(): void {
  const proto = Redis.prototype as unknown as { sendCommand: (...args: unknown[]) => unknown };
  const send = proto.sendCommand;
  proto.sendCommand = function (this: unknown, ...args: unknown[]) {
    counters.client++;
    return send.apply(this, args);
  };
}

/** Times statement executions (per SQL text) and counts transactions of every better-sqlite3 handle. */
function countSqlite(): void {
  const require = createRequire(import.meta.url);
  const Database = require('better-sqlite3') as typeof import('better-sqlite3');
  const db = new Database(':memory:');
  const stmtProto = Object.getPrototypeOf(db.prepare('SELECT 1')) as Record<string, (...a: unknown[]) => unknown>;
  for (const m of ['run', 'get', 'all', 'iterate']) {
    const orig = stmtProto[m];
    stmtProto[m] = function (this: { source: string }, ...args: unknown[]) {
      counters.statements++;
      const t0 = performance.now();
      try {
        return orig.apply(this, args);
      } finally {
        const key = this.source.replace(/\s+/g, ' ').trim();
        let stat = sqlStats.get(key);
        if (!stat) sqlStats.set(key, (stat = { calls: 0, us: 0 }));
        stat.calls++;
        stat.us += (performance.now() - t0) * 1000;
      }
    };
  }
  const dbProto = Object.getPrototypeOf(db) as Record<string, (...a: unknown[]) => unknown>;
  const transaction = dbProto.transaction;
  dbProto.transaction = function (this: unknown, ...args: unknown[]) {
    // The variants of better-sqlite3's transaction function are read-only: wrap the whole function.
    const tx = transaction.apply(this, args) as ((...a: unknown[]) => unknown) &
      Record<string, (...a: unknown[]) => unknown>;
    const counted = (...a: unknown[]) => {
      counters.transactions++;
      return tx(...a);
    };
    for (const variant of ['deferred', 'immediate', 'exclusive']) {
      Object.defineProperty(counted, variant, {
        value: (...a: unknown[]) => {
          counters.transactions++;
          return tx[variant](...a);
        },
      });
    }
    return counted;
  };
  db.close();
}

function parseInfo(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0) out.set(line.slice(0, at), line.slice(at + 1));
  }
  return out;
}

async function redisCpu(admin: Redis): Promise<number> {
  const info = parseInfo(await admin.info('cpu'));
  return (Number(info.get('used_cpu_user')) + Number(info.get('used_cpu_sys'))) * 1000;
}

/**
 * Turns the probe on for this process. `count` mode wraps ioredis and better-sqlite3 to count
 * commands and time each SQL statement (too intrusive for a CPU profile); `cpu` mode records a V8
 * CPU profile named `tag` in `dir`. Both read Redis server CPU and commandstats.
 */
export function installProbe(opts: { redisUrl?: string; dir: string; tag: string; mode: 'count' | 'cpu' }): void {
  const counting = opts.mode === 'count';
  if (counting) {
    countRedisCommands();
    countSqlite();
  }
  const admin = opts.redisUrl ? new Redis(opts.redisUrl, { lazyConnect: true }) : undefined;
  const session = new Session();
  let cpu0 = 0;
  let client0 = 0;
  let stmts0 = 0;
  let tx0 = 0;
  active = {
    async before() {
      if (admin) {
        if (admin.status === 'wait') await admin.connect();
        await admin.config('RESETSTAT');
        cpu0 = await redisCpu(admin);
      }
      client0 = counters.client;
      stmts0 = counters.statements;
      tx0 = counters.transactions;
      sqlStats.clear();
      if (counting) return;
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 200 });
      await session.post('Profiler.start');
    },
    async after() {
      if (counting) {
        probeReport.clientCommands = counters.client - client0;
        probeReport.sqliteStatements = counters.statements - stmts0;
        probeReport.sqliteTransactions = counters.transactions - tx0;
        probeReport.sql = Object.fromEntries(sqlStats);
      } else {
        const { profile } = await session.post('Profiler.stop');
        session.disconnect();
        const file = join(opts.dir, `${opts.tag}.cpuprofile`);
        writeFileSync(file, JSON.stringify(profile));
        probeReport.cpuProfile = file;
      }
      if (admin) {
        probeReport.redisCpuMs = (await redisCpu(admin)) - cpu0;
        const stats = parseInfo(await admin.info('commandstats'));
        probeReport.commands = {};
        for (const [key, value] of stats) {
          const calls = Number(/calls=(\d+)/.exec(value)?.[1] ?? 0);
          const usec = Number(/usec=(\d+)/.exec(value)?.[1] ?? 0);
          probeReport.commands[key.replace(/^cmdstat_/, '')] = { calls, usec };
        }
        admin.disconnect();
      }
    },
  };
}
