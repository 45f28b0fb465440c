import type { Adapter, AdapterConfig, SystemName } from '../types.js';
import type { DocketStore } from './docket.js';

/**
 * The adapter of `system`, importing only that system's library so that a child's startup time
 * and peak RSS carry no other queue library.
 */
export async function createAdapter(
  system: SystemName,
  cfg: AdapterConfig,
  docketFrom: 'src' | 'dist' = 'src',
): Promise<Adapter> {
  const docket = async (store: DocketStore) => {
    const { docketAdapter, loadDocket } = await import('./docket.js');
    return docketAdapter(await loadDocket(docketFrom), store, cfg);
  };
  switch (system) {
    case 'docket-redis':
      return docket('redis');
    case 'docket-sqlite':
      return docket('sqlite');
    case 'docket-sqlite-full':
      return docket('sqlite-full');
    case 'docket-postgres':
      return docket('postgres');
    case 'docket-postgres-async':
      return docket('postgres-async');
    case 'bullmq':
      return (await import('./bullmq.js')).bullmqAdapter(cfg);
    case 'bullmq-postgres':
      return (await import('./bullmq.js')).bullmqAdapter(cfg, 'postgres');
    case 'insert-postgres':
      return (await import('./insert-postgres.js')).insertPostgresAdapter(cfg);
    case 'bee-queue':
      return (await import('./beequeue.js')).beeQueueAdapter(cfg);
    case 'plainjob':
      return (await import('./plainjob.js')).plainjobAdapter(cfg);
  }
}
