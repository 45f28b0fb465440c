import type { TestProject } from 'vitest/node';
import { RedisServer } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/** One throwaway redis-server for the whole run; every test uses its own queue names. */
export default async function setup(project: TestProject) {
  const server = new RedisServer();
  await server.start();
  project.provide('redisUrl', server.url);
  return async () => {
    await server.destroy();
  };
}
