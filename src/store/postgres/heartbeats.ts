import type { WorkerInfo } from '../store.js';

/**
 * A stalled check past this interval does not lengthen heartbeats: a worker gone for good would
 * stay listed for too long (two intervals).
 */
const MAX_FOLDED_INTERVAL_MS = 120_000;

interface Beat {
  info: WorkerInfo;
  /** The info last stored, without its time: a heartbeat that says something new is written at once. */
  stored: string;
  ttlMs: number;
  /** When the stored row lapses (epoch ms, as WorkerInfo.heartbeat). */
  expires: number;
}

/** The rows a stalled check writes (FOLDED_HEARTBEATS), as JSON arrays. */
export type HeartbeatRows = {
  ids: string;
  infos: string;
  expires: string;
};

/**
 * The heartbeats of this process's Workers and QueueEvents, per queue, so that an idle worker's
 * only periodic query is its stalled check (issue 19: a serverless PostgreSQL sleeps between
 * queries). A worker writes its heartbeat every 10 s (src/worker/heartbeat.ts); here the first one
 * of an id is written at once (getWorkers lists it right away), and each stalled check of the
 * queue writes all of them again in its own transaction, lasting until two more intervals passed.
 * A later heartbeat is then written only when the stored row would lapse sooner than that heartbeat
 * would make it last, i.e. when stalled checks stopped (no checker runs, or one was closed), or when
 * it says something new (the jobs a busy worker runs, which the dashboard lists): the registry is
 * never shorter-lived nor staler than with a write per heartbeat, and an idle worker writes nothing.
 */
export class Heartbeats {
  private readonly byQueue = new Map<string, Map<string, Beat>>();

  /** Keeps `info`; true when it must be written now (see the class). */
  beat(queue: string, info: WorkerInfo, ttlMs: number): boolean {
    let beats = this.byQueue.get(queue);
    if (!beats) {
      beats = new Map();
      this.byQueue.set(queue, beats);
    }
    const known = beats.get(info.id);
    const expires = info.heartbeat + ttlMs;
    const said = JSON.stringify({ ...info, heartbeat: 0 });
    if (known && known.expires >= expires && known.stored === said) {
      known.info = info;
      known.ttlMs = ttlMs;
      return false;
    }
    beats.set(info.id, { info, stored: said, ttlMs, expires });
    return true;
  }

  forget(queue: string, id: string): void {
    const beats = this.byQueue.get(queue);
    beats?.delete(id);
    if (beats?.size === 0) this.byQueue.delete(queue);
  }

  /**
   * The heartbeats of `queue` as a stalled check every `intervalMs` writes them (FOLDED_HEARTBEATS),
   * and what to call once its transaction committed: only then do later heartbeats count on them.
   */
  forStalledCheck(
    queue: string,
    intervalMs: number,
    now: number,
  ): { rows: HeartbeatRows; committed: () => void } | undefined {
    const beats = this.byQueue.get(queue);
    if (!beats || beats.size === 0) return undefined;
    const extra = intervalMs <= MAX_FOLDED_INTERVAL_MS ? 2 * intervalMs : 0;
    const written = [...beats.values()].map((b) => ({
      info: { ...b.info, heartbeat: now },
      expires: now + b.ttlMs + extra,
    }));
    return {
      rows: {
        ids: JSON.stringify(written.map((w) => w.info.id)),
        infos: JSON.stringify(written.map((w) => JSON.stringify(w.info))),
        expires: JSON.stringify(written.map((w) => w.expires)),
      },
      committed: () => {
        for (const w of written) {
          const beat = this.byQueue.get(queue)?.get(w.info.id);
          if (beat) beat.expires = Math.max(beat.expires, w.expires);
        }
      },
    };
  }
}
