/**
 * The benchmark orchestrator (`npm run bench -- --help`): runs every scenario × system × round in
 * a fresh child process, systems alternating within each round, and prints (and by default writes to
 * bench/RESULTS.md) a table of medians and Docket ÷ reference ratios.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { RedisCluster } from '../test/support/redis-cluster.js';
import { RedisServer } from '../test/support/redis-server.js';
import { runChild } from './child-runner.js';
import { parseOptions, type RunOptions } from './options.js';
import { dropDatabase, freshDatabase, postgresVersion } from './postgres-db.js';
import { type Measurement, type RunInfo, renderReport } from './report.js';
import type { Scenario } from './scenarios/scenario.js';
import { fmt } from './stats.js';
import type { ChildResult, ChildTask, SystemName } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');

interface Planned {
  scenario: Scenario;
  system: SystemName;
  round: number;
}

/** scenario-major, then round, then system: A/B/C, A/B/C, … for each scenario. */
function plan(opts: RunOptions): Planned[] {
  const out: Planned[] = [];
  for (const scenario of opts.scenarios) {
    const systems = opts.systems.filter(
      (s) =>
        scenario.systems.includes(s) ||
        (s === 'docket-sqlite-full' && scenario.systems.includes('docket-sqlite')) ||
        (s === 'docket-postgres-async' && scenario.systems.includes('docket-postgres')) ||
        // The bare-INSERT floor only adds.
        (s === 'insert-postgres' && (scenario.name === 'add' || scenario.name === 'addBulk')),
    );
    const rounds = scenario.once ? 1 : opts.rounds;
    for (let round = 1; round <= rounds; round++) for (const system of systems) out.push({ scenario, system, round });
  }
  return out;
}

function pkgVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return '?';
  }
}

function docketVersion(): string {
  const own = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', 'src'], { cwd: root }).toString().trim() !== '';
    return `${own} (${sha}${dirty ? ' + uncommitted src changes' : ''})`;
  } catch {
    return own;
  }
}

function load(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}

function primary(result: ChildResult, scenario: Scenario): string {
  return scenario.metrics
    .filter((m) => m.key in result.metrics)
    .map((m) => `${fmt(result.metrics[m.key])} ${m.label}`)
    .join(', ');
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const started = Date.now();
  const loadBefore = load();
  const docket = docketVersion();
  const server = new RedisServer();
  await server.start();
  const redis = new Redis(server.url);
  const sqliteDir = mkdtempSync(join(os.tmpdir(), 'docket-bench-'));
  const measurements: Measurement[] = [];
  const pgVersion = await postgresVersion();
  const onPostgres = (system: string) => system.endsWith('-postgres') || system === 'docket-postgres-async';
  if (!pgVersion && opts.systems.some(onPostgres))
    console.log('docket bench: no PostgreSQL answers: its systems are left out');
  const tasks = plan(opts).filter((t) => pgVersion || !onPostgres(t.system));
  // The cluster scenario's Redis Cluster (3 masters, one replica each), started only when it runs.
  const cluster = tasks.some((t) => t.scenario.cluster) ? new RedisCluster(3) : undefined;
  if (cluster) await cluster.start();
  console.log(`docket bench: ${tasks.length} measurements (${opts.quick ? 'quick' : 'full'}), redis ${server.url}`);
  try {
    for (const [k, t] of tasks.entries()) {
      await redis.flushall();
      if (t.scenario.cluster && cluster) await flushCluster(cluster);
      for (const f of readdirSync(sqliteDir)) rmSync(join(sqliteDir, f), { force: true });
      const task: ChildTask = {
        scenario: t.scenario.name,
        system: t.system,
        quick: opts.quick,
        redisUrl: server.url,
        ...(t.scenario.cluster && cluster ? { clusterNodes: cluster.nodes } : {}),
        sqliteDir,
        ...(onPostgres(t.system) ? { pgUrl: await freshDatabase() } : {}),
        scaleSize: opts.scaleSize,
        docketFrom: opts.docketFrom,
      };
      const label = `[${k + 1}/${tasks.length}] ${t.scenario.name} · ${t.system} · round ${t.round}`;
      try {
        const result = await runChild(task, t.scenario.timeoutMs, opts.nodeArgs);
        measurements.push({ scenario: t.scenario.name, system: t.system, round: t.round, result });
        console.log(`${label}: ${primary(result, t.scenario)} · rss ${fmt(result.peakRssMb)} MB`);
      } catch (err) {
        const error = (err as Error).message;
        measurements.push({ scenario: t.scenario.name, system: t.system, round: t.round, error });
        console.log(`${label}: FAILED ${error}`);
      }
    }
  } finally {
    const info = (await redis.info('server')).match(/redis_version:(\S+)/)?.[1] ?? '?';
    redis.disconnect();
    await server.destroy();
    await cluster?.destroy();
    rmSync(sqliteDir, { recursive: true, force: true });
    if (pgVersion) await dropDatabase();
    const cpus = os.cpus();
    const runInfo: RunInfo = {
      date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      mode: `${opts.quick ? 'quick' : 'full'}, ${opts.rounds} rounds, scale size ${opts.scaleSize.toLocaleString('en-US')}`,
      machine: `${cpus[0]?.model ?? '?'} × ${cpus.length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM, ${os.type()} ${os.release()}`,
      versions: [
        `node ${process.versions.node}`,
        `redis-server ${info}${cluster ? ' (also as a 3-master cluster with one replica each)' : ''}`,
        `docket ${docket} from ${opts.docketFrom === 'dist' ? 'dist/ (compiled)' : 'src/ through tsx'}`,
        `bullmq ${pkgVersion('bullmq')}`,
        `bee-queue ${pkgVersion('bee-queue')}`,
        `plainjob ${pkgVersion('plainjob')}`,
        `better-sqlite3 ${pkgVersion('better-sqlite3')}`,
        ...(pgVersion ? [`PostgreSQL ${pgVersion} (pg ${pkgVersion('pg')}, one database per measurement)`] : []),
        `ioredis ${pkgVersion('ioredis')}`,
      ].join(', '),
      load: `${loadBefore} at start, ${load()} at end`,
      durationS: (Date.now() - started) / 1000,
      note: opts.note,
    };
    const report = renderReport(measurements, runInfo);
    console.log(`\n${report}`);
    if (opts.json) writeFileSync(opts.json, JSON.stringify({ info: runInfo, measurements }, null, 2));
    if (opts.write) {
      const path = join(here, 'RESULTS.md');
      // The analysis of unmet targets is written by hand below the generated part: keep it.
      const previous = existsSync(path) ? readFileSync(path, 'utf8') : '';
      const at = previous.indexOf(HAND_WRITTEN_HEADING);
      writeFileSync(path, at >= 0 ? `${report.trimEnd()}\n\n${previous.slice(at)}` : report);
      console.log('wrote bench/RESULTS.md');
    }
  }
}

/** Empties every master of the cluster between measurements (the replicas follow). */
async function flushCluster(cluster: RedisCluster): Promise<void> {
  const client = cluster.client();
  try {
    await client.call('PING');
    await Promise.all(client.nodes('master').map((node) => node.flushall()));
  } finally {
    client.disconnect();
  }
}

/** Where the hand-written part of RESULTS.md starts. */
const HAND_WRITTEN_HEADING = '## Targets not met: the measured reason and the next lever';

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
