import Module, { createRequire } from 'node:module';
import { sep } from 'node:path';
import type { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import type { QueueAdapterOptions } from '@bull-board/api/dist/types.js';
import * as docket from '../../src/index.js';

type Load = (request: string, parent: { filename?: string } | undefined, isMain: boolean) => unknown;
const loader = Module as unknown as { _load: Load };
const require = createRequire(import.meta.url);
const BULL_BOARD = `${sep}@bull-board${sep}`;

/** The adapter's constructor as typed under the alias, where `bullmq`'s Queue is Docket's. */
type AdapterOnDocket = new (queue: docket.Queue, options?: Partial<QueueAdapterOptions>) => BullMQAdapter;

/**
 * bull-board's `BullMQAdapter` as a user gets it after installing Docket under the name `bullmq`
 * (`"bullmq": "npm:docket"`): the adapter's `require('bullmq')` answers Docket — this copy, as
 * Node's `require` of an ES module does — while everything else keeps the real `bullmq` (parity
 * tests and benchmarks use it). `copy` stands in for a second copy of Docket, as a CommonJS build
 * loaded beside the app's ESM import would be; `null` leaves the real `bullmq` to the adapter too.
 */
export function bullBoardAdapterOnDocket(copy: object | null = docket): { BullMQAdapter: AdapterOnDocket } {
  const original = loader._load;
  loader._load = function (this: unknown, request, parent, isMain) {
    if (copy && request === 'bullmq' && parent?.filename?.includes(BULL_BOARD)) return copy;
    return original.call(this, request, parent, isMain);
  };
  try {
    // Loaded afresh so that its `require('bullmq')` runs now, whatever was loaded before.
    for (const path of ['@bull-board/api/bullMQAdapter', '@bull-board/api/dist/queueAdapters/bullMQ.js']) {
      delete require.cache[require.resolve(path)];
    }
    return require('@bull-board/api/bullMQAdapter');
  } finally {
    loader._load = original;
  }
}
