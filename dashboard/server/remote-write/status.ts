// Per-destination counters since the hub started, and the RemoteWriteStatus (shared/live.ts)
// built from them plus what the durable queue still holds behind the destination's cursor.
import type { RemoteWriteStatus } from '../../../shared/live.js';
import type { Backlog, RemoteWriteQueue } from '../../store/remote-write-queue.js';
import type { Destination } from './config.js';

export class DestinationStats {
  sent = 0;
  failed = 0;
  retries = 0;
  lastError: string | null = null;
  lastErrorAt: number | null = null;
  lastSentAt: number | null = null;

  constructor(readonly dest: Destination) {}

  error(message: string, now: number = Date.now()): void {
    this.lastError = message;
    this.lastErrorAt = now;
  }

  /**
   * The status as the API reports it, with what the queue holds behind this destination's
   * cursor (null when the queue cannot be read: pending 0 then, the counters still tell).
   * `pending` counts the values queued after the cursor before this destination's
   * include/exclude/devices filters, which are applied as it sends.
   */
  snapshot(backlog: Backlog | null): RemoteWriteStatus {
    return {
      name: this.dest.name,
      url: this.dest.displayUrl,
      sent: this.sent,
      pending: backlog?.values ?? 0,
      failed: this.failed,
      retries: this.retries,
      lastError: this.lastError,
      lastErrorAt: this.lastErrorAt,
      lastSentAt: this.lastSentAt,
      lagSeconds: Math.round((backlog?.lagMs ?? 0) / 100) / 10,
    };
  }
}

/** What the queue holds behind a destination's cursor. */
export function backlogOf(queue: RemoteWriteQueue, destination: string): Backlog {
  const cursor = queue.cursor(destination);
  return queue.backlog(cursor.lastId);
}
