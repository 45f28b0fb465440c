import { Queue } from '../../src/index.js';

/**
 * Another process's cancel: opens the queue, says 'ready', and on {cancel: id, reason} over IPC
 * calls queue.cancelJob, sends back {cancelled, at} (its clock, for the latency) and exits.
 * Args: connection, queue name.
 */
const [connection, name] = process.argv.slice(2);
const queue = new Queue(name, { connection });
await queue.waitUntilReady();
process.on('message', async (msg: { cancel?: string; reason?: string } | 'close') => {
  if (msg === 'close') {
    await queue.close();
    process.exit(0);
  }
  if (typeof msg === 'object' && msg.cancel) {
    const at = Date.now();
    const cancelled = await queue.cancelJob(msg.cancel, msg.reason);
    process.send?.({ cancelled, at });
    await queue.close();
    process.exit(0);
  }
});
process.send?.('ready');
