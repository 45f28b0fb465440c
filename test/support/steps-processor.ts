import { appendFileSync } from 'node:fs';
import type { Job } from '../../src/index.js';

/**
 * The processor of the durable-step crash tests: three steps, each appending its name to `ledger`
 * when it runs (synchronously, so a run the process dies in is on record). `hang` stops the run for
 * good after step a was recorded ('between') or inside step b ('inside'), after calling `onHang`.
 */
export function stepsProcessor(ledger: string, hang: 'between' | 'inside' | 'none', onHang: () => void = () => {}) {
  const forever = () => new Promise<never>(() => {});
  return async (job: Job) => {
    const note = (step: string) => appendFileSync(ledger, `${job.id} ${step}\n`);
    const a = await job.step('a', () => {
      note('a');
      return 1;
    });
    if (hang === 'between') {
      onHang();
      await forever();
    }
    const b = await job.step('b', async () => {
      note('b');
      if (hang === 'inside') {
        onHang();
        await forever();
      }
      return 2;
    });
    const c = await job.step('c', () => {
      note('c');
      return 3;
    });
    return a + b + c;
  };
}
