// Where batches wait until the hub has acked them. The transport only talks to this
// interface: MemorySpool (here) keeps them in memory, DiskSpool (disk-spool.ts) keeps them in
// files that survive an agent restart and holds only a small index in memory.
import type { BatchClock, Sample } from '../../shared/protocol.js';

export interface SpooledBatch {
  readonly seq: number;
  readonly samples: Sample[];
  /** Samples dropped (spool full) before this batch was created, reported to the hub. */
  readonly dropped?: number;
  /** Boot and clocks at creation, so the hub can re-time a batch whose wall clock was then wrong. */
  readonly clock?: BatchClock;
}

export interface Spool {
  /** Adds a batch; when full, drops the oldest batches and counts their samples. */
  push(batch: SpooledBatch): void;
  /** Unacked batches, oldest first. A disk spool reads each one as the iteration reaches it. */
  pending(): Iterable<SpooledBatch>;
  /**
   * Sequence numbers of unacked batches that are ≥ `from`, ascending. Cheap: reads no batch.
   * Batches acked or pushed while iterating are handled (skipped, or seen if above).
   */
  pendingSeqs(from?: number): Iterable<number>;
  /** The unacked batch `seq`, or undefined when it is gone (acked, dropped or unreadable). */
  read(seq: number): SpooledBatch | undefined;
  /** The highest unacked sequence number, or undefined when nothing is pending. */
  lastSeq(): number | undefined;
  /** The hub has committed this batch: forget it. */
  ack(seq: number): void;
  /** Samples dropped since the last call; the caller reports them in its next batch. */
  takeDropped(): number;
  readonly batchCount: number;
  /** Flushes and releases files; a spool is not used after this. */
  close?(): void;
}

/**
 * Unacked sequence numbers in ascending order with a value each: a Map for lookups and a
 * sorted array for "everything from seq N on" without walking what came before. Deleted
 * numbers are skipped lazily and compacted away once they are the majority.
 */
export class SeqIndex<T> {
  private seqs: number[] = [];
  private head = 0;
  private readonly map = new Map<number, T>();
  /** Bumped whenever positions in `seqs` shift, so running iterations find their place again. */
  private layout = 0;

  get size(): number {
    return this.map.size;
  }

  get(seq: number): T | undefined {
    return this.map.get(seq);
  }

  has(seq: number): boolean {
    return this.map.has(seq);
  }

  set(seq: number, value: T): void {
    if (this.map.has(seq)) {
      this.map.set(seq, value);
      return;
    }
    this.map.set(seq, value);
    const n = this.seqs.length;
    if (n === this.head || seq > this.seqs[n - 1]!) {
      this.seqs.push(seq);
    } else {
      // Not expected (sequence numbers only grow), but kept correct.
      this.seqs.splice(this.lowerBound(seq), 0, seq);
      this.layout++;
    }
  }

  delete(seq: number): boolean {
    if (!this.map.delete(seq)) return false;
    while (this.head < this.seqs.length && !this.map.has(this.seqs[this.head]!)) this.head++;
    const dead = this.seqs.length - this.head - this.map.size;
    if (this.head > 4096 || (dead > 1024 && dead > this.map.size)) {
      this.seqs = this.seqs.slice(this.head).filter((s) => this.map.has(s));
      this.head = 0;
      this.layout++;
    }
    return true;
  }

  first(): number | undefined {
    return this.map.size === 0 ? undefined : this.seqs[this.head];
  }

  last(): number | undefined {
    for (let i = this.seqs.length - 1; i >= this.head; i--) {
      const seq = this.seqs[i]!;
      if (this.map.has(seq)) return seq;
    }
    return undefined;
  }

  /** Sequence numbers ≥ from, ascending. */
  *from(from = -Infinity): Generator<number> {
    let layout = this.layout;
    let i = this.lowerBound(from);
    let last = -Infinity;
    while (true) {
      if (layout !== this.layout) {
        layout = this.layout;
        i = this.lowerBound(last + 1);
      }
      if (i >= this.seqs.length) return;
      const seq = this.seqs[i++]!;
      if (seq < from || !this.map.has(seq)) continue;
      last = seq;
      yield seq;
    }
  }

  /** First index in [head, length) whose seq is ≥ `seq`. */
  private lowerBound(seq: number): number {
    let lo = this.head;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.seqs[mid]! < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * Keeps unacked batches in memory, oldest first, up to `maxSamples` samples (default: one
 * hour at 1 Hz). Survives hub outages, not agent restarts.
 */
export class MemorySpool implements Spool {
  private readonly batches = new SeqIndex<SpooledBatch>();
  private sampleCount = 0;
  private droppedSinceReport = 0;
  /** Samples dropped since start, for logs. */
  droppedTotal = 0;

  constructor(private readonly maxSamples = 3600) {}

  push(batch: SpooledBatch): void {
    this.batches.set(batch.seq, batch);
    this.sampleCount += batch.samples.length;
    while (this.sampleCount > this.maxSamples && this.batches.size > 1) {
      const oldest = this.batches.get(this.batches.first()!)!;
      this.batches.delete(oldest.seq);
      this.sampleCount -= oldest.samples.length;
      // The dropped batch also carried an unreported drop count: carry it forward.
      const lost = oldest.samples.length + (oldest.dropped ?? 0);
      this.droppedSinceReport += lost;
      this.droppedTotal += oldest.samples.length;
    }
  }

  *pending(): Generator<SpooledBatch> {
    for (const seq of this.batches.from()) yield this.batches.get(seq)!;
  }

  pendingSeqs(from?: number): Iterable<number> {
    return this.batches.from(from);
  }

  read(seq: number): SpooledBatch | undefined {
    return this.batches.get(seq);
  }

  lastSeq(): number | undefined {
    return this.batches.last();
  }

  ack(seq: number): void {
    const batch = this.batches.get(seq);
    if (!batch) return;
    this.batches.delete(seq);
    this.sampleCount -= batch.samples.length;
  }

  takeDropped(): number {
    const n = this.droppedSinceReport;
    this.droppedSinceReport = 0;
    return n;
  }

  get batchCount(): number {
    return this.batches.size;
  }
}
