import { describe, expect, it } from 'vitest';
import { SEARCH_WINDOW } from '../../src/dashboard/job-list.js';
import { useQueues } from '../support/fixture.js';
import { stores } from '../support/stores.js';
import { useDashboards } from './dashboard-harness.js';

describe.each(stores)('dashboard search window on $kind', (store) => {
  const { setup } = useQueues(store);
  const { serve } = useDashboards();

  it('looks within the newest 10 000 jobs of a state, says so, and still finds an older job by its exact id', async () => {
    const { queue, connection, name } = setup();
    const old = await queue.addBulk(Array.from({ length: 5 }, () => ({ name: 'old', data: { tag: 'needle' } })));
    for (let added = 0; added < SEARCH_WINDOW; added += 2_500) {
      await queue.addBulk(Array.from({ length: 2_500 }, (_, n) => ({ name: 'new', data: { n: added + n } })));
    }
    const d = await serve({ connection, queues: [name] });
    const list = async (query: string) => (await d.get(`/api/queues/${name}/jobs?state=waiting&${query}`)).json();

    // The old jobs match, but lie beyond the newest 10 000: not searched, and the answer says so.
    const needle = await list('search=needle');
    expect(needle).toMatchObject({ total: 0, stateTotal: SEARCH_WINDOW + 5 });
    expect(needle.search).toEqual({ scanned: SEARCH_WINDOW, window: 10_000, complete: false });
    // The newest jobs are the ones searched.
    const newest = await list(`search=%22n%22%3A${SEARCH_WINDOW - 1}%7D&pageSize=5`);
    expect(newest.jobs.map((j: { name: string }) => j.name)).toEqual(['new']);
    // An exact id is looked up wherever the job is.
    const exact = await list(`search=${old[0].id}`);
    expect(exact.exact).toEqual({ id: old[0].id, state: 'waiting' });
    // Plain paging reaches the oldest jobs.
    const last = await list(`page=${(SEARCH_WINDOW + 5) / 5}&pageSize=5`);
    expect(last.jobs.map((j: { id: string }) => j.id).sort()).toEqual(old.map((j) => j.id).sort());
  }, 120_000);
});
