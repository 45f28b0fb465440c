/** Shared vocabulary of the benchmark suite: systems, adapters, scenarios and results. */

export const SYSTEMS = [
  'docket-redis',
  'docket-sqlite',
  'docket-postgres',
  'bullmq',
  'bullmq-postgres',
  'bee-queue',
  'plainjob',
] as const;
/** Systems that run only when asked for with `--systems` (not part of the default run). */
export const EXTRA_SYSTEMS = ['docket-sqlite-full', 'docket-postgres-async', 'insert-postgres'] as const;
/** plainjob polls for work; this is its poll interval in the suite (its default is 1000 ms). */
export const PLAINJOB_POLL_MS = 10;

export type SystemName = (typeof SYSTEMS)[number] | (typeof EXTRA_SYSTEMS)[number];

/** The payload of every benchmark job: small, like most real job data. */
export interface BenchData {
  i: number;
  /**
   * Due time (ms epoch) of a delayed job. Adapters make the system's own due time exactly this
   * (BullMQ and Docket: `timestamp: due - delay`; bee-queue: `delayUntil(due)`; plainjob: a delay
   * computed at the moment of the insert).
   */
  due?: number;
}

export interface NewBenchJob {
  name: string;
  data: BenchData;
  /** ms from now; absent or 0 = runnable at once. */
  delay?: number;
  /** A BullMQ Pro group id (Docket only: the groups scenarios). */
  group?: string;
}

export interface WorkerHooks {
  concurrency: number;
  /** Called inside the processor when a job starts. */
  onStart?(data: BenchData): void;
  /** Called once the system reports the job completed (its completion is stored). */
  onCompleted(name: string, data: BenchData): void;
  /** Process in batches of this many jobs (BullMQ Pro's worker option `batch`; Docket only). */
  batch?: number;
}

/** A node of the Redis Cluster the orchestrator started (cluster scenarios). */
export interface ClusterNode {
  host: string;
  port: number;
}

/** Where a system keeps its data for one measurement. */
export interface AdapterConfig {
  redisUrl: string;
  /** Set in cluster scenarios: the Redis systems connect with an ioredis Cluster on these nodes instead. */
  cluster?: ClusterNode[];
  /** A fresh SQLite file path (SQLite systems). */
  sqlitePath: string;
  /** The measurement's own empty PostgreSQL database (PostgreSQL systems). */
  pgUrl?: string;
  queue: string;
  /** Remove jobs when they complete (BullMQ's `removeOnComplete: true`). */
  removeOnComplete: boolean;
}

/**
 * One system under test, behind the few operations the scenarios need. Optional members are
 * features the system lacks (the scenario then reports "n/a").
 */
export interface Adapter {
  /** Connects and prepares the producer side. */
  ready(): Promise<void>;
  add(job: NewBenchJob): Promise<void>;
  addBulk(jobs: NewBenchJob[]): Promise<void>;
  /**
   * Creates a processing worker and waits until it is connected; the returned function starts
   * it, so that the timed section of a scenario begins with processing, not with connecting.
   */
  startWorker(hooks: WorkerHooks): Promise<() => void>;
  stopWorker(): Promise<void>;
  /** Calls the last started worker made to its store's worker path (fetch, complete, fail, locks, stalled). */
  storeCalls?(): number;
  /** Adds `count` flows (a parent named `parent` with `children` children named `child`) in one call. */
  addFlows?(first: number, count: number, children: number): Promise<void>;
  /**
   * Opens a worker without a processor for manual fetching (connected before the timed section);
   * `run` processes up to `count` waiting jobs by hand — getNextJob, then moveToCompleted with
   * fetchNext — and returns how many it processed.
   */
  openManual?(): Promise<ManualLoop>;
  close(): Promise<void>;
}

export interface ManualLoop {
  run(count: number): Promise<number>;
  close(): Promise<void>;
}

export type Better = 'higher' | 'lower';

export interface MetricSpec {
  key: string;
  label: string;
  better: Better;
}

/** What a child process prints: one measurement of one scenario on one system. */
export interface ChildResult {
  scenario: string;
  system: SystemName;
  metrics: Record<string, number>;
  /** Peak resident set size of the child process, MB. */
  peakRssMb: number;
  /** Instrumentation of the timed section, when the task asked for it (see probe.ts). */
  profile?: import('./probe.js').ProbeReport;
}

/** What the orchestrator hands a child on its command line (JSON). */
export interface ChildTask {
  scenario: string;
  system: SystemName;
  quick: boolean;
  redisUrl: string;
  /** The startup nodes of the run's Redis Cluster (cluster scenarios only). */
  clusterNodes?: ClusterNode[];
  sqliteDir: string;
  /** An empty PostgreSQL database made for this measurement (PostgreSQL systems). */
  pgUrl?: string;
  /** Size of the background queue for `scale-*` scenarios. */
  scaleSize: number;
  /** Instrument the timed section (bench/profile.ts); a CPU profile is written into this directory. */
  profileDir?: string;
  /** `count`: count commands and time SQL statements; `cpu`: record a CPU profile. */
  profileMode?: 'count' | 'cpu';
  /** Where Docket is loaded from: its TypeScript source through tsx (default) or the built `dist/`. */
  docketFrom?: 'src' | 'dist';
  /** Override of the scenario's job count (bench/profile.ts). */
  jobs?: number;
}
