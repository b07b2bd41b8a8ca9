// A spool on disk, so that batches survive an agent restart or a power cut as well as a hub
// outage. Batches are appended to segment files in <stateDir>/spool/ before they are sent
// and fsync'd (by default on every push, so a push that returned is on disk); acks only
// advance a watermark, and a segment file is deleted once every batch in it is acked or
// dropped. Memory holds an index (seq → segment, offset, sample count), never the samples:
// a batch is read back from its file when it is sent.
//
// On-disk format, segment file NNNNNNNNNNNNNNNN.seg (16 decimal digits, increasing):
//   record := u32le bodyLength | u32le crc32(body) | body
//   body   := f64le seq | f64le writtenAt (ms) | u32le sampleCount | u32le dropped | JSON(samples)
//             (or JSON {"s": samples, "c": clock} for a batch with a clock reference, see spool.ts)
// A record whose length runs past the end of the file or whose CRC does not match (a write
// torn by a power cut, a flipped bit) ends that segment: it and what follows in that file are
// skipped with a warning, the records before it are kept.
//   acked  := JSON {"through": N}: every batch with seq ≤ N was acked (rewritten via rename).
// The acked file only saves resending: if it is lost or stale, acked batches are sent again
// and the hub, which dedupes by (device, seq), stores them once.
//
// When the directory cannot be used (read-only, full, wrong owner) at open or at any write,
// new batches are kept in memory (a bounded queue, drops counted) and the spool tries the
// disk again every probeMs, as the hub does for its database: once a segment can be written,
// what memory holds is written to it oldest first, and the spool is on disk again. Memory only
// ever holds batches newer than every batch on disk, so the order of seqs is kept.
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Logger } from '../../shared/log.js';
import type { BatchClock, Sample } from '../../shared/protocol.js';
import { SeqIndex, type Spool, type SpooledBatch } from './spool.js';

export const DEFAULT_SPOOL_MAX_BYTES = 100 * 1000 * 1000;
export const DEFAULT_SPOOL_MAX_AGE_MS = 7 * 24 * 3600 * 1000;
const DEFAULT_SEGMENT_MAX_AGE_MS = 3600 * 1000;
const PREFIX_BYTES = 8;
const BODY_HEADER_BYTES = 24;
/** A length field above this is garbage, not a record. */
const MAX_RECORD_BYTES = 64 * 1024 * 1024;
const SEGMENT_RE = /^(\d{16})\.seg$/;
const ACKED_FILE = 'acked';
/** How long an advanced ack watermark may wait before it is written. */
const ACKED_WRITE_DELAY_MS = 1000;
const DEFAULT_PROBE_MS = 3000;

export interface DiskSpoolOptions {
  /** The spool directory, e.g. <stateDir>/spool; created if missing. */
  dir: string;
  log: Logger;
  /** Bytes of segment files kept at most (default 100 MB); beyond, the oldest segment is dropped. */
  maxBytes?: number;
  /** Batches older than this are dropped (default 7 days). */
  maxAgeMs?: number;
  /** A new segment file is started beyond this size (default maxBytes/16, 64 KiB–8 MiB). */
  segmentBytes?: number;
  /** … or when the current one is this old (default 1 hour). */
  segmentMaxAgeMs?: number;
  /**
   * 0 (default): fsync every push before it returns; a power cut loses no pushed batch.
   * N > 0: fsync at most every N ms; a power cut loses at most the last N ms of batches.
   */
  syncEveryMs?: number;
  /** After the disk fails, batches are kept in memory up to this many samples (default 3600). */
  fallbackMaxSamples?: number;
  /** While on memory, how often the disk is tried again (default 3 s). */
  probeMs?: number;
  /** The clock, for tests. */
  now?: () => number;
}

interface Segment {
  readonly num: number;
  readonly path: string;
  /** File size: every record written, acked or not. */
  bytes: number;
  /** When its first record was written (or the file created). */
  startedAt: number;
  /** Sequence numbers of the records in it; those still in the index are unacked. */
  readonly seqs: number[];
  /** Unacked records in it. */
  live: number;
}

interface Entry {
  /** null: kept in memory (`batch`) because the disk failed. */
  readonly seg: Segment | null;
  readonly offset: number;
  readonly length: number;
  readonly samples: number;
  readonly dropped: number;
  readonly at: number;
  readonly batch?: SpooledBatch;
}

