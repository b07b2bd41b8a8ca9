import { describe, expect, it } from 'vitest';
import { Backoff } from '../../agent/tools/backoff.js';
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
  it('grows exponentially up to the cap, jitters within bounds, and resets', () => {
    const options = { initialMs: 500, maxMs: 8000, factor: 2, jitter: 0, healthyAfterMs: 0 };
    const steady = new Backoff(options);
    expect([steady.next(), steady.next(), steady.next(), steady.next(), steady.next(), steady.next()]).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
    steady.reset();
    expect(steady.next()).toBe(500);
    const low = new Backoff({ ...options, jitter: 0.5 }, () => 0);
    const high = new Backoff({ ...options, jitter: 0.5 }, () => 0.999999);
    expect([low.next(), low.next()]).toEqual([250, 500]);
    expect([high.next(), high.next(), high.next(), high.next(), high.next()]).toEqual([750, 1500, 3000, 6000, 8000]);
  });
});
