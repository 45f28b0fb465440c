import { SCENARIOS } from './scenarios/index.js';
import type { Scenario } from './scenarios/scenario.js';
import { fmt, median } from './stats.js';
import { type ChildResult, type MetricSpec, PLAINJOB_POLL_MS, type SystemName } from './types.js';

export interface Measurement {
  scenario: string;
  system: SystemName;
  round: number;
  result?: ChildResult;
  error?: string;
}

export interface RunInfo {
  date: string;
  mode: string;
  machine: string;
  versions: string;
  load: string;
  durationS: number;
  note?: string;
}

/** Docket ÷ reference columns of the main table. */
const RATIOS: [SystemName, SystemName][] = [
  ['docket-redis', 'bullmq'],
  ['docket-redis', 'bee-queue'],
  ['docket-sqlite', 'plainjob'],
  ['docket-sqlite', 'bullmq'],
  ['docket-postgres', 'bullmq-postgres'],
  ['insert-postgres', 'bullmq-postgres'],
];

type Cell = { values: number[]; failed: number };

/** Medians by scenario → system → metric key (`rss` = peak RSS MB). */
export class Summary {
  private readonly cells = new Map<string, Cell>();
  readonly systems: SystemName[] = [];
  readonly scenarios: Scenario[] = [];

  constructor(measurements: Measurement[]) {
    for (const m of measurements) {
      if (!this.systems.includes(m.system)) this.systems.push(m.system);
      const scenario = SCENARIOS.find((s) => s.name === m.scenario);
      if (scenario && !this.scenarios.includes(scenario)) this.scenarios.push(scenario);
      const metrics: Record<string, number> = m.result ? { ...m.result.metrics, rss: m.result.peakRssMb } : {};
      const keys = [...(scenario?.metrics.map((x) => x.key) ?? []), 'rss'];
      for (const key of keys) {
        // A metric a system's result leaves out does not apply to it (server CPU of an in-process store).
        if (m.result && !(key in metrics)) continue;
        const cell = this.cell(m.scenario, m.system, key);
        const v = metrics[key];
        if (m.result && Number.isFinite(v)) cell.values.push(v);
        else cell.failed++;
      }
    }
    this.scenarios.sort((a, b) => SCENARIOS.indexOf(a) - SCENARIOS.indexOf(b));
  }

  private cell(scenario: string, system: string, key: string): Cell {
    const id = `${scenario}|${system}|${key}`;
    let cell = this.cells.get(id);
    if (!cell) this.cells.set(id, (cell = { values: [], failed: 0 }));
    return cell;
  }

  has(scenario: string, system: string): boolean {
    return this.cells.has(`${scenario}|${system}|rss`);
  }

  median(scenario: string, system: string, key: string): number {
    return this.has(scenario, system) ? median(this.cell(scenario, system, key).values) : Number.NaN;
  }

