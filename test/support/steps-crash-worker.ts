// A worker process for the durable-step crash tests. argv: connection, queue name, ledger file,
// where to hang ('between' | 'inside'). It sends 'ready' once ready and 'hang' once it hangs, so
// the test kills it at that point.
import { Worker } from '../../src/index.js';
import { stepsProcessor } from './steps-processor.js';

const [connection, name, ledger, hang] = process.argv.slice(2);
const worker = new Worker(
  name,
  stepsProcessor(ledger, hang as 'between' | 'inside', () => process.send?.('hang')),
  // A short lock, so the killed worker's job comes back to the test's worker soon.
  { connection, drainDelay: 1, lockDuration: 1000, stalledInterval: 500 },
);
worker.on('error', (err) => console.error(`[steps-crash-worker ${process.pid}]`, err));
worker.on('ready', () => process.send?.('ready'));
process.on('message', async (msg) => {
  if (msg === 'close') {
    await worker.close();
    process.exit(0);
  }
});
