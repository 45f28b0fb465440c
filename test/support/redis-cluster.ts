import { spawn } from 'node:child_process';
import { Cluster, type ClusterOptions, Redis } from 'ioredis';
import { freePort, RedisServer } from './redis-server.js';

/**
 * A throwaway Redis Cluster for tests and benchmarks: `masters` masters with one replica each, every
 * node a redis-server on free ports (the cluster bus port too, so nothing depends on port + 10000),
 * joined by `redis-cli --cluster create`. Each node keeps its nodes.conf in its own --dir.
 */
export class RedisCluster {
  readonly servers: RedisServer[] = [];
  private readonly taken = new Set<number>();
  private readonly busPorts = new Map<RedisServer, number>();

  constructor(private readonly masters = 3) {}

  /** The startup nodes for `new Cluster(...)`. */
  get nodes(): { host: string; port: number }[] {
    return this.servers.map((s) => ({ host: '127.0.0.1', port: s.port }));
  }

  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.masters * 2 }, () => this.startNode()));
    await redisCli(['--cluster', 'create', ...this.addresses(), '--cluster-replicas', '1', '--cluster-yes']);
    await this.waitUntilHealthy();
  }

  /** A client on the cluster (the caller closes it). */
  client(options: ClusterOptions = {}): Cluster {
    return new Cluster(this.nodes, options);
  }

  /**
   * Starts one more node and joins it (CLUSTER MEET) as a master without slots, a resharding's target;
   * returns its port. Unlike `redis-cli --cluster add-node`, MEET copies no functions to it.
   */
  async addMaster(): Promise<number> {
    const server = await this.startNode();
    const n = node(server.port);
    try {
      const first = this.servers[0];
      await n.call('CLUSTER', 'MEET', '127.0.0.1', first.port, this.busPorts.get(first) ?? first.port + 10000);
    } finally {
      n.disconnect();
    }
    await this.waitUntilHealthy();
    return server.port;
  }

  /** Moves `slot` and its keys to the master on `port`, as `redis-cli --cluster reshard` does slot by slot. */
  async moveSlot(slot: number, port: number): Promise<void> {
    const from = node(await this.masterOf(slot));
    const to = node(port);
    try {
      const [fromId, toId] = await Promise.all([from.call('CLUSTER', 'MYID'), to.call('CLUSTER', 'MYID')]);
      await to.call('CLUSTER', 'SETSLOT', slot, 'IMPORTING', String(fromId));
      await from.call('CLUSTER', 'SETSLOT', slot, 'MIGRATING', String(toId));
      for (;;) {
        const keys = (await from.call('CLUSTER', 'GETKEYSINSLOT', slot, 100)) as string[];
        if (keys.length === 0) break;
        await from.call('MIGRATE', '127.0.0.1', port, '', 0, 5000, 'KEYS', ...keys);
      }
      await to.call('CLUSTER', 'SETSLOT', slot, 'NODE', String(toId));
      await from.call('CLUSTER', 'SETSLOT', slot, 'NODE', String(toId));
    } finally {
      from.disconnect();
      to.disconnect();
    }
    await this.waitUntilHealthy();
  }

  /** Waits until every node answers cluster_state:ok, knows every node, and each replica is in sync. */
  async waitUntilHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (await this.healthy()) return;
      if (Date.now() > deadline) throw new Error('The test cluster did not become healthy in time');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The port of the master serving `slot`. */
  async masterOf(slot: number): Promise<number> {
    return portOf((await this.owner(slot)).master);
  }

  /** The port of the replica of the master serving `slot`. */
  async replicaOf(slot: number): Promise<number> {
    const { master, table } = await this.owner(slot);
    const replica = table.find((f) => /slave/.test(f[2]) && f[3] === master[0]);
    if (!replica) throw new Error(`No replica serves slot ${slot}:\n${table.map((f) => f.join(' ')).join('\n')}`);
    return portOf(replica);
  }

  async destroy(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.destroy()));
  }

  private addresses(): string[] {
    return this.servers.map((s) => `127.0.0.1:${s.port}`);
  }

  private async startNode(): Promise<RedisServer> {
    // Another process may bind a port between freePort and redis-server: try fresh ports then.
    for (let attempt = 1; ; attempt++) {
      const [port, busPort] = [await uniquePort(this.taken), await uniquePort(this.taken)];
      const server = new RedisServer(['--cluster-enabled', 'yes', '--cluster-port', String(busPort)]);
      server.port = port;
      try {
        await server.start();
        this.servers.push(server);
        this.busPorts.set(server, busPort);
        return server;
      } catch (err) {
        await server.destroy();
        if (attempt === 3 || !/Address already in use/.test(String(err))) throw err;
      }
    }
  }

  /** CLUSTER NODES as fields: <id> <ip:port@bus> <flags> <master id or -> <ping> <pong> <epoch> <link> <slots…>. */
  private async owner(slot: number): Promise<{ master: string[]; table: string[][] }> {
    const n = node(this.servers[0].port);
    try {
      const table = ((await n.call('CLUSTER', 'NODES')) as string)
        .trim()
        .split('\n')
        .map((line) => line.split(' '));
      const master = table.find(
        (f) =>
          /master/.test(f[2]) &&
          f.slice(8).some((range) => {
            const [low, high = low] = range.split('-').map(Number);
            return slot >= low && slot <= high;
          }),
      );
      if (!master) throw new Error(`No master serves slot ${slot}`);
      return { master, table };
    } finally {
      n.disconnect();
    }
  }

  private async healthy(): Promise<boolean> {
    const states = await Promise.all(
      this.servers.map(async (server) => {
        const n = new Redis(server.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
        n.on('error', () => {});
        try {
          const info = (await n.call('CLUSTER', 'INFO')) as string;
          const lines = ((await n.call('CLUSTER', 'NODES')) as string).trim().split('\n');
          const replication = await n.info('replication');
          return (
            /cluster_state:ok/.test(info) &&
            lines.length === this.servers.length &&
            lines.every((l) => / connected/.test(l) && !/fail|handshake|noaddr/.test(l.split(' ')[2])) &&
            (/role:master/.test(replication) || /master_link_status:up/.test(replication))
          );
        } catch {
          return false;
        } finally {
          n.disconnect();
        }
      }),
    );
    return states.every(Boolean);
  }
}

function node(port: number): Redis {
  return new Redis(port, '127.0.0.1');
}

function portOf(fields: string[]): number {
  return Number(fields[1].split('@')[0].split(':')[1]);
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

function redisCli(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const proc = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const collect = (c: Buffer) => {
      out += c.toString();
    };
    proc.stdout.on('data', collect);
    proc.stderr.on('data', collect);
    proc.once('error', reject);
    proc.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`redis-cli ${args.slice(0, 2).join(' ')} exited with ${code}:\n${out}`)),
    );
  });
}
