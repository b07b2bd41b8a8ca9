import { describe, expect, it } from 'vitest';
import { Backoff } from '../../agent/transport/backoff.js';
import { MemorySpool } from '../../agent/transport/spool.js';

const batch = (seq: number, n = 1) => ({ seq, samples: Array.from({ length: n }, (_, i) => ({ t: seq * 1000 + i, m: { 'cpu.util': seq } })) });

describe('MemorySpool', () => {
  it('hands out unacked batches oldest first and forgets acked ones', () => {
    const spool = new MemorySpool(100);
    [1, 2, 3].forEach((s) => spool.push(batch(s)));
    spool.ack(2);
    expect([...spool.pending()].map((b) => b.seq)).toEqual([1, 3]);
    expect(spool.batchCount).toBe(2);
  });

  it('drops the oldest when full and counts every dropped sample exactly once', () => {
    const spool = new MemorySpool(5);
    for (let s = 1; s <= 8; s++) spool.push(batch(s));
    expect([...spool.pending()].map((b) => b.seq)).toEqual([4, 5, 6, 7, 8]);
    expect(spool.takeDropped()).toBe(3);
    expect(spool.takeDropped()).toBe(0);
  });

  it('carries forward a drop count whose own batch was dropped', () => {
    const spool = new MemorySpool(2);
    spool.push(batch(1));
    spool.push(batch(2));
    spool.push(batch(3)); // drops 1
    spool.push({ ...batch(4), dropped: spool.takeDropped() }); // reports 1, then drops 2
    spool.push(batch(5)); // drops 3
    spool.push(batch(6)); // drops 4, which carried the report of 1
    expect(spool.takeDropped()).toBe(2 + 1 + 1);
  });
});

describe('Backoff', () => {
  it('grows exponentially up to the cap, stays within it, and resets', () => {
    const top = new Backoff(500, 8000, () => 1);
    expect([top.next(), top.next(), top.next(), top.next(), top.next(), top.next()]).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
    top.reset();
    expect(top.next()).toBe(500);
    const bottom = new Backoff(500, 8000, () => 0);
    expect([bottom.next(), bottom.next(), bottom.next()]).toEqual([500, 500, 500]);
  });
});
