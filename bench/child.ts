/**
 * One measurement in a fresh process: `node --import tsx bench/child.ts '<ChildTask JSON>'`.
 * Prints one line `RESULT <ChildResult JSON>` on stdout and exits.
 */
import { join } from 'node:path';
import { installProbe, probeReport } from './probe.js';
import { scenarioByName } from './scenarios/index.js';
import { meterPostgres, meterRedis } from './server-cpu.js';
import { createAdapter } from './systems/index.js';
import type { AdapterConfig, ChildResult, ChildTask } from './types.js';

async function main(): Promise<void> {
  const task = JSON.parse(process.argv[2] ?? '') as ChildTask;
  const scenario = scenarioByName(task.scenario);
  const onRedis = ['docket-redis', 'bullmq', 'bee-queue'].includes(task.system);
  if (onRedis && !task.clusterNodes) meterRedis(task.redisUrl);
  if (task.pgUrl) meterPostgres();
  if (task.profileDir) {
    const redisUrl = onRedis ? task.redisUrl : undefined;
    installProbe({
      redisUrl,
      dir: task.profileDir,
      tag: `${task.scenario}-${task.system}`,
      mode: task.profileMode ?? 'cpu',
    });
  }
  const config = (queue: string): AdapterConfig => ({
    redisUrl: task.redisUrl,
    ...(task.clusterNodes ? { cluster: task.clusterNodes } : {}),
    sqlitePath: join(task.sqliteDir, `${task.scenario}-${task.system}-${queue}.db`),
    ...(task.pgUrl ? { pgUrl: task.pgUrl } : {}),
    queue,
    removeOnComplete: scenario.removeOnComplete ?? false,
  });
  const adapterFor = (queue: string) => createAdapter(task.system, config(queue), task.docketFrom);
  // A queue on a cluster needs a {hash tag} (docs/compatibility.md).
  const adapter = await adapterFor(task.clusterNodes ? '{bench}' : 'bench');
  const guard = setTimeout(() => {
    console.error(`child: ${task.scenario} on ${task.system} exceeded ${scenario.timeoutMs} ms`);
    process.exit(3);
  }, scenario.timeoutMs);
  guard.unref();
  try {
    const metrics = await scenario.run({
      adapter,
      adapterFor,
      clusterNodes: task.clusterNodes,
      system: task.system,
      quick: task.quick,
      scaleSize: task.scaleSize,
      jobs: task.jobs,
    });
    const result: ChildResult = {
      scenario: task.scenario,
      system: task.system,
      metrics,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      ...(task.profileDir ? { profile: probeReport } : {}),
    };
    console.log(`RESULT ${JSON.stringify(result)}`);
  } finally {
    await adapter.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