  values(scenario: string, system: string, key: string): Cell {
    return this.cell(scenario, system, key);
  }
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function mainTable(s: Summary): string {
  const ratios = RATIOS.filter(([a, b]) => s.systems.includes(a) && s.systems.includes(b));
  const header = ['scenario', 'metric', ...s.systems, ...ratios.map(([a, b]) => `${a} ÷ ${b}`)];
  const rows: string[][] = [];
  for (const sc of s.scenarios) {
    for (const m of sc.metrics) {
      const cells = s.systems.map((sys) => cellText(s, sc.name, sys, m));
      const ratioCells = ratios.map(([a, b]) => {
        const r = s.median(sc.name, a, m.key) / s.median(sc.name, b, m.key);
        return Number.isFinite(r) ? `${r.toFixed(2)}×` : '—';
      });
      rows.push([sc.name, `${m.label} ${m.better === 'higher' ? '↑' : '↓'}`, ...cells, ...ratioCells]);
    }
  }
  return table(header, rows);
}

function cellText(s: Summary, scenario: string, system: SystemName, m: MetricSpec): string {
  if (!s.has(scenario, system)) return 'n/a';
  const { values, failed } = s.values(scenario, system, m.key);
  if (values.length === 0) return failed > 0 ? 'failed' : 'n/a';
  return `${fmt(median(values))}${failed > 0 ? ` (${failed} failed)` : ''}`;
}

function rssTable(s: Summary): string {
  const rows = s.scenarios.map((sc) => [
    sc.name,
    ...s.systems.map((sys) => (s.has(sc.name, sys) ? fmt(s.median(sc.name, sys, 'rss')) : 'n/a')),
  ]);
  return table(['scenario', ...s.systems], rows);
}

function rawRounds(s: Summary): string {
  const lines: string[] = [];
  for (const sc of s.scenarios) {
    const key = sc.metrics[0].key;
    const parts = s.systems
      .filter((sys) => s.has(sc.name, sys))
      .map((sys) => `${sys} ${s.values(sc.name, sys, key).values.map(fmt).join(' / ') || 'failed'}`);
    lines.push(`- ${sc.name} (${sc.metrics[0].label}): ${parts.join('; ')}`);
  }
  return lines.join('\n');
}

/** Issue 18's targets (and issue 19's for PostgreSQL), checked against this run's medians. */
function targets(s: Summary): string {
  const m = (sc: string, sys: string, key: string) => s.median(sc, sys, key);
  const checks: { what: string; value: number; pass: (v: number) => boolean; show: (v: number) => string }[] = [];
  const ratio = (what: string, sc: string, key: string, sys: string, ref: string, min: number) =>
    checks.push({
      what: `${what}: ${sys} ≥ ${min}× ${ref}`,
      value: m(sc, sys, key) / m(sc, ref, key),
      pass: (v) => v >= min,
      show: (v) => `${v.toFixed(2)}×`,
    });
  ratio('process c=50', 'process-c50', 'rate', 'docket-redis', 'bullmq', 2.5);
  ratio('process c=50, 100 000 jobs', 'process-c50-100k', 'rate', 'docket-redis', 'bullmq', 2.5);
  ratio('process c=1', 'process-c1', 'rate', 'docket-redis', 'bullmq', 1.5);
  ratio('process c=1, 100 000 jobs', 'process-c1-100k', 'rate', 'docket-redis', 'bullmq', 1.5);
  ratio('add one at a time', 'add', 'rate', 'docket-redis', 'bee-queue', 1);
  ratio('add one at a time, 100 000 jobs', 'add-100k', 'rate', 'docket-redis', 'bee-queue', 1);
  ratio('100 callers adding at once', 'add-concurrent', 'rate', 'docket-redis', 'bullmq', 3);
  for (const key of ['p50', 'p99']) {
    checks.push({
      what: `latency ${key}: docket-redis ≤ bee-queue`,
      value: m('latency', 'docket-redis', key) / m('latency', 'bee-queue', key),
      pass: (v) => v <= 1,
      show: (v) =>
        `${v.toFixed(2)}× (${fmt(m('latency', 'docket-redis', key))} vs ${fmt(m('latency', 'bee-queue', key))} ms)`,
    });
  }
  checks.push({
    what: 'process c=50 docket-sqlite node CPU ≤ 9 µs/job',
    value: m('process-c50', 'docket-sqlite', 'cpuUs'),
    pass: (v) => v <= 9,
    show: (v) => `${fmt(v)} µs/job`,
  });
  ratio('process c=50', 'process-c50', 'rate', 'docket-sqlite', 'plainjob', 4);
  ratio('process c=50, 100 000 jobs', 'process-c50-100k', 'rate', 'docket-sqlite', 'plainjob', 4);
  ratio('add one at a time', 'add', 'rate', 'docket-sqlite', 'plainjob', 1);
  ratio('add one at a time, 100 000 jobs', 'add-100k', 'rate', 'docket-sqlite', 'plainjob', 1);
  checks.push({
    what: 'latency p99 ≤ 1 ms: docket-sqlite',
    value: m('latency', 'docket-sqlite', 'p99'),
    pass: (v) => v <= 1,
    show: (v) => `${fmt(v)} ms`,
  });
  ratio('process c=50', 'process-c50', 'rate', 'docket-postgres', 'bullmq-postgres', 5);
  ratio('add one at a time', 'add', 'rate', 'docket-postgres', 'bullmq-postgres', 2);
  ratio('addBulk', 'addBulk', 'rate', 'docket-postgres', 'bullmq-postgres', 1);
  checks.push({
    what: 'latency p50: docket-postgres below bullmq-postgres',
    value: m('latency', 'docket-postgres', 'p50') / m('latency', 'bullmq-postgres', 'p50'),
    pass: (v) => v < 1,
    show: (v) =>
      `${v.toFixed(2)}× (${fmt(m('latency', 'docket-postgres', 'p50'))} vs ${fmt(m('latency', 'bullmq-postgres', 'p50'))} ms)`,
  });
  for (const sys of ['docket-redis', 'docket-sqlite', 'docket-postgres']) {
    checks.push({
      what: `delayed lateness p99 ≤ 20 ms: ${sys}`,
      value: m('delayed', sys, 'p99'),
      pass: (v) => v <= 20,
      show: (v) => `${fmt(v)} ms`,
    });
  }
  for (const sc of ['add', 'add-concurrent', 'addBulk', 'process-c1', 'process-c50', 'latency', 'flow', 'manual']) {
    for (const sys of ['docket-redis', 'docket-sqlite']) {
      checks.push({
        what: `${sc}: ${sys} node CPU per job below bullmq's`,
        value: m(sc, sys, 'cpuUs') / m(sc, 'bullmq', 'cpuUs'),
        pass: (v) => v < 1,
        show: (v) => `${v.toFixed(2)}×`,
      });
    }
  }
  for (const sc of ['add', 'add-concurrent', 'addBulk', 'process-c1', 'process-c50', 'flow', 'manual']) {
    checks.push({
      what: `${sc}: docket-redis server CPU per job below bullmq's`,
      value: m(sc, 'docket-redis', 'serverUs') / m(sc, 'bullmq', 'serverUs'),
      pass: (v) => v < 1,
      show: (v) =>
        `${v.toFixed(2)}× (${fmt(m(sc, 'docket-redis', 'serverUs'))} vs ${fmt(m(sc, 'bullmq', 'serverUs'))} µs)`,
    });
  }
  for (const sys of ['docket-redis', 'docket-sqlite', 'bullmq']) {
    for (const bg of ['waiting', 'delayed']) {
      checks.push({
        what: `scale: ${sys}, 1 M jobs ${bg} behind: at least 1/1.2 of an empty queue's rate`,
        value: m('scale-empty', sys, 'rate') / m(`scale-${bg}`, sys, 'rate'),
        pass: (v) => v <= 1.2,
        show: (v) => `empty is ${v.toFixed(2)}× faster`,
      });
    }
  }
  return checks
    .filter((c) => Number.isFinite(c.value))
    .map((c) => `- ${c.pass(c.value) ? '✅' : '❌'} ${c.what} — ${c.show(c.value)}`)
    .join('\n');
}

const SETTINGS = `- Every measurement runs in a fresh child process (\`bench/child.ts\`); systems alternate A/B/C… within
  each round; the table shows medians over the rounds. Redis systems share one throwaway
  \`redis-server\` (no persistence), flushed before each measurement; SQLite systems get a fresh file on disk.
  The \`cluster\` row runs on a throwaway Redis Cluster of the same redis-server (3 masters, one replica each,
  all on this machine), every master flushed before each measurement; each system connects with one ioredis
  \`Cluster\` per queue (\`maxRetriesPerRequest: null\`), queues named \`{bench-<n>}\`, two per master.
- Jobs carry \`{ i }\` as data; processors are no-ops. "node CPU µs/job" is the benchmark process's
  own CPU (user + system) in the timed section; "server CPU µs/job" is the store server's in the same
  section: redis-server's \`INFO cpu\` (user + sys), PostgreSQL's as the sum over this machine's \`postgres\`
  processes in /proc (10 ms ticks; its other work idle); n/a for in-process stores and the cluster row.
- docket-sqlite: WAL, \`synchronous = NORMAL\` (Docket's default: a committed job survives a process
  crash, not a power loss), WAL checkpoints in a background thread; docket-sqlite-full (when run):
  \`synchronous = FULL\`. Producer and worker share the process (one better-sqlite3 handle).
- docket-postgres: \`synchronous_commit\` as the server has it (on); docket-postgres-async (when run):
  \`postgres: { synchronousCommit: false }\`. insert-postgres (when run): not a queue, the floor of a durable
  one-job add here: one one-row \`INSERT\` (a serial key, name, data; a prepared statement) in autocommit
  through the same \`pg\` driver.
- bullmq, docket-redis: library defaults; \`removeOnComplete: true\` given as a default job option in
  the \`-remove\` variants. bee-queue: defaults (\`sendEvents\` on, \`delayedDebounce\` 1000 ms),
  \`removeOnSuccess\` in the \`-remove\` variants. plainjob: WAL + \`synchronous = NORMAL\` (its own
  setting), poll interval ${PLAINJOB_POLL_MS} ms, concurrency N = N worker loops in one process; no flows, no
  removal on completion; its manual loop is \`getAndMarkJobAsProcessing\` + \`markJobAsDone\`.
- Ratios are Docket ÷ reference of the medians: above 1 is better for ↑ metrics, below 1 for ↓ ones.`;

export function renderReport(measurements: Measurement[], info: RunInfo): string {
  const s = new Summary(measurements);
  const failures = measurements.filter((m) => m.error);
  const parts = [
    '# Docket benchmark results',
    '',
    `- Date: ${info.date} · mode: ${info.mode} · wall time ${Math.round(info.durationS)} s`,
    `- Machine: ${info.machine}`,
    `- Load average (1/5/15 min): ${info.load}`,
    `- Versions: ${info.versions}`,
    ...(info.note ? [`- Note: ${info.note}`] : []),
    '',
    '## Medians',
    '',
    mainTable(s),
    '',
    '## Targets (from the issue)',
    '',
    targets(s) || '- (no target could be computed from the scenarios run)',
    '',
    '## Peak RSS of the benchmark process (MB, median)',
    '',
    rssTable(s),
    '',
    '## Every round (first metric)',
    '',
    rawRounds(s),
    '',
    ...(failures.length > 0
      ? ['## Failures', '', ...failures.map((f) => `- ${f.scenario} ${f.system} round ${f.round}: ${f.error}`), '']
      : []),
    '## How it was measured',
    '',
    SETTINGS,
    '',
    '## Scenarios',
    '',
    ...s.scenarios.map((sc) => `- \`${sc.name}\`: ${sc.title}`),
    '',
  ];
  return parts.join('\n');
}
