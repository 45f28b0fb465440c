/**
 * When the SQL stores trim a queue's event log (BullMQ's `streams.events.maxLen`, kept per queue in
 * `queues.max_events`): a process trims the logs it writes once it has written TRIM_EVERY events since its
 * last trim, or sooner when a queue it knows of has a smaller cap — known from a Queue it opened or a
 * trim that read the row — never below 100 events (a trim per commit would cost more than it keeps).
 */
export const TRIM_EVERY = 5000;

export class EventCaps {
  /** Caps below the default, by queue. */
  private readonly small = new Map<string, number>();

  constructor(private readonly defaultCap: number) {}

  /** Events since the last trim at which the process trims. */
  threshold(): number {
    let at = TRIM_EVERY;
    for (const cap of this.small.values()) at = Math.min(at, Math.max(100, cap));
    return at;
  }

  /** Notes a queue's cap (read from or written to its row). */
  note(queue: string, cap: number): void {
    if (cap < this.defaultCap) this.small.set(queue, cap);
    else this.small.delete(queue);
  }

  /** Queues with a cap below the default: trimmed at every trim, written to or not. */
  queues(): string[] {
    return [...this.small.keys()];
  }
}
