import { spawn } from 'node:child_process';
import { Cluster, Redis } from 'ioredis';
import { freePort, RedisServer } from './redis-server.js';

/**
 * A throwaway Redis Cluster for tests and benchmarks: `masters` masters with one replica each, every
 * node a redis-server on free ports (the cluster bus port too, so nothing depends on port + 10000),
 * joined by `redis-cli --cluster create`. Each node keeps its nodes.conf in its own --dir.
 */
export class RedisCluster {
  readonly servers: RedisServer[] = [];

  constructor(private readonly masters = 3) {}

  /** The startup nodes for `new Cluster(...)`. */
  get nodes(): { host: string; port: number }[] {
    return this.servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
  }

  async start(): Promise<void> {
    const taken = new Set<number>();
    await Promise.all(
      Array.from({ length: this.masters * 2 }, async () => {
        // Another process may bind a port between freePort and redis-server: try fresh ports then.
        for (let attempt = 1; ; attempt++) {
          const [port, busPort] = [await uniquePort(taken), await uniquePort(taken)];
          const server = new RedisServer([
            '--cluster-enabled',
            'yes',
            '--cluster-port',
            String(busPort),
            '--cluster-node-timeout',
            '2000',
            // A replica may take over however long its link to the master was down.
            '--cluster-replica-validity-factor',
            '0',
          ]);
          server.port = port;
          try {
            await server.start();
            this.servers.push(server);
            return;
          } catch (err) {
            await server.destroy();
            if (attempt === 3 || !/Address already in use/.test(String(err))) throw err;
          }
        }
      }),
    );
    await createCluster(this.servers.map((s) => `127.0.0.1:${s.port}`));
    await this.waitUntilHealthy();
  }

  /** A client on the cluster (the caller closes it). */
  client(options: ConstructorParameters<typeof Cluster>[1] = {}): Cluster {
    return new Cluster(this.nodes, options);
  }

  /** Waits until every node answers cluster_state:ok and sees every master with its replica linked. */
  async waitUntilHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await this.healthy()) return;
      if (Date.now() > deadline) throw new Error('The test cluster did not become healthy in time');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async healthy(): Promise<boolean> {
    const states = await Promise.all(
      this.servers.map(async (server) => {
        const node = new Redis(server.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
        node.on('error', () => {});
        try {
          const info = (await node.call('CLUSTER', 'INFO')) as string;
          const nodes = (await node.call('CLUSTER', 'NODES')) as string;
          const lines = nodes.trim().split('\n');
          const masters = lines.filter((l) => / master /.test(l.replace(/myself,/, '')) && !/fail/.test(l));
          const replicas = lines.filter((l) => /slave/.test(l) && !/fail/.test(l));
          const connected = lines.every((l) => / connected/.test(l));
          const replication = await node.info('replication');
          const synced = /role:master/.test(replication) || /master_link_status:up/.test(replication);
          return (
            synced &&
            /cluster_state:ok/.test(info) &&
            masters.length === this.masters &&
            replicas.length === this.masters &&
            connected
          );
        } catch {
          return false;
        } finally {
          node.disconnect();
        }
      }),
    );
    return states.every(Boolean);
  }

  /** The port of the replica of the master serving `slot`. */
  async replicaOf(slot: number): Promise<number> {
    const node = new Redis(this.servers[0].port, '127.0.0.1');
    try {
      const lines = ((await node.call('CLUSTER', 'NODES')) as string).trim().split('\n');
      const fields = lines.map((line) => line.split(' '));
      // <id> <ip:port@bus> <flags> <master id or -> <ping> <pong> <epoch> <link> <slot ranges...>
      const master = fields.find(
        (f) =>
          /master/.test(f[2]) &&
          f.slice(8).some((range) => {
            const [from, to = from] = range.split('-').map(Number);
            return slot >= from && slot <= to;
          }),
      );
      const replica = master && fields.find((f) => /slave/.test(f[2]) && f[3] === master[0]);
      if (!replica) throw new Error(`No replica serves slot ${slot}:\n${lines.join('\n')}`);
      return Number(replica[1].split('@')[0].split(':')[1]);
    } finally {
      node.disconnect();
    }
  }

  async destroy(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.destroy()));
  }
}

/** A free port not handed out before in `taken` (the kernel may offer one twice before it is bound). */
async function uniquePort(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!taken.has(port)) {
      taken.add(port);
      return port;
    }
  }
}

function createCluster(addresses: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = ['--cluster', 'create', ...addresses, '--cluster-replicas', '1', '--cluster-yes'];
    const proc = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    proc.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    proc.once('error', reject);
    proc.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`redis-cli --cluster create exited with ${code}:\n${out}`)),
    );
  });
}
