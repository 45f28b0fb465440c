/**
 * Where the time goes: runs scenarios per system with the probe on (bench/probe.ts), twice — once
 * counting (commands sent, time per SQL statement) and once with a CPU profile of the timed section —
 * and prints per-job costs: node CPU, Redis server CPU, Redis commandstats, client commands, SQL
 * statements and transactions, and the CPU profile summary.
 *
 *   npx tsx bench/profile.ts [--only process-c50,process-c1] [--systems docket-redis,docket-sqlite]
 *                            [--jobs 20000] [--out /tmp/docket-profile] [--top 20] [--from dist|src]
 *
 * Docket is profiled from `dist/` (run `npm run build` first), as `npm run bench` measures it; `--from src`
 * profiles the TypeScript through tsx, whose keepNames adds a `__name` call per closure made.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { RedisServer } from '../test/support/redis-server.js';
import { runChild } from './child-runner.js';
import { renderSummary, summarise } from './cpuprofile.js';
import { dropDatabase, freshDatabase } from './postgres-db.js';
import { scenarioByName } from './scenarios/index.js';
import { fmt } from './stats.js';
import type { ChildResult, ChildTask, SystemName } from './types.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    only: { type: 'string', default: 'process-c50,process-c1' },
    systems: { type: 'string', default: 'docket-redis,docket-sqlite' },
    jobs: { type: 'string', default: '20000' },
    out: { type: 'string', default: join(tmpdir(), 'docket-profile') },
    top: { type: 'string', default: '20' },
    from: { type: 'string', default: 'dist' },
  },
});

function redisLines(r: ChildResult, jobs: number): string[] {
  const p = r.profile ?? {};
  const lines: string[] = [];
  if (p.redisCpuMs !== undefined) lines.push(`- redis-server CPU ${fmt((p.redisCpuMs * 1000) / jobs)} µs/job`);
  if (!p.commands) return lines;
  const cmds = Object.entries(p.commands)
    .filter(([name]) => name !== 'config' && name !== 'info')
    .sort((a, b) => b[1].usec - a[1].usec);
  lines.push('- Redis commandstats (script-internal calls included; µs measured by Redis):');
  for (const [name, c] of cmds.slice(0, 14)) {
    const perJob = (c.calls / jobs).toFixed(2).padStart(7);
    lines.push(
      `    ${name.padEnd(22)} ${perJob} calls/job  ${(c.usec / jobs).toFixed(1).padStart(7)} µs/job  ${(c.usec / Math.max(1, c.calls)).toFixed(1).padStart(6)} µs/call`,
    );
  }
  return lines;
}

function countLines(r: ChildResult, jobs: number): string[] {
  const p = r.profile ?? {};
  const lines: string[] = [];
  if (p.clientCommands) lines.push(`- commands sent by the client: ${(p.clientCommands / jobs).toFixed(2)} per job`);
  if (p.sqliteStatements) {
    const tx = ((p.sqliteTransactions ?? 0) / jobs).toFixed(2);
    lines.push(`- SQLite: ${(p.sqliteStatements / jobs).toFixed(2)} statements, ${tx} transactions per job`);
    const sql = Object.entries(p.sql ?? {}).sort((a, b) => b[1].us - a[1].us);
    lines.push('- SQL statements by time (wall µs inside better-sqlite3, counting run):');
    for (const [text, s] of sql.slice(0, 14)) {
      lines.push(
        `    ${(s.calls / jobs).toFixed(2).padStart(6)}/job ${(s.us / jobs).toFixed(1).padStart(7)} µs/job ${(s.us / s.calls).toFixed(1).padStart(6)} µs/call  ${text.slice(0, 150)}`,
      );
    }
  }
  return lines;
}

async function main(): Promise<void> {
  const jobs = Number(values.jobs);
  const top = Number(values.top);
  mkdirSync(values.out, { recursive: true });
  const server = new RedisServer();
  await server.start();
  const admin = new Redis(server.url);
  const run = async (scenario: string, system: SystemName, mode: 'count' | 'cpu') => {
    await admin.flushall();
    const sqliteDir = join(values.out, `${scenario}-${system}-${mode}`);
    rmSync(sqliteDir, { recursive: true, force: true });
    mkdirSync(sqliteDir, { recursive: true });
    const task: ChildTask = {
      scenario,
      system,
      quick: false,
      redisUrl: server.url,
      sqliteDir,
      scaleSize: 0,
      profileDir: values.out,
      profileMode: mode,
      jobs,
      docketFrom: values.from === 'src' ? 'src' : 'dist',
      ...(system.endsWith('-postgres') || system === 'docket-postgres-async' ? { pgUrl: await freshDatabase() } : {}),
    };
    return runChild(task, scenarioByName(scenario).timeoutMs);
  };
  try {
    for (const name of values.only.split(',').map((s) => s.trim())) {
      for (const system of values.systems.split(',') as SystemName[]) {
        console.log(`## ${name} · ${system}\n`);
        try {
          const counted = await run(name, system, 'count');
          const profiled = await run(name, system, 'cpu');
          const scenario = scenarioByName(name);
          const shown = (r: ChildResult) =>
            scenario.metrics.map((x) => `${fmt(r.metrics[x.key])} ${x.label}`).join(', ');
          console.log(
            [
              `- profiled run: ${shown(profiled)} · peak RSS ${fmt(profiled.peakRssMb)} MB; counting run: ${shown(counted)}`,
              ...redisLines(profiled, jobs),
              ...countLines(counted, jobs),
              `- CPU profile: ${profiled.profile?.cpuProfile}`,
              '',
              '```',
              renderSummary(summarise(profiled.profile!.cpuProfile!, top), jobs),
              '```',
              '',
            ].join('\n'),
          );
        } catch (err) {
          console.log(`FAILED ${(err as Error).message}\n`);
        }
      }
    }
  } finally {
    admin.disconnect();
    await server.destroy();
    await dropDatabase();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
