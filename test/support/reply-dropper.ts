import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy in front of a redis-server that can lose one reply, as a network failure right after
 * Redis ran a command would: `dropReplyTo(marker)` arms it, and on the next connection that sends a
 * command containing `marker` (e.g. a script's name), the reply is dropped and the client's
 * connection cut. ioredis then reconnects through the proxy and resends the command.
 */
export class ReplyDropper {
  private server?: Server;
  private readonly sockets = new Set<Socket>();
  private armed?: { marker: string; dropped: () => void };
  port = 0;

  constructor(private readonly redisPort: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((client) => this.pipe(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
  }

  /** Drops the reply to the next command containing `marker`; resolves once it was dropped. */
  dropReplyTo(marker: string): Promise<void> {
    return new Promise((resolve) => {
      this.armed = { marker, dropped: resolve };
    });
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private pipe(client: Socket): void {
    const upstream = connect(this.redisPort, '127.0.0.1');
    this.sockets.add(client).add(upstream);
    let drop: (() => void) | undefined;
    const cut = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('data', (chunk: Buffer) => {
      const armed = this.armed;
      if (armed && chunk.includes(armed.marker)) {
        this.armed = undefined;
        drop = armed.dropped;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (drop) {
        // Redis ran the command and answered: the answer is lost with the connection.
        cut();
        drop();
        return;
      }
      client.write(chunk);
    });
    client.on('error', cut).on('close', cut);
    upstream.on('error', cut).on('close', cut);
  }
}
