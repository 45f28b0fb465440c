import { createRequire } from 'node:module';
import type pg from 'pg';

let loaded: typeof pg | undefined;

/**
 * The `pg` driver, loaded the first time a PostgreSQL store is made: a process on SQLite or Redis
 * never loads it (importing Docket used to load `pg` and its dependencies for everyone). Loaded
 * with `require`, synchronously, since stores are made in constructors; `pg` is CommonJS, so
 * `import pg from 'pg'` elsewhere (a user's code, the tests) gets this same module instance.
 */
export function pgDriver(): typeof pg {
  if (!loaded) {
    try {
      loaded = createRequire(import.meta.url)('pg') as typeof pg;
    } catch (err) {
      throw new Error(
        `the PostgreSQL store needs the "pg" package, which could not be loaded: ${(err as Error).message}`,
      );
    }
  }
  return loaded;
}
