import { afterEach } from 'vitest';
import { openInstances } from '../../src/queue-base.js';

/** Fails any test that leaves a Queue, Worker, QueueEvents or FlowProducer open. */
afterEach(async () => {
  if (openInstances.size === 0) return;
  const leaked = [...openInstances].map((i) => `${i.constructor.name}(${i.name})`);
  await Promise.all([...openInstances].map((i) => i.close().catch(() => undefined)));
  throw new Error(`Test left open: ${leaked.join(', ')}. Close every Queue/Worker/QueueEvents in the test.`);
});
