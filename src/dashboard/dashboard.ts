import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ValidationError } from '../errors.js';
import type { ConnectionOptions } from '../store/connect.js';
import { describeStore } from '../store/describe.js';
import { CountsCache } from './counts-cache.js';
import { HttpError, sendJson } from './http.js';
import { QueueRegistry } from './registry.js';
import { route } from './routes.js';
import { StalledTracker } from './stalled-tracker.js';
import { ThroughputReader } from './throughput.js';

export interface DashboardOptions {
  /** Where the queues live, as for a Queue (default: DOCKET_URL, else `sqlite:./docket.db`). */
  connection?: ConnectionOptions;
  /** Key prefix / namespace (default `bull`). */
  prefix?: string;
  /** Refuse every action (POST answers 403); the page hides the buttons. */
  readOnly?: boolean;
  /** Require HTTP basic auth with these credentials. */
  basicAuth?: { username: string; password: string };
  /** Queues always shown, besides those the store lists. */
  queues?: string[];
  /** Path the dashboard is mounted at when the host strips it without setting `req.baseUrl` (Express sets it). */
  basePath?: string;
}

/** A `node:http` (and Connect/Express) handler; `close()` closes the queues it opened. */
export type DashboardHandler = ((req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => void) & {
  close(): Promise<void>;
};

/** The web dashboard as middleware: mount it on any path of a `node:http`, Connect or Express server. */
export function createDashboard(opts: DashboardOptions = {}): DashboardHandler {
  const registry = new QueueRegistry(opts.connection, opts.prefix ?? 'bull', opts.queues);
  const readOnly = opts.readOnly ?? false;
  // Which store the page shows (header and `api/queues`): a wrong file or URL is seen at once.
  const store = describeStore(opts.connection).text;
  const throughput = new ThroughputReader();
  const stalled = new StalledTracker();
  const counted = new CountsCache();
  const handler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => {
    if (opts.basicAuth && !authorized(req, opts.basicAuth)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="docket", charset="UTF-8"', 'Content-Type': 'text/plain' });
      res.end('authentication required');
      return;
    }
    route(req, res, { registry, throughput, stalled, counted, readOnly, store, basePath: opts.basePath }).then(
      (handled) => {
        if (handled) return;
        if (next) next();
        else sendJson(res, 404, { error: 'not found' });
      },
      (err: unknown) => {
        const status = err instanceof HttpError ? err.status : err instanceof ValidationError ? 400 : 500;
        if (!res.headersSent) sendJson(res, status, { error: err instanceof Error ? err.message : String(err) });
        else res.end();
      },
    );
  };
  return Object.assign(handler, {
    close: () => {
      stalled.close();
      return registry.close();
    },
  });
}

function authorized(req: IncomingMessage, auth: { username: string; password: string }): boolean {
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Basic ')) return false;
  const given = Buffer.from(Buffer.from(header.slice(6), 'base64').toString('utf8'));
  const wanted = Buffer.from(`${auth.username}:${auth.password}`);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}