export class DiskSpool implements Spool {
  private readonly index = new SeqIndex<Entry>();
  private readonly segments: Segment[] = [];
  /** The segment being appended to; null while the disk cannot be written. */
  private active: Segment | null = null;
  private activeFd = -1;
  private nextNum = 1;
  /** Whether the directory's segments and watermark have been read (not yet if it was unusable at open). */
  private scanned = false;
  private probeTimer: NodeJS.Timeout | null = null;
  private readFd: { seg: Segment; fd: number } | null = null;
  private totalBytes = 0;
  private unsynced = false;
  private syncTimer: NodeJS.Timeout | null = null;
  private ackedTimer: NodeJS.Timeout | null = null;
  private persistedThrough = 0;
  private highestSeq = 0;
  private droppedSinceReport = 0;
  private failed = false;
  private failedAt = 0;
  private closed = false;
  private memSamples = 0;
  private readonly memSeqs: number[] = [];
  private memHead = 0;
  private readonly maxBytes: number;
  private readonly maxAgeMs: number;
  private readonly segmentBytes: number;
  private readonly segmentMaxAgeMs: number;
  private readonly syncEveryMs: number;
  private readonly fallbackMaxSamples: number;
  private readonly probeMs: number;
  private readonly now: () => number;
  private readonly log: Logger;
  readonly dir: string;
  /** Samples dropped since start (bounds, unreadable records), for logs and tests. */
  droppedTotal = 0;
  /** Batches found unacked on disk when the spool was opened. */
  readonly reloaded: number;

  /**
   * Opens (or creates) the spool in `opts.dir`. A directory that cannot be used starts it on
   * memory (degraded), logged once; only invalid options throw.
   */
  static open(opts: DiskSpoolOptions): DiskSpool {
    return new DiskSpool(opts);
  }

  private constructor(opts: DiskSpoolOptions) {
    this.dir = opts.dir;
    this.log = opts.log;
    this.maxBytes = opts.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
    this.maxAgeMs = opts.maxAgeMs ?? DEFAULT_SPOOL_MAX_AGE_MS;
    this.segmentBytes = opts.segmentBytes ?? Math.min(8 * 1024 * 1024, Math.max(64 * 1024, Math.floor(this.maxBytes / 16)));
    this.segmentMaxAgeMs = opts.segmentMaxAgeMs ?? DEFAULT_SEGMENT_MAX_AGE_MS;
    this.syncEveryMs = opts.syncEveryMs ?? 0;
    this.fallbackMaxSamples = opts.fallbackMaxSamples ?? 3600;
    this.probeMs = opts.probeMs ?? DEFAULT_PROBE_MS;
    this.now = opts.now ?? Date.now;
    for (const [name, v] of Object.entries({ maxBytes: this.maxBytes, maxAgeMs: this.maxAgeMs, segmentBytes: this.segmentBytes, probeMs: this.probeMs })) {
      if (!Number.isFinite(v) || v <= 0) throw new Error(`spool ${name} ${v} is not valid: use a positive number`);
    }

    try {
      this.scan();
      // Start a fresh segment rather than append after a tail that may be torn. Opening it now
      // also finds an unwritable directory at start, before the first batch.
      this.openSegment();
    } catch (err) {
      this.fail(err as Error);
    }
    this.reloaded = this.index.size;
    this.expire();
    this.enforceBytes();
    if (this.reloaded > 0) {
      this.log.info({ dir: this.dir, batches: this.index.size, bytes: this.totalBytes }, 'spool: unacked batches from the last run will be resent');
    }
  }

  push(batch: SpooledBatch): void {
    if (batch.seq > this.highestSeq) this.highestSeq = batch.seq;
    const at = this.now();
    this.expire(at);
    if (this.failed || this.closed) {
      this.pushMemory(batch, at);
      return;
    }
    try {
      this.append(batch, at, this.syncEveryMs === 0);
      if (this.syncEveryMs > 0) this.scheduleSync();
    } catch (err) {
      this.fail(err as Error);
      this.pushMemory(batch, at);
      return;
    }
    this.enforceBytes();
  }

