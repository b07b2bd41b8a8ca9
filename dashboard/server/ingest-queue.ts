// Group commit: batches that arrive in the same event-loop turn, from any number of agents,
// are written in one SQLite transaction (one fsync), and each caller learns the outcome
// only after that transaction has committed. That is what makes "ack after commit" cheap
// at 100 agents.
//
// Disk trouble (full, read-only, I/O errors): a failed commit stores nothing and acks nothing.
// The queue then stops trying real commits, says so once (loudly, with what to do), refuses
// new batches at once with StoreUnavailableError (agents keep them and resend), and probes
// with a small write every few seconds; when a probe commits, acking resumes by itself.
import type { Logger } from '../../shared/log.js';
import { sqliteCode, type BatchToCommit, type CommitOutcome, type Store } from '../store/store.js';

interface Pending {
  item: BatchToCommit;
  resolve: (outcome: CommitOutcome) => void;
  reject: (err: Error) => void;
}

export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

/** Whether the hub can save data right now; what /healthz and the live feed report. */
export interface WriteStatus {
  writable: boolean;
  /** Why not, for people (null while writable). */
  reason: string | null;
  /** SQLite's error code, e.g. SQLITE_FULL. */
  code: string | null;
  /** Hub clock (ms) since when writes fail. */
  since: number | null;
}

export interface IngestQueueOptions {
  maxPerTransaction?: number;
  /** How often a failing store is probed with a small write; default 3 s. */
  probeEveryMs?: number;
}

export class IngestQueue {
  private pending: Pending[] = [];
  private scheduled = false;
  private status: WriteStatus = { writable: true, reason: null, code: null, since: null };
  private probeTimer: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<(s: WriteStatus) => void>();
  private readonly maxPerTransaction: number;
  private readonly probeEveryMs: number;
  private closed = false;
  /** Batches committed since start (duplicates excluded), for /healthz and benchmarks. */
  committedBatches = 0;
  committedSamples = 0;
  /** Batches refused with store_unavailable since start. */
  refusedBatches = 0;
  /** Samples refused (agent-socket) because they lay > 10 min in the hub's future after clock correction. */
  futureSamplesRejected = 0;

  constructor(
    private readonly store: Store,
    private readonly log: Logger,
    opts: IngestQueueOptions | number = {},
  ) {
    const o = typeof opts === 'number' ? { maxPerTransaction: opts } : opts;
    this.maxPerTransaction = o.maxPerTransaction ?? 1000;
    this.probeEveryMs = o.probeEveryMs ?? 3000;
  }

  /** Resolves once the batch is committed (or recognised as already committed). */
  submit(item: BatchToCommit): Promise<CommitOutcome> {
    if (!this.status.writable) {
      this.refusedBatches++;
      return Promise.reject(this.unavailable());
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** True while writes fail (disk full, read-only): the hub is not acking. */
  get writesFailing(): boolean {
    return !this.status.writable;
  }

  get writeStatus(): WriteStatus {
    return { ...this.status };
  }

  /** Called with the new status whenever writes start failing or work again. */
  onStatusChange(fn: (s: WriteStatus) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Another write (e.g. a hello) failed: treat it like a failed commit. */
  writeFailed(err: unknown, what: string): void {
    this.enterFailing(err, what);
  }

  close(): void {
    this.closed = true;
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
  }

  private unavailable(): StoreUnavailableError {
    return new StoreUnavailableError(
      `the hub cannot save data right now (${this.status.reason ?? 'database write failed'}); keep the batch and resend it later`,
    );
  }

  private flush(): void {
    this.scheduled = false;
    while (this.pending.length > 0) {
      const group = this.pending.splice(0, this.maxPerTransaction);
      if (!this.status.writable) {
        this.refusedBatches += group.length;
        for (const p of group) p.reject(this.unavailable());
        continue;
      }
      let outcomes: CommitOutcome[];
      try {
        outcomes = this.store.commitBatches(group.map((p) => p.item));
      } catch (err) {
        // Nothing of this group was stored (the transaction rolled back). The agents keep
        // these batches and resend them.
        this.enterFailing(err, `committing ${group.length} batch(es)`);
        this.refusedBatches += group.length;
        for (const p of group) p.reject(this.unavailable());
        continue;
      }
      group.forEach((p, i) => {
        const outcome = outcomes[i]!;
        if (outcome.stored) {
          this.committedBatches++;
          this.committedSamples += p.item.samples.length;
        }
        p.resolve(outcome);
      });
    }
  }

  private enterFailing(err: unknown, what: string): void {
    if (!this.status.writable) return;
    const code = sqliteCode(err) ?? null;
    const reason = describeWriteError(err);
    this.status = { writable: false, reason, code, since: Date.now() };
    // Once, loudly: the path and what to do. The probe says when it is over.
    this.log.error(
      { err, code, db: this.store.path, during: what, probeEveryMs: this.probeEveryMs },
      `SQLite cannot write to ${this.store.path}: ${reason}. The hub is NOT acking: agents keep their data and resend it. ` +
        `${adviceFor(code)} The hub retries every ${Math.round(this.probeEveryMs / 1000)} s and resumes by itself.`,
    );
    this.emit();
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.closed || this.probeTimer) return;
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      this.probe();
    }, this.probeEveryMs);
    this.probeTimer.unref();
  }

  private probe(): void {
    if (this.closed || this.status.writable) return;
    try {
      this.store.probeWrite(Date.now());
    } catch {
      this.scheduleProbe();
      return;
    }
    const downMs = Date.now() - (this.status.since ?? Date.now());
    this.status = { writable: true, reason: null, code: null, since: null };
    this.log.warn({ db: this.store.path, downMs, refusedBatches: this.refusedBatches }, `SQLite writes to ${this.store.path} work again: acking resumes`);
    this.emit();
  }

  private emit(): void {
    const s = this.writeStatus;
    for (const fn of this.listeners) {
      try {
        fn(s);
      } catch (err) {
        this.log.warn({ err }, 'write status listener failed');
      }
    }
  }
}

/** A short reason for people: "the disk is full (SQLITE_FULL)". */
export function describeWriteError(err: unknown): string {
  const code = sqliteCode(err);
  const message = err instanceof Error ? err.message : String(err);
  const base = (code ?? '').split('_').slice(0, 2).join('_');
  switch (base) {
    case 'SQLITE_FULL':
      return `the disk or database is full (${code})`;
    case 'SQLITE_READONLY':
      return `the database is read-only (${code})`;
    case 'SQLITE_IOERR':
      return `disk I/O error (${code})`;
    case 'SQLITE_CANTOPEN':
      return `the database file cannot be opened (${code})`;
    case 'SQLITE_PERM':
      return `permission denied (${code})`;
    default:
      return code ? `${message} (${code})` : message;
  }
}

function adviceFor(code: string | null): string {
  const base = (code ?? '').split('_').slice(0, 2).join('_');
  switch (base) {
    case 'SQLITE_FULL':
      return 'Free space on that disk (or move --data to a bigger one).';
    case 'SQLITE_READONLY':
    case 'SQLITE_PERM':
    case 'SQLITE_CANTOPEN':
      return 'Make the data directory and its files writable by the hub user (and check the filesystem is not mounted read-only).';
    case 'SQLITE_IOERR':
      return 'Check the disk (dmesg, SMART) and the filesystem.';
    default:
      return 'Check the disk and the data directory.';
  }
}
