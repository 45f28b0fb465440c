import { describe, expect, it } from 'vitest';
import { Heartbeats } from '../../src/store/postgres/heartbeats.js';

/**
 * When the PostgreSQL store writes a worker's heartbeat (src/store/postgres/heartbeats.ts): the first
 * at once, later ones only when the row the stalled checks keep would lapse sooner than the heartbeat
 * would make it last. The end-to-end check of an idle worker: test/store/postgres-idle-queries.test.ts.
 */
const info = (heartbeat: number) => ({ id: 'w1', name: '', addr: 'h:1', started: 0, heartbeat });
const TTL = 30_000;

describe('PostgreSQL heartbeats folded into stalled checks', () => {
  it('writes the first heartbeat at once, and later ones only while no stalled check keeps the row', () => {
    const beats = new Heartbeats();
    expect(beats.beat('q', info(0), TTL)).toBe(true); // listed at once
    expect(beats.beat('q', info(10_000), TTL)).toBe(true); // no stalled check yet: written as before
    const check = beats.forStalledCheck('q', 5_000, 12_000)!;
    expect(JSON.parse(check.rows.ids)).toEqual(['w1']);
    expect(JSON.parse(check.rows.expires)).toEqual([12_000 + TTL + 10_000]);
    expect(JSON.parse(JSON.parse(check.rows.infos)[0]).heartbeat).toBe(12_000);
    // Until the check committed, heartbeats do not count on it.
    expect(beats.beat('q', info(20_000), TTL)).toBe(true);
    beats.forStalledCheck('q', 5_000, 21_000)!.committed(); // lasts until 61 000
    expect(beats.beat('q', info(30_000), TTL)).toBe(false);
    expect(beats.beat('q', info(31_000), TTL)).toBe(false);
    // The checks stopped: once the row would lapse before a heartbeat's 30 s, it is written again.
    expect(beats.beat('q', info(32_000), TTL)).toBe(true);
  });

  it('stops writing a worker that was forgotten, and lengthens nothing for a very long interval', () => {
    const beats = new Heartbeats();
    beats.beat('q', info(0), TTL);
    beats.forget('q', 'w1');
    expect(beats.forStalledCheck('q', 5_000, 1_000)).toBeUndefined();
    beats.beat('q', info(0), TTL);
    const check = beats.forStalledCheck('q', 600_000, 1_000)!;
    expect(JSON.parse(check.rows.expires)).toEqual([1_000 + TTL]);
  });

  it('writes a heartbeat that says something new at once (the jobs a busy worker runs)', () => {
    const beats = new Heartbeats();
    beats.beat('q', info(0), TTL);
    beats.forStalledCheck('q', 5_000, 1_000)!.committed();
    expect(beats.beat('q', info(10_000), TTL)).toBe(false);
    expect(beats.beat('q', { ...info(20_000), running: 1, runningIds: ['7'] } as never, TTL)).toBe(true);
    beats.forStalledCheck('q', 5_000, 21_000)!.committed();
    expect(beats.beat('q', { ...info(25_000), running: 1, runningIds: ['7'] } as never, TTL)).toBe(false);
    expect(beats.beat('q', info(26_000), TTL)).toBe(true); // idle again: said at once
  });
});
