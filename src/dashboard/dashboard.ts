import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ValidationError } from '../errors.js';
import type { ConnectionOptions } from '../store/connect.js';
import { describeStore } from '../store/describe.js';
import { HttpError, jobAction, jobDetail, jobPage, queueAction, queueSummaries } from './api.js';
import { renderMetrics } from './metrics.js';
import { dashboardPage } from './page.js';
import { QueueRegistry } from './registry.js';

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

const MAX_BODY = 64 * 1024;

/** The web dashboard as middleware: mount it on any path of a `node:http`, Connect or Express server. */
export function createDashboard(opts: DashboardOptions = {}): DashboardHandler {
  const registry = new QueueRegistry(opts.connection, opts.prefix ?? 'bull', opts.queues);
  const readOnly = opts.readOnly ?? false;
  // Which store the page shows (header and `api/queues`): a wrong file or URL is seen at once.
  const store = describeStore(opts.connection).text;
  const handler = (req: IncomingMessage, res: ServerResponse, next?: (err?: unknown) => void) => {
    if (opts.basicAuth && !authorized(req, opts.basicAuth)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="docket", charset="UTF-8"', 'Content-Type': 'text/plain' });
      res.end('authentication required');
      return;
    }
    route(req, res, registry, { readOnly, store, basePath: opts.basePath }).then(
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
  return Object.assign(handler, { close: () => registry.close() });
}

function authorized(req: IncomingMessage, auth: { username: string; password: string }): boolean {
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Basic ')) return false;
  const given = Buffer.from(Buffer.from(header.slice(6), 'base64').toString('utf8'));
  const wanted = Buffer.from(`${auth.username}:${auth.password}`);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** Answers the request; false when no route matches. */
async function route(
  req: IncomingMessage,
  res: ServerResponse,
  registry: QueueRegistry,
  { readOnly, store, basePath }: { readOnly: boolean; store: string; basePath?: string },
): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://dashboard');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const method = req.method ?? 'GET';

  if (method === 'GET' && (parts.length === 0 || (parts.length === 1 && parts[0] === 'index.html'))) {
    const base = `${(basePath ?? (req as { baseUrl?: string }).baseUrl ?? '').replace(/\/$/, '')}/`;
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(dashboardPage(base, readOnly, store));
    return true;
  }
  if (method === 'GET' && parts.length === 1 && parts[0] === 'metrics') {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    res.end(await renderMetrics(registry));
    return true;
  }
  if (parts[0] !== 'api') return false;
  const [, resource, queue, sub, id, action] = parts;
  if (resource !== 'queues') return false;

  if (method === 'GET') {
    if (parts.length === 2) return sendJson(res, 200, { readOnly, store, ...(await queueSummaries(registry)) });
    if (parts.length === 4 && sub === 'jobs')
      return sendJson(res, 200, await jobPage(registry, queue, url.searchParams));
    if (parts.length === 5 && sub === 'jobs') return sendJson(res, 200, await jobDetail(registry, queue, id));
    return false;
  }
  if (method === 'POST') {
    if (readOnly) throw new HttpError(403, 'the dashboard is read-only');
    const body = await readBody(req);
    if (parts.length === 4) return sendJson(res, 200, await queueAction(registry, queue, sub, body));
    if (parts.length === 6 && sub === 'jobs') {
      const reason = typeof body.reason === 'string' ? body.reason : undefined;
      return sendJson(res, 200, await jobAction(registry, queue, id, action, reason));
    }
    return false;
  }
  throw new HttpError(405, `method ${method} not allowed`);
}

function sendJson(res: ServerResponse, status: number, value: unknown): true {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(body);
  return true;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const preparsed = (req as { body?: unknown }).body;
  if (preparsed && typeof preparsed === 'object') return preparsed as Record<string, unknown>;
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try {
    const value = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new HttpError(400, 'request body must be a JSON object');
}
