import type { Store } from '../store/store.js';

/**
 * Names (without prefix) of the Docket queues stored under `prefix`, sorted.
 *
 * Needs `Store.listQueues(prefix)`, which the Store contract does not have yet; until it does this
 * returns undefined and callers ask for explicit queue names.
 */
export async function listQueues(store: Store, prefix: string): Promise<string[] | undefined> {
  const list = (store as Store & { listQueues?: (prefix: string) => Promise<string[]> }).listQueues;
  if (typeof list !== 'function') return undefined;
  const names = await list.call(store, prefix);
  return [...new Set(names)].sort();
}

/** What to tell people when the store cannot list queues. */
export const LIST_UNSUPPORTED =
  'this store cannot list queues yet (Store.listQueues is missing): name the queues, e.g. `docket queues emails reports`';