  /**
   * While degraded: tries the disk again and, when a segment can be written, moves every
   * batch memory holds into it, oldest first, and goes back to disk. Runs by itself every
   * probeMs; public for tests. Returns whether the spool is on disk.
   */
  probe(): boolean {
    if (!this.failed || this.closed) return !this.failed;
    let moved = 0;
    let samples = 0;
    try {
      if (!this.scanned) this.scan();
      this.openSegment();
      for (const seq of this.index.from()) {
        const entry = this.index.get(seq)!;
        if (entry.seg) continue;
        // One fsync for the lot below, not one per batch: a backlog of an hour is 3600 batches.
        this.append(entry.batch!, entry.at, false);
        this.memSamples -= entry.samples;
        moved++;
        samples += entry.samples;
      }
      if (this.unsynced) fdatasyncSync(this.activeFd);
      this.unsynced = false;
    } catch (err) {
      // Still unusable (or full again halfway): what was moved stays on disk, the rest in memory.
      this.fail(err as Error);
      return false;
    }
    this.failed = false;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.probeTimer = null;
    this.memSeqs.length = 0;
    this.memHead = 0;
    this.log.info(
      { dir: this.dir, batches: moved, samples, degradedMs: this.now() - this.failedAt },
      `spool: ${this.dir} is writable again; ${moved} batch${moved === 1 ? '' : 'es'} moved from memory to disk, and new batches are kept on disk again`,
    );
    this.enforceBytes();
    this.scheduleAckedWrite();
    return true;
  }

  *pending(): Generator<SpooledBatch> {
    for (const seq of this.index.from()) {
      const batch = this.read(seq);
      if (batch) yield batch;
    }
  }

  pendingSeqs(from?: number): Iterable<number> {
    return this.index.from(from);
  }

  lastSeq(): number | undefined {
    return this.index.last();
  }

  read(seq: number): SpooledBatch | undefined {
    const entry = this.index.get(seq);
    if (!entry) return undefined;
    if (!entry.seg) return entry.batch;
    try {
      const buf = Buffer.allocUnsafe(entry.length);
      const n = readSync(this.fdFor(entry.seg), buf, 0, entry.length, entry.offset);
      if (n !== entry.length) throw new Error(`short read: ${n} of ${entry.length} bytes`);
      const body = buf.subarray(PREFIX_BYTES);
      if (buf.readUInt32LE(0) !== body.length || buf.readUInt32LE(4) !== crc32(body) || body.readDoubleLE(0) !== seq) {
        throw new Error('record no longer matches its checksum');
      }
      const stored = JSON.parse(body.subarray(BODY_HEADER_BYTES).toString('utf8')) as Sample[] | { s: Sample[]; c?: BatchClock };
      const samples = Array.isArray(stored) ? stored : stored.s;
      const clock = Array.isArray(stored) ? undefined : stored.c;
      return { seq, samples, ...(entry.dropped ? { dropped: entry.dropped } : {}), ...(clock ? { clock } : {}) };
    } catch (err) {
      this.lose(seq, entry);
      this.log.warn({ err, seq, segment: entry.seg.path, samples: entry.samples }, 'spool: a batch could not be read back from disk; its samples are counted as dropped');
      this.maybeDeleteSegment(entry.seg);
      return undefined;
    }
  }

  ack(seq: number): void {
    const entry = this.index.get(seq);
    if (!entry) return;
    this.index.delete(seq);
    if (entry.seg) {
      entry.seg.live--;
      this.maybeDeleteSegment(entry.seg);
    } else {
      this.memSamples -= entry.samples;
    }
    this.scheduleAckedWrite();
  }

  takeDropped(): number {
    const n = this.droppedSinceReport;
    this.droppedSinceReport = 0;
    return n;
  }

  get batchCount(): number {
    return this.index.size;
  }

  /** Bytes of segment files on disk, for tests and logs. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** True while the directory cannot be written and new batches are kept in memory (until a probe succeeds). */
  get degraded(): boolean {
    return this.failed;
  }

  close(): void {
    if (this.closed) return;
    // A disk that recovered since the last probe still gets what memory holds.
    this.probe();
    this.closed = true;
    for (const timer of [this.syncTimer, this.ackedTimer]) if (timer) clearTimeout(timer);
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.syncTimer = this.ackedTimer = this.probeTimer = null;
    if (this.active && this.activeFd >= 0) {
      try {
        if (this.unsynced) fdatasyncSync(this.activeFd);
      } catch (err) {
        this.log.warn({ err, dir: this.dir }, 'spool: final fsync failed');
      }
      closeSync(this.activeFd);
      this.activeFd = -1;
      if (this.active.live === 0) this.deleteSegment(this.active);
    }
    if (this.readFd) closeSync(this.readFd.fd);
    this.readFd = null;
    this.writeAcked();
  }

  // --- loading ---

