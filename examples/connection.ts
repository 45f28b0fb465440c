import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The store an example runs on: DOCKET_URL when set, else a fresh embedded SQLite file. */
export const connection =
  process.env.DOCKET_URL ?? `sqlite:${join(mkdtempSync(join(tmpdir(), 'docket-example-')), 'example.db')}`;
