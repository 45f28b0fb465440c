import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** The documented examples run on the embedded store and print what happened. */
const examples: [string, RegExp][] = [
  ['step-jobs', /order complete: attemptsMade=2/],
  ['durable-steps', /runs per step: \{"reserve":1,"charge":1,"ship":2\}\n.*order complete: attemptsMade=2/],
  ['waiting-children', /report complete with 3 pages/],
  ['chaining-flows', /chained pipeline finished with 6/],
  ['manual-fetch', /counts: \{ completed: 10, failed: 0, waiting: 0 \}/],
  ['rate-limit', /took job \d+ again after the limit, attemptsMade=0/],
  [
    'timeouts',
    /render: rendered on attempt 2\n.*\n.*stubborn is failed: Job cancelled: no longer needed, attemptsMade=1/,
  ],
  ['groups', /refused: big-tenant is full[\s\S]*tenant-b while paused: paused[\s\S]*tenant-a ran at position 2 of 8/],
  ['batches', /batch of 10: sending 9[\s\S]*3 batches; 23 jobs completed; failed: no address, no address/],
];

describe('examples', () => {
  it.each(examples)('%s runs', (name, expected) => {
    const env = { ...process.env };
    delete env.DOCKET_URL;
    const run = spawnSync(process.execPath, ['--import', 'tsx', `examples/${name}.ts`], {
      encoding: 'utf8',
      env,
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(expected);
  });
});
