import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDashboard, type DashboardOptions } from './dashboard.js';

export interface StartOptions extends DashboardOptions {
  /** 0 picks a free port. */
  port: number;
  host?: string;
}

/** Serves the dashboard on its own `node:http` server (what `docket dashboard` runs). */
export async function startDashboard(
  opts: StartOptions,
): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const handler = createDashboard(opts);
  const server = createServer(handler);
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await handler.close();
    },
  };
}
