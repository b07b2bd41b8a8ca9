// Where batches wait until the hub has acked them. The transport only talks to this
// interface, so the bounded in-memory spool here can be swapped for a durable on-disk one
// without touching the protocol or the connection logic.
import type { Sample } from '../../shared/protocol.js';

export interface SpooledBatch {
  readonly seq: number;
  readonly samples: Sample[];
  /** Samples dropped (spool full) before this batch was created, reported to the hub. */
  readonly dropped?: number;
}

export interface Spool {
  /** Adds a batch; when full, drops the oldest batches and counts their samples. */
  push(batch: SpooledBatch): void;
  /** Unacked batches, oldest first. */
  pending(): Iterable<SpooledBatch>;
  /** The hub has committed this batch: forget it. */
  ack(seq: number): void;
  /** Samples dropped since the last call; the caller reports them in its next batch. */
  takeDropped(): number;
  readonly batchCount: number;
}

/**
 * Keeps unacked batches in memory, oldest first, up to `maxSamples` samples (default: one
 * hour at 1 Hz). Survives hub outages, not agent restarts.
 */
export class MemorySpool implements Spool {
  private readonly batches = new Map<number, SpooledBatch>();
  private sampleCount = 0;
  private droppedSinceReport = 0;
  /** Samples dropped since start, for logs. */
  droppedTotal = 0;

  constructor(private readonly maxSamples = 3600) {}

  push(batch: SpooledBatch): void {
    this.batches.set(batch.seq, batch);
    this.sampleCount += batch.samples.length;
    // Map iteration follows insertion order and sequence numbers only grow: the first
    // entry is the oldest.
    while (this.sampleCount > this.maxSamples && this.batches.size > 1) {
      const oldest = this.batches.values().next().value as SpooledBatch;
      this.batches.delete(oldest.seq);
      this.sampleCount -= oldest.samples.length;
      // The dropped batch also carried an unreported drop count: carry it forward.
      const lost = oldest.samples.length + (oldest.dropped ?? 0);
      this.droppedSinceReport += lost;
      this.droppedTotal += oldest.samples.length;
    }
  }

  pending(): Iterable<SpooledBatch> {
    return this.batches.values();
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
