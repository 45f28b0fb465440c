/**
 * SQLite's WAL under sustained load (`npm run bench:wal -- --help`): a producer process keeps the
 * queue full (addBulk whenever fewer than `backlog` jobs wait) while a worker process drains it,
 * until `jobs` jobs were processed; then the worker idles and the WAL is watched shrinking. This
 * process only samples the size of `<file>-wal` (every 20 ms). Reports peak WAL size, throughput,
 * the worker's event-loop delay, and the WAL size once the load stopped.
 */
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ProducerDone, WalTask, WorkerDone } from './wal-child.js';

const here = dirname(fileURLToPath(import.meta.url));

const USAGE = `npm run bench:wal -- [options]     (npm run bench:wal builds dist/ first)
  --jobs <n>              jobs to add and process (default 1 000 000)
  --backlog <n>           jobs the producer keeps waiting (default 20 000)
  --concurrency <n>       worker concurrency (default 50)
  --max-wal-bytes <n>     sqlite.maxWalBytes for both processes (default: Docket's default)
  --idle-ms <n>           how long to watch the WAL after the last job (default 5 000)
  --docket-from <dist|src>  (default dist)
  --label <text>          the row's label in the report (default: the git commit)
  --write                 add the row to the WAL table of bench/RESULTS.md`;

interface Row {
  label: string;
  jobs: number;
  jobsPerS: number;
  peakWalMb: number;
  walAtEndMb: number;
  walAfterIdleMb: number;
  dbMb: number;
  workerLoop: string;
  producerLoop: string;
  load: string;
}

function start(role: 'producer' | 'worker', task: WalTask): ChildProcess {
  return fork(join(here, 'wal-child.ts'), [role, JSON.stringify(task)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function next<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (msg: { type?: string }) => {
      if (msg?.type !== type) return;
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(msg as T);
    };
    const onExit = (code: number | null) => reject(new Error(`child exited with ${code} before '${type}'`));
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

const size = (path: string) => (existsSync(path) ? statSync(path).size : 0);
const mb = (bytes: number) => bytes / 2 ** 20;
const load = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      jobs: { type: 'string', default: '1000000' },
      backlog: { type: 'string', default: '20000' },
      concurrency: { type: 'string', default: '50' },
      'max-wal-bytes': { type: 'string' },
      'idle-ms': { type: 'string', default: '5000' },
      'docket-from': { type: 'string', default: 'dist' },
      label: { type: 'string' },
      write: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return console.log(USAGE);
  const dir = mkdtempSync(join(os.tmpdir(), 'docket-wal-bench-'));
  const file = join(dir, 'wal.db');
  const task: WalTask = {
    file,
    queue: 'wal',
    jobs: Number(values.jobs),
    backlog: Number(values.backlog),
    concurrency: Number(values.concurrency),
    docketFrom: values['docket-from'] === 'src' ? 'src' : 'dist',
    sqlite: values['max-wal-bytes'] ? { maxWalBytes: Number(values['max-wal-bytes']) } : {},
  };
  const loadBefore = load();
  const producer = start('producer', task);
  await next(producer, 'ready');
  const worker = start('worker', task);
  await next(worker, 'ready');
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, size(`${file}-wal`))), 20);
  worker.on('message', (msg: { type?: string; n?: number }) => {
    if (msg.type === 'progress' && msg.n && msg.n % Math.max(10_000, task.jobs / 10) === 0) {
      console.log(
        `${msg.n.toLocaleString('en-US')} jobs · WAL now ${mb(size(`${file}-wal`)).toFixed(1)} MB, peak ${mb(peak).toFixed(1)} MB`,
      );
    }
  });
  const producerDone = next<ProducerDone>(producer, 'done');
  const workerDone = next<WorkerDone>(worker, 'done');
  producer.send('start');
  worker.send('start');
  const done = await workerDone;
  const produced = await producerDone;
  const walAtEnd = size(`${file}-wal`);
  // The load has stopped (the producer closed, the worker idles): watch the WAL shrink.
  const idleMs = Number(values['idle-ms']);
  const until = Date.now() + idleMs;
  while (Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  clearInterval(sampler);
  const walAfterIdle = size(`${file}-wal`);
  const db = size(file);
  worker.send('close');
  await next(worker, 'closed');
  const row: Row = {
    label: values.label ?? commit(),
    jobs: done.completed,
    jobsPerS: done.completed / (done.ms / 1000),
    peakWalMb: mb(peak),
    walAtEndMb: mb(walAtEnd),
    walAfterIdleMb: mb(walAfterIdle),
    dbMb: mb(db),
    workerLoop: `${n(done.loopP99Ms)} / ${n(done.loopMaxMs)}`,
    producerLoop: `${n(produced.loopP99Ms)} / ${n(produced.loopMaxMs)}`,
    load: `${loadBefore} → ${load()}`,
  };
  rmSync(dir, { recursive: true, force: true });
  const line = render(row);
  console.log(`\n${HEADER}\n${line}`);
  if (values.write) writeRow(line);
}

const HEADING = '## SQLite WAL under sustained load';
const HEADER = `| run | jobs | jobs/s | peak WAL MB | WAL at last job MB | WAL after idle MB | db MB | loop delay p99 / max ms: producer · worker | load avg (1/5/15) before → after |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |`;

const n = (x: number, d = 1) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

function render(r: Row): string {
  return `| ${r.label} | ${r.jobs.toLocaleString('en-US')} | ${n(r.jobsPerS, 0)} | ${n(r.peakWalMb)} | ${n(r.walAtEndMb)} | ${n(r.walAfterIdleMb)} | ${n(r.dbMb)} | ${r.producerLoop} · ${r.workerLoop} | ${r.load} |`;
}

/** Appends the row to the table under HEADING (created at the end of RESULTS.md if missing). */
function writeRow(line: string): void {
  const path = join(here, 'RESULTS.md');
  let text = readFileSync(path, 'utf8');
  if (!text.includes(HEADING)) text = `${text.trimEnd()}\n\n${HEADING}\n\n${HEADER}\n`;
  const at = text.indexOf(HEADING);
  const nextHeading = text.indexOf('\n## ', at + HEADING.length);
  const end = nextHeading < 0 ? text.length : nextHeading;
  const section = text.slice(at, end);
  const lastRow = section.lastIndexOf('\n|');
  const rowEnd = section.indexOf('\n', lastRow + 1);
  const insertAt = at + (rowEnd < 0 ? section.length : rowEnd);
  text = `${text.slice(0, insertAt)}\n${line}${text.slice(insertAt)}`;
  writeFileSync(path, text.endsWith('\n') ? text : `${text}\n`);
  console.log('added the row to bench/RESULTS.md');
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: here }).toString().trim();
  } catch {
    return '?';
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
