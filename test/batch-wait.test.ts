import { describe, expect, it } from 'vitest';
import { BatchWait } from '../src/worker/batch-wait.js';

/** The batch option's minSize/timeout clock (src/worker/batch-wait.ts), with explicit times. */
describe('a batch worker waiting for minSize jobs', () => {
  const T = 1_000_000;

  it('asks for minSize until the timeout runs out, then for any job, bounding the wait meanwhile', () => {
    const wait = new BatchWait({ size: 10, minSize: 5, timeout: 4000 });
    expect(wait.rules(T)).toEqual({ minJobs: 5 });
    wait.fetched(0, T);
    expect(wait.waitBound(T + 1000)).toBe(3000);
    expect(wait.rules(T + 4000)).toBeUndefined();
    wait.fetched(0, T + 4000);
    expect(wait.waitBound(T + 4001)).toBeUndefined(); // nothing ready at all: wait for any job
    wait.fetched(2, T + 5000);
    expect(wait.rules(T + 5000)).toEqual({ minJobs: 5 }); // the next batch waits afresh
  });

  it('fetches again at once when the timeout ran out just after a fetch that still asked for minSize', () => {
    const wait = new BatchWait({ size: 10, minSize: 5, timeout: 4000 });
    wait.rules(T);
    wait.fetched(0, T);
    // A timer set for the bound may fire a ms before Date.now() says it is due.
    expect(wait.rules(T + 3999)).toEqual({ minJobs: 5 });
    wait.fetched(0, T + 3999);
    expect(wait.waitBound(T + 4000)).toBe(0);
    expect(wait.rules(T + 4000)).toBeUndefined();
    wait.fetched(0, T + 4000);
    expect(wait.waitBound(T + 4001)).toBeUndefined();
  });
});
