import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { createDashboard, type DashboardOptions } from '../../src/dashboard/dashboard.js';

/**
 * `serve(opts)`: `createDashboard(opts)` under /admin of a plain node:http server, Express-style,
 * closed after each test. Call inside a describe body.
 */
export function useDashboards() {
  const opened: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((close) => close()));
  });

  async function serve(opts: DashboardOptions) {
    const dashboard = createDashboard(opts);
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const url = req.url ?? '/';
      if (url === '/admin' || url.startsWith('/admin/')) {
        Object.assign(req, { baseUrl: '/admin', url: url.slice('/admin'.length) || '/' });
        dashboard(req, res, () => {
          res.writeHead(418);
          res.end('host app');
        });
        return;
      }
      res.writeHead(200);
      res.end('host app');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/admin`;
    const close = async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dashboard.close();
    };
    opened.push(close);
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const res = await fetch(base + path, { headers });
      const text = await res.text();
      return { status: res.status, text, json: () => JSON.parse(text), headers: res.headers };
    };
    const post = async (path: string, body: unknown = {}) => {
      const res = await fetch(base + path, { method: 'POST', body: JSON.stringify(body) });
      return { status: res.status, json: await res.json() };
    };
    return { base, get, post, close };
  }
  return { serve };
}
