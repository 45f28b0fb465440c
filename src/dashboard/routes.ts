import type { IncomingMessage, ServerResponse } from 'node:http';
import { jobAction, queueAction } from './actions.js';
import type { CountsCache } from './counts-cache.js';
import { HttpError, readBody, sendHtml, sendJson } from './http.js';
import { jobDetail } from './job-detail.js';
import { jobList } from './job-list.js';
import { renderMetrics } from './metrics.js';
import { queueSummaries } from './overview.js';
import { queueInfo } from './queue-info.js';
import type { QueueRegistry } from './registry.js';
import type { StalledTracker } from './stalled-tracker.js';
import type { ThroughputReader } from './throughput.js';
import { renderPage } from './ui/page.js';

/** What the routes share: the queues, the overview's readers and the dashboard's settings. */
export interface RouteContext {
  registry: QueueRegistry;
  throughput: ThroughputReader;
  stalled: StalledTracker;
  counted: CountsCache;
  readOnly: boolean;
  store: string;
  basePath?: string;
}

/**
 * Pages: `/` (overview), `queues/<q>` (one queue), `queues/<q>/jobs/<id>` (one job, a deep link).
 * JSON API under `api/queues`; actions are POSTs, refused (403) when read-only. False when no route matches.
 */
export async function route(req: IncomingMessage, res: ServerResponse, ctx: RouteContext): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://dashboard');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const method = req.method ?? 'GET';
  const { registry, readOnly, store } = ctx;

  if (method === 'GET' && parts[0] !== 'api') {
    const base = `${(ctx.basePath ?? (req as { baseUrl?: string }).baseUrl ?? '').replace(/\/$/, '')}/`;
    const page = { base, readOnly, store };
    if (parts.length === 0 || (parts.length === 1 && parts[0] === 'index.html'))
      return sendHtml(res, renderPage({ ...page, view: { kind: 'overview' } }));
    if (parts.length === 2 && parts[0] === 'queues')
      return sendHtml(res, renderPage({ ...page, view: { kind: 'queue', queue: parts[1] } }));
    if (parts.length === 4 && parts[0] === 'queues' && parts[2] === 'jobs')
      return sendHtml(res, renderPage({ ...page, view: { kind: 'job', queue: parts[1], id: parts[3] } }));
    if (parts.length === 1 && parts[0] === 'metrics') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(await renderMetrics(registry));
      return true;
    }
    return false;
  }
  if (parts[0] !== 'api' || parts[1] !== 'queues') return false;
  const [, , queue, sub, id, action] = parts;

  if (method === 'GET') {
    if (parts.length === 2) {
      return sendJson(res, 200, {
        readOnly,
        store,
        ...(await queueSummaries(registry, ctx.throughput, ctx.stalled, ctx.counted)),
      });
    }
    if (parts.length === 3) return sendJson(res, 200, await queueInfo(registry, ctx.counted, queue));
    if (parts.length === 4 && sub === 'jobs')
      return sendJson(res, 200, await jobList(registry, ctx.counted, queue, url.searchParams));
    if (parts.length === 5 && sub === 'jobs') return sendJson(res, 200, await jobDetail(registry, queue, id, readOnly));
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
