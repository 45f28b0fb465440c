import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, Worker } from '../../src/index.js';
import { freePort, RedisServer } from '../support/redis-server.js';
import { queueName, until } from '../support/stores.js';

/** A self-signed certificate for 127.0.0.1, made with the openssl command line. */
function makeCertificate(): { dir: string; ok: boolean } {
  const dir = mkdtempSync(join(tmpdir(), 'docket-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { dir, ok: true };
  } catch {
    return { dir, ok: false };
  }
}

const cert = makeCertificate();

// Skipped by name, with the reason, where the machine has no openssl to make a certificate.
describe.skipIf(!cert.ok)('Redis over TLS (rediss)', () => {
  let server: RedisServer;
  let tlsPort = 0;
  beforeAll(async () => {
    tlsPort = await freePort();
    const pem = (f: string) => join(cert.dir, f);
    server = new RedisServer([
      '--port',
      '0',
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      pem('cert.pem'),
      '--tls-key-file',
      pem('key.pem'),
      '--tls-ca-cert-file',
      pem('cert.pem'),
      '--tls-auth-clients',
      'no',
      '--requirepass',
      'tls-secret',
    ]);
    await server.start();
  });
  afterAll(() => server.destroy());

  it('adds and processes jobs through ioredis TLS options, with AUTH', async () => {
    const connection = {
      host: '127.0.0.1',
      port: tlsPort,
      password: 'tls-secret',
      tls: { ca: readFileSync(join(cert.dir, 'cert.pem')) },
    };
    const name = queueName();
    const queue = new Queue(name, { connection });
    const worker = new Worker(name, async (job) => job.data.n * 2, { connection, drainDelay: 1 });
    try {
      await queue.add('x', { n: 21 });
      await until(async () => (await queue.getJobState('1')) === 'completed', 15_000, 'the job over TLS');
      expect((await queue.getJob('1'))?.returnvalue).toBe(42);
    } finally {
      await worker.close();
      await queue.close();
    }
  });

  it('refuses a plain connection to the TLS port without leaking the password', async () => {
    const queue = new Queue(queueName(), {
      connection: {
        host: '127.0.0.1',
        port: tlsPort,
        password: 'tls-secret',
        maxRetriesPerRequest: 1,
        connectTimeout: 500,
      },
    });
    queue.on('error', () => undefined);
    try {
      const err = await queue.add('x', {}).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err).toBeInstanceOf(Error);
      expect(JSON.stringify({ message: err?.message, stack: err?.stack })).not.toContain('tls-secret');
    } finally {
      await queue.close();
    }
  });

  it('connects with a rediss:// URL', () => {
    const child = new URL('../support/tls-url-child.ts', import.meta.url).pathname;
    const out = spawnSync(process.execPath, ['--import', 'tsx', child, `rediss://:tls-secret@127.0.0.1:${tlsPort}`], {
      encoding: 'utf8',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: join(cert.dir, 'cert.pem') },
      timeout: 30_000,
    });
    expect(out.stdout).toBe('OK');
    expect(`${out.stdout}${out.stderr}`).not.toContain('tls-secret');
  });
});