  /** Reads the watermark and every segment in the directory (creating it if missing). */
  private scan(): void {
    makeDir(this.dir);
    const names = readdirSync(this.dir)
      .map((name) => SEGMENT_RE.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const through = this.readAcked();
    this.persistedThrough = through;
    if (through > this.highestSeq) this.highestSeq = through;
    for (const num of names) {
      this.nextNum = Math.max(this.nextNum, num + 1);
      this.loadSegment(num);
    }
    this.scanned = true;
  }

  private loadSegment(num: number): void {
    const path = join(this.dir, segmentName(num));
    let buf: Buffer;
    try {
      buf = readFileSync(path);
    } catch (err) {
      this.log.warn({ err, segment: path }, 'spool: segment unreadable, skipped');
      return;
    }
    const seg: Segment = { num, path, bytes: buf.length, startedAt: this.now(), seqs: [], live: 0 };
    let off = 0;
    let first = true;
    while (off < buf.length) {
      const problem = checkRecord(buf, off);
      if (problem) {
        this.log.warn(
          { segment: path, offset: off, skippedBytes: buf.length - off, problem },
          'spool: damaged record (torn write or corruption); it and the rest of this segment are skipped, earlier records are kept',
        );
        break;
      }
      const len = buf.readUInt32LE(off);
      const seq = buf.readDoubleLE(off + PREFIX_BYTES);
      const at = buf.readDoubleLE(off + PREFIX_BYTES + 8);
      if (first) seg.startedAt = at;
      first = false;
      if (seq > this.highestSeq) this.highestSeq = seq;
      if (seq > this.persistedThrough && !this.index.has(seq)) {
        seg.seqs.push(seq);
        seg.live++;
        this.index.set(seq, {
          seg,
          offset: off,
          length: PREFIX_BYTES + len,
          samples: buf.readUInt32LE(off + PREFIX_BYTES + 16),
          dropped: buf.readUInt32LE(off + PREFIX_BYTES + 20),
          at,
        });
      }
      off += PREFIX_BYTES + len;
    }
    this.segments.push(seg);
    this.totalBytes += seg.bytes;
    if (seg.live === 0) this.deleteSegment(seg);
  }

  private readAcked(): number {
    try {
      const through = (JSON.parse(readFileSync(join(this.dir, ACKED_FILE), 'utf8')) as { through?: unknown }).through;
      return typeof through === 'number' && Number.isSafeInteger(through) && through >= 0 ? through : 0;
    } catch {
      // Missing or damaged: resend everything on disk; the hub dedupes.
      return 0;
    }
  }

  // --- writing ---

  private openSegment(): void {
    const num = this.nextNum;
    const path = join(this.dir, segmentName(num));
    const fd = openSync(path, 'a+', 0o600);
    this.nextNum = num + 1;
    this.activeFd = fd;
    this.active = { num, path, bytes: 0, startedAt: this.now(), seqs: [], live: 0 };
    this.segments.push(this.active);
    syncDir(this.dir);
  }

  /** Writes one record to the active segment (rolling first when due) and indexes it. Throws on any I/O error. */
  private append(batch: SpooledBatch, at: number, syncNow: boolean): void {
    const record = encodeRecord(batch, at);
    if (this.active!.bytes > 0 && (this.active!.bytes + record.length > this.segmentBytes || at - this.active!.startedAt >= this.segmentMaxAgeMs)) {
      this.roll();
    }
    const seg = this.active!;
    const offset = seg.bytes;
    writeFully(this.activeFd, record);
    if (syncNow) fdatasyncSync(this.activeFd);
    else this.unsynced = true;
    if (seg.seqs.length === 0) seg.startedAt = at;
    seg.bytes += record.length;
    this.totalBytes += record.length;
    seg.seqs.push(batch.seq);
    seg.live++;
    this.index.set(batch.seq, { seg, offset, length: record.length, samples: batch.samples.length, dropped: batch.dropped ?? 0, at });
  }

  private roll(): void {
    const old = this.active!;
    if (this.unsynced) fdatasyncSync(this.activeFd);
    this.unsynced = false;
    closeSync(this.activeFd);
    this.activeFd = -1;
    this.active = null;
    this.maybeDeleteSegment(old);
    this.openSegment();
  }

  private scheduleSync(): void {
    this.unsynced = true;
    if (this.syncTimer) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = null;
      if (!this.unsynced || this.activeFd < 0) return;
      try {
        fdatasyncSync(this.activeFd);
        this.unsynced = false;
      } catch (err) {
        this.fail(err as Error);
      }
    }, this.syncEveryMs);
    this.syncTimer.unref();
  }

  /** Leaves the disk: the active segment is closed (a torn record cut off), batches go to memory until a probe succeeds. */
  private fail(err: Error): void {
    const seg = this.active;
    if (seg) {
      try {
        // Everything up to seg.bytes is whole, indexed records; beyond is a write cut short.
        ftruncateSync(this.activeFd, seg.bytes);
      } catch {
        // Reload would skip a torn tail anyway (CRC), with a warning.
      }
      try {
        closeSync(this.activeFd);
      } catch {
        // the descriptor is gone either way
      }
      this.activeFd = -1;
      this.active = null;
      this.unsynced = false;
      this.maybeDeleteSegment(seg);
    }
    if (this.failed) return;
    this.failed = true;
    this.failedAt = this.now();
    this.log.error(
      { err, code: (err as NodeJS.ErrnoException).code, dir: this.dir, probeMs: this.probeMs },
      `spool: cannot write to ${this.dir} (${err.message}); batches are kept in memory only ` +
        `(at most ${this.fallbackMaxSamples} samples) and are lost if the agent restarts before the hub has them. ` +
        `Free space or fix the permissions there (or point --state-dir at a writable disk): the spool tries again every ${this.probeMs >= 1000 ? `${this.probeMs / 1000} s` : `${this.probeMs} ms`} and moves back to disk by itself.`,
    );
    if (!this.closed) {
      this.probeTimer = setInterval(() => this.probe(), this.probeMs);
      this.probeTimer.unref();
    }
  }

  private pushMemory(batch: SpooledBatch, at: number): void {
    this.index.set(batch.seq, { seg: null, offset: 0, length: 0, samples: batch.samples.length, dropped: batch.dropped ?? 0, at, batch });
    this.memSamples += batch.samples.length;
    this.memSeqs.push(batch.seq);
    let lostSamples = 0;
    while (this.memSamples > this.fallbackMaxSamples && this.memHead < this.memSeqs.length - 1) {
      const seq = this.memSeqs[this.memHead++]!;
      const entry = this.index.get(seq);
      if (!entry || entry.seg) continue;
      lostSamples += entry.samples;
      this.lose(seq, entry);
    }
    if (this.memHead > 1024) {
      this.memSeqs.splice(0, this.memHead);
      this.memHead = 0;
    }
    if (lostSamples > 0) this.log.warn({ samples: lostSamples, maxSamples: this.fallbackMaxSamples }, 'spool (memory fallback) full: oldest samples dropped');
  }

  // --- bounds and deletion ---

  /** Drops batches older than maxAgeMs, oldest first. */
  private expire(now = this.now()): void {
    const cutoff = now - this.maxAgeMs;
    let batches = 0;
    let samples = 0;
    for (const seq of this.index.from()) {
      const entry = this.index.get(seq)!;
      if (entry.at >= cutoff) break;
      batches++;
      samples += entry.samples;
      this.lose(seq, entry);
      if (entry.seg) this.maybeDeleteSegment(entry.seg);
    }
    if (batches > 0) {
      this.log.warn({ batches, samples, maxAgeMs: this.maxAgeMs }, 'spool: batches older than the age limit dropped unsent (reported to the hub as dropped)');
    }
  }

  /** Drops the oldest segments while the files exceed maxBytes. The active one stays. */
  private enforceBytes(): void {
    while (this.totalBytes > this.maxBytes && this.segments.length > 1) {
      const seg = this.segments[0]!;
      let batches = 0;
      let samples = 0;
      for (const seq of seg.seqs) {
        const entry = this.index.get(seq);
        if (!entry || entry.seg !== seg) continue;
        batches++;
        samples += entry.samples;
        this.lose(seq, entry);
      }
      this.deleteSegment(seg);
      if (batches > 0) {
        this.log.warn(
          { batches, samples, segment: seg.path, maxBytes: this.maxBytes },
          'spool full: oldest segment dropped unsent (reported to the hub as dropped)',
        );
      }
    }
  }

  /** Forgets an unacked batch without sending it, counting its samples as dropped. */
  private lose(seq: number, entry: Entry): void {
    this.index.delete(seq);
    if (entry.seg) entry.seg.live--;
    else this.memSamples -= entry.samples;
    // The lost batch also carried an unreported drop count: carry it forward.
    this.droppedSinceReport += entry.samples + entry.dropped;
    this.droppedTotal += entry.samples;
    this.scheduleAckedWrite();
  }

  private maybeDeleteSegment(seg: Segment): void {
    if (seg.live === 0 && seg !== this.active) this.deleteSegment(seg);
  }

  private deleteSegment(seg: Segment): void {
    const i = this.segments.indexOf(seg);
    if (i < 0) return;
    this.segments.splice(i, 1);
    this.totalBytes -= seg.bytes;
    if (this.readFd?.seg === seg) {
      closeSync(this.readFd.fd);
      this.readFd = null;
    }
    try {
      unlinkSync(seg.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn({ err, segment: seg.path }, 'spool: could not delete a finished segment');
    }
  }

  private fdFor(seg: Segment): number {
    if (seg === this.active && this.activeFd >= 0) return this.activeFd;
    if (this.readFd?.seg === seg) return this.readFd.fd;
    if (this.readFd) closeSync(this.readFd.fd);
    this.readFd = null;
    const fd = openSync(seg.path, 'r');
    this.readFd = { seg, fd };
    return fd;
  }

  // --- ack watermark ---

  /** Every seq at or below this is acked or dropped. */
  private through(): number {
    const first = this.index.first();
    return first === undefined ? this.highestSeq : first - 1;
  }

  private scheduleAckedWrite(): void {
    if (this.ackedTimer || this.closed) return;
    this.ackedTimer = setTimeout(() => {
      this.ackedTimer = null;
      this.writeAcked();
    }, ACKED_WRITE_DELAY_MS);
    this.ackedTimer.unref();
  }

  private writeAcked(): void {
    const through = this.through();
    if (through <= this.persistedThrough || this.failed) return;
    const file = join(this.dir, ACKED_FILE);
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify({ through }) + '\n', { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
      this.persistedThrough = through;
    } catch (err) {
      // Not fatal: a stale watermark only means acked batches are resent (and deduped).
      this.log.warn({ err, file }, 'spool: could not record acked batches; they may be resent after a restart');
    }
  }
}

