import { describe, expect, it } from 'vitest';
import { Job } from '../src/index.js';
import { useQueues } from './support/fixture.js';
import { stores } from './support/stores.js';

describe.each(stores)('Job JSON forms on $kind', (store) => {
  const { setup } = useQueues(store);

  it('toJSON gives plain values, asJSON the stored text, and fromJSON rebuilds the job from asJSON', async () => {
    const { queue } = setup();
    const job = await queue.add('x', { nested: { a: [1, 2] } }, { attempts: 2 });
    const read = (await queue.getJob(job.id!))!;
    const plain = JSON.parse(JSON.stringify(read));
    expect(plain.data).toEqual({ nested: { a: [1, 2] } });
    expect(plain.opts.attempts).toBe(2);
    expect(typeof read.asJSON().data).toBe('string');
    const rebuilt = Job.fromJSON(queue, read.asJSON(), read.id);
    expect(rebuilt.data).toEqual(read.data);
    expect(rebuilt.opts.attempts).toBe(2);
    expect(rebuilt.timestamp).toBe(read.timestamp);
  });
});
