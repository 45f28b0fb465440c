import type { Cluster, Redis } from 'ioredis';
import { ValidationError } from '../../errors.js';

/**
 * What Redis Cluster changes for Docket. Every script works on the keys of one slot, built inside
 * the script from the queue's `<q>:` prefix (as BullMQ's scripts do), so on a Cluster a queue's
 * qualified name must carry one `{hash tag}`, and every queue of a flow the same slot. Reads that
 * span the keyspace (SCAN, CONFIG GET) and the Functions library go to every master.
 */

/** The client a RedisStore talks through: one server, or a Cluster. */
export type RedisClient = Redis | Cluster;

export function isCluster(client: RedisClient): client is Cluster {
  return (client as Cluster).isCluster === true;
}

/** The hash tag Redis hashes `key` by: the text between the first `{` and the next `}`, if not empty. */
export function hashTag(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open < 0) return undefined;
  const close = key.indexOf('}', open + 1);
  if (close <= open + 1) return undefined;
  return key.slice(open + 1, close);
}

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[i] = crc & 0xffff;
  }
  return table;
})();

/** The cluster slot of `key` (CRC16/XMODEM of its hash tag, or of the whole key, mod 16384). */
export function keySlot(key: string): number {
  const bytes = Buffer.from(hashTag(key) ?? key);
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff];
  return crc % 16384;
}

/** Throws when the keys of queue `queue` (`<prefix>:<name>`) would spread over several slots. */
export function checkQueueSlot(queue: string): void {
  // Every key of the queue starts with `<q>:`: a tag complete within that prefix holds them together.
  if (hashTag(`${queue}:`) !== undefined) return;
  // A queue name holds no ':' (a prefix may): the name follows the last one.
  const colon = queue.lastIndexOf(':');
  const [prefix, name] = colon < 0 ? [queue, ''] : [queue.slice(0, colon), queue.slice(colon + 1)];
  throw new ValidationError(
    `Queue "${queue}" cannot run on Redis Cluster: its keys need one {hash tag} to live in one slot. ` +
      `Put the tag in the prefix (prefix: '{${prefix}}') or in the queue name ('{${name}}'), as with BullMQ.`,
  );
}

/** On a Cluster, throws when the queues of one flow (or of a child and its parent) live in different slots. */
export function checkSameSlot(client: RedisClient, queues: Iterable<string>, what: string): void {
  if (!isCluster(client)) return;
  let first: string | undefined;
  for (const queue of queues) {
    checkQueueSlot(queue);
    if (first === undefined) first = queue;
    else if (keySlot(`${queue}:`) !== keySlot(`${first}:`)) {
      throw new ValidationError(
        `${what} spans queues "${first}" and "${queue}", which Redis Cluster keeps in different slots: ` +
          'a parent and its children are moved in one step, so their queues must share one {hash tag} ' +
          `(e.g. prefix: '{${hashTag(`${first}:`)}}' for all of them).`,
      );
    }
  }
}

/**
 * The servers holding the data: every master of a Cluster (after it is connected), or the one server.
 * Commands without keys (FUNCTION LOAD, SCAN, CONFIG GET, INFO) reach only a random node of a Cluster,
 * so Docket sends them to each of these.
 */
export async function masters(client: RedisClient): Promise<Redis[]> {
  if (!isCluster(client)) return [client];
  // A command waits in the offline queue until the Cluster has read its slots and nodes.
  if (client.status !== 'ready') await client.call('PING');
  return client.nodes('master');
}

/** The master serving `key`'s slot by the client's slot map, if it knows one. */
export function masterOf(client: Cluster, key: string): Redis | undefined {
  const address = client.slots[keySlot(key)]?.[0];
  return client.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === address);
}

/** `host:port` of a server, for messages. */
export function addressOf(node: Redis): string {
  return `${node.options.host ?? 'localhost'}:${node.options.port ?? 6379}`;
}

/**
 * Runs SCAN with `pattern` over every master (one server: just it) and hands each batch of keys to
 * `visit`, which answers true to stop.
 */
export async function scanAll(
  client: RedisClient,
  pattern: string,
  visit: (keys: string[]) => Promise<boolean>,
  count = 1000,
): Promise<void> {
  for (const node of await masters(client)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (await visit(keys)) return;
    } while (cursor !== '0');
  }
}