function segmentName(num: number): string {
  return `${String(num).padStart(16, '0')}.seg`;
}

export function encodeRecord(batch: SpooledBatch, at: number): Buffer {
  // With a clock reference the JSON is {"s": samples, "c": clock}; a bare array (older spools) still reads.
  const json = Buffer.from(JSON.stringify(batch.clock ? { s: batch.samples, c: batch.clock } : batch.samples), 'utf8');
  const record = Buffer.allocUnsafe(PREFIX_BYTES + BODY_HEADER_BYTES + json.length);
  const body = record.subarray(PREFIX_BYTES);
  body.writeDoubleLE(batch.seq, 0);
  body.writeDoubleLE(at, 8);
  body.writeUInt32LE(batch.samples.length, 16);
  body.writeUInt32LE(batch.dropped ?? 0, 20);
  json.copy(body, BODY_HEADER_BYTES);
  record.writeUInt32LE(body.length, 0);
  record.writeUInt32LE(crc32(body), 4);
  return record;
}

/** Why the record at `off` is not intact, or null when it is. */
function checkRecord(buf: Buffer, off: number): string | null {
  if (buf.length - off < PREFIX_BYTES) return 'truncated record header';
  const len = buf.readUInt32LE(off);
  if (len < BODY_HEADER_BYTES || len > MAX_RECORD_BYTES) return `impossible record length ${len}`;
  if (off + PREFIX_BYTES + len > buf.length) return 'record runs past the end of the file';
  const body = buf.subarray(off + PREFIX_BYTES, off + PREFIX_BYTES + len);
  if (crc32(body) !== buf.readUInt32LE(off + 4)) return 'checksum mismatch';
  const seq = body.readDoubleLE(0);
  if (!Number.isSafeInteger(seq) || seq <= 0) return `impossible sequence number ${seq}`;
  return null;
}

/**
 * mkdir -p that says why it failed: on a read-only filesystem Node's recursive mkdir reports
 * ENOENT, which would send a user looking for a missing directory; the plain mkdir of the
 * last component then gives the real reason (EROFS, EACCES, ENOSPC).
 */
export function makeDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync(dirname(dir))) throw err;
    mkdirSync(dir);
  }
}

function writeFully(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
}

/** Makes a new file's directory entry durable. Not every filesystem allows it: best effort. */
function syncDir(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // e.g. some network or FUSE filesystems refuse fsync on a directory.
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}
