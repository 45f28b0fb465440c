import type { TestProject } from 'vitest/node';
import { PostgresDatabase } from './postgres-database.js';
import { RedisServer } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    postgresUrl: string;
  }
}

/**
 * One throwaway redis-server and one fresh PostgreSQL database for the whole run; every test uses
 * its own queue names. The database's schema is created once, by the first store that opens it.
 */
export default async function setup(project: TestProject) {
  const server = new RedisServer();
  const database = new PostgresDatabase();
  await Promise.all([server.start(), database.create()]);
  project.provide('redisUrl', server.url);
  project.provide('postgresUrl', database.url);
  return async () => {
    await Promise.all([server.destroy(), database.drop()]);
  };
}
