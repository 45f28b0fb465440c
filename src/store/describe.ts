import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RedisOptions } from 'ioredis';
import { type ConnectionOptions, DEFAULT_SQLITE_FILE, redactUrl } from './connect.js';
import { isPostgresConnection, isPostgresUrl } from './postgres/postgres-options.js';

/** Which store a `connection` value opens, in words for people (the CLI and dashboard show it). */
export interface StoreDescription {
  kind: 'sqlite' | 'redis' | 'postgres';
  /** `SQLite file /abs/path.db`, `SQLite in memory`, `Redis redis://host:6379` (password hidden)… */
  text: string;
  /** The absolute path of a SQLite file; undefined for memory and Redis. */
  file?: string;
}

/** As `connect` chooses: `connection`, else DOCKET_URL, else `sqlite:./docket.db`. */
export function describeStore(
  connection: ConnectionOptions | undefined,
  env: Record<string, string | undefined> = process.env,
): StoreDescription {
  const chosen = connection ?? env.DOCKET_URL ?? `sqlite:${DEFAULT_SQLITE_FILE}`;
  if (typeof chosen === 'string') {
    if (chosen.startsWith('sqlite:')) {
      const path = chosen.slice('sqlite:'.length);
      if (path === ':memory:') return { kind: 'sqlite', text: 'SQLite in memory (this process only)' };
      const file = resolve(path);
      return { kind: 'sqlite', text: `SQLite file ${file}`, file };
    }
    if (isPostgresUrl(chosen)) return { kind: 'postgres', text: `PostgreSQL ${redactUrl(chosen)}` };
    return { kind: 'redis', text: `Redis ${redactUrl(chosen)}` };
  }
  if (isPostgresConnection(chosen)) {
    const config = ('options' in chosen ? chosen.options : chosen) as {
      connectionString?: string;
      host?: string;
      port?: number;
      database?: string;
    };
    const where = config.connectionString
      ? redactUrl(config.connectionString)
      : `${config.host ?? 'localhost'}:${config.port ?? 5432}${config.database ? `/${config.database}` : ''}`;
    return { kind: 'postgres', text: `PostgreSQL ${where}` };
  }
  const options = ('options' in chosen && typeof chosen.options === 'object' ? chosen.options : chosen) as RedisOptions;
  const where = options.path ?? `${options.host ?? 'localhost'}:${options.port ?? 6379}`;
  return { kind: 'redis', text: `Redis ${where}${options.db ? ` db ${options.db}` : ''}` };
}

/** True when `connection` names a SQLite file that does not exist yet (opening it would create it). */
export function wouldCreateSqliteFile(description: StoreDescription): boolean {
  return description.file !== undefined && !existsSync(description.file);
}
