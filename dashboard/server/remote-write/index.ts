// Prometheus remote write from the hub: one sender per destination over the durable outbox
// (dashboard/store/remote-write-queue.ts), and the keeper that deletes rows every destination
// has had accepted and enforces the queue's size and age cap, with what it drops counted.
// The hub starts this after its store opens and stops it on close (nothing is flushed: what
// is queued stays queued for the next start).
import type { RemoteWriteStatus } from '../../../shared/live.js';
import type { Logger } from '../../../shared/log.js';
import { EDGEWATCH_VERSION } from '../../../shared/version.js';
import { OUTBOX_DELETE_LIMIT, type Backlog, type RemoteWriteQueue } from '../../store/remote-write-queue.js';
import type { Store } from '../../store/store.js';
import type { Destination } from './config.js';
import { Sender, type DeviceDirectory, type DeviceInfo } from './sender.js';
import { backlogOf, DestinationStats } from './status.js';

export { resolveDestinations, RemoteWriteConfigSchema, type Destination, type RemoteWriteConfig } from './config.js';

/** How big and how old the queue may grow while a destination does not accept. */
export interface RemoteWriteQueueLimits {
  /** Bytes of queued samples; beyond, the oldest rows go (counted as failed, "queue full"). */
  maxBytes: number;
  /** Hub-clock age of the oldest queued batch; older rows go the same way. */
  maxAgeMs: number;
  /** How often the cap is checked and accepted rows are deleted. */
  checkEveryMs: number;
}

export const DEFAULT_QUEUE_LIMITS: RemoteWriteQueueLimits = { maxBytes: 1024 ** 3, maxAgeMs: 3 * 86_400_000, checkEveryMs: 10_000 };
/** A keeper pass deletes for at most this long before it leaves the rest to the next pass. */
const PRUNE_BUDGET_MS = 50;

export interface RemoteWrite {
  /** Per destination, in configuration order; empty without destinations. */
  status(): RemoteWriteStatus[];
  stop(): Promise<void>;
}

export interface RemoteWriteOptions {
  store: Store;
  destinations: readonly Destination[];
  log: Logger;
  version?: string;
  queue?: Partial<RemoteWriteQueueLimits>;
  /** How often an idle sender polls the queue (it is also woken by each commit). */
  pollMs?: number;
}

export function startRemoteWrite(opts: RemoteWriteOptions): RemoteWrite {
  if (opts.destinations.length === 0) return { status: () => [], stop: async () => {} };
  const queue = opts.store.remoteWriteQueue;
  if (!queue) throw new Error('remote write needs the store opened with StoreOptions.remoteWrite: true (nothing would be queued)');
  const { log } = opts;
  const limits = { ...DEFAULT_QUEUE_LIMITS, ...opts.queue };
  const devices = new StoreDevices(opts.store);
  const userAgent = `edgewatch/${opts.version ?? EDGEWATCH_VERSION}`;
  const senders = opts.destinations.map(
    (dest) => new Sender(dest, queue, devices, new DestinationStats(dest), log, { userAgent, ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}) }),
  );
  const unsubscribe = queue.onAppend(() => {
    for (const s of senders) s.wake();
  });
  for (const s of senders) {
    s.start();
    log.info({ destination: s.dest.name, url: s.dest.displayUrl, pending: backlogOf(queue, s.dest.name).values }, 'remote write: sending to this destination');
  }
  const keeper = setInterval(() => keep(queue, senders, limits, log), limits.checkEveryMs);
  keeper.unref();
  let stopped = false;
  return {
    status: () => senders.map((s) => snapshot(s, queue)),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(keeper);
      unsubscribe();
      await Promise.all(senders.map((s) => s.stop()));
    },
  };
}

function snapshot(s: Sender, queue: RemoteWriteQueue): RemoteWriteStatus {
  let backlog: Backlog | null = null;
  try {
    backlog = backlogOf(queue, s.dest.name);
  } catch {
    // The database is closed or unreadable: the counters still tell most of the story.
  }
  return s.stats.snapshot(backlog);
}

/** One keeper pass: the cap first (it moves cursors), then deleting what every destination is past. */
function keep(queue: RemoteWriteQueue, senders: readonly Sender[], limits: RemoteWriteQueueLimits, log: Logger): void {
  try {
    const now = Date.now();
    const cutoff = queue.capCutoff(limits.maxBytes, limits.maxAgeMs, now);
    if (cutoff) {
      const size = queue.size();
      const dropped = queue.transaction(() =>
        senders.map((s) => {
          const cursor = queue.cursor(s.dest.name);
          if (cursor.lastId >= cutoff.id) return 0;
          const n = queue.valuesBetween(cursor.lastId, cutoff.id);
          queue.advance(s.dest.name, cutoff.id, cutoff.receivedAt, now);
          return n;
        }),
      );
      senders.forEach((s, i) => {
        const n = dropped[i]!;
        if (n === 0) return;
        s.skipTo(cutoff.id);
        s.stats.failed += n;
        const why =
          `queue full: dropped ${n} queued samples not yet accepted by ${s.dest.name} ` +
          `(the queue held ${size.bytes} bytes, oldest from ${size.oldestReceivedAt === null ? '?' : new Date(size.oldestReceivedAt).toISOString()}; ` +
          `limits ${limits.maxBytes} bytes, ${Math.round(limits.maxAgeMs / 3_600_000)} h): make the receiver accept, or raise remoteWriteQueue.maxBytes / maxAge`;
        s.stats.error(why, now);
        log.warn({ destination: s.dest.name, dropped: n, queueBytes: size.bytes, maxBytes: limits.maxBytes, maxAgeMs: limits.maxAgeMs }, why);
      });
    }
    // Rows every configured destination is past. Bounded slices within a small time budget:
    // each is its own short transaction, and ingest gets the lock between them.
    const upTo = Math.min(...senders.map((s) => queue.cursor(s.dest.name).lastId));
    const until = performance.now() + PRUNE_BUDGET_MS;
    while (upTo > 0 && queue.deleteUpTo(upTo) === OUTBOX_DELETE_LIMIT && performance.now() < until);
  } catch (err) {
    log.warn({ err }, 'remote write: trimming the queue failed; will try again at the next check');
  }
}

/** Device identities by num, re-read every few seconds (renames) and when an unknown num shows up. */
class StoreDevices implements DeviceDirectory {
  private byNum = new Map<number, DeviceInfo>();
  private readAt = 0;
  /** Nums not found even after a re-read, and when: not looked for again for a while. */
  private readonly missing = new Map<number, number>();

  constructor(private readonly store: Store) {}

  get(num: number): DeviceInfo | undefined {
    const now = Date.now();
    const known = this.byNum.get(num);
    const missedAt = this.missing.get(num);
    if (now - this.readAt > 10_000 || (known === undefined && (missedAt === undefined || now - missedAt > 10_000))) {
      this.byNum = new Map(this.store.listDevices().map((d) => [d.num, { id: d.id, name: d.name }]));
      this.readAt = now;
      if (!this.byNum.has(num)) this.missing.set(num, now);
      else this.missing.delete(num);
    }
    return this.byNum.get(num);
  }
}
