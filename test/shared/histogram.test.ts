// The mergeable latency histogram: quantiles within 1 % of the exact ones, merging per-second
// histograms gives the same answers as one histogram of everything, and bad input is ignored.
import { describe, expect, it } from 'vitest';
import { LogHistogram, RELATIVE_ACCURACY } from '../../shared/histogram.js';

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Latencies like a real model's: log-normal around `medianMs`, with a slow tail. */
function latencies(n: number, medianMs: number, seed: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, () => {
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    return medianMs * Math.exp(0.35 * z) + (r() < 0.01 ? medianMs * 5 * r() : 0);
  });
}

function exactQuantile(sorted: number[], q: number): number {
  return sorted[Math.floor(q * (sorted.length - 1))]!;
}

describe('LogHistogram', () => {
  it('reads quantiles within 1 % of the exact ones, for latencies from microseconds to seconds', () => {
    for (const [median, seed] of [
      [0.05, 1],
      [3.2, 2],
      [48, 3],
      [2500, 4],
    ] as const) {
      const values = latencies(20_000, median, seed);
      const h = new LogHistogram();
      for (const v of values) h.add(v);
      const sorted = [...values].sort((a, b) => a - b);
      for (const q of [0.01, 0.5, 0.9, 0.99, 0.999]) {
        const exact = exactQuantile(sorted, q);
        expect(Math.abs(h.quantile(q) - exact) / exact, `median ${median} ms, q ${q}`).toBeLessThanOrEqual(RELATIVE_ACCURACY + 1e-9);
      }
      expect(h.count).toBe(values.length);
      expect(h.min).toBe(sorted[0]);
      expect(h.max).toBe(sorted[sorted.length - 1]);
      expect(h.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 9);
    }
  });

  it('merges per-second histograms into exactly the histogram of all values', () => {
    const values = latencies(5000, 12, 7);
    const whole = new LogHistogram();
    const merged = new LogHistogram();
    for (let s = 0; s < 50; s++) {
      const second = new LogHistogram();
      for (const v of values.slice(s * 100, (s + 1) * 100)) {
        second.add(v);
        whole.add(v);
      }
      // Through the stored form, as the hub sees it.
      merged.merge(JSON.parse(JSON.stringify(second.summary())));
    }
    expect(merged.buckets).toEqual(whole.buckets);
    for (const q of [0.5, 0.9, 0.99]) expect(merged.quantile(q)).toBe(whole.quantile(q));
    expect(merged.stdev).toBeCloseTo(whole.stdev, 9);
    expect(merged.count).toBe(5000);
  });

  it('keeps its bucket count small whatever the number of observations', () => {
    const h = new LogHistogram();
    for (const v of latencies(200_000, 20, 9)) h.add(v);
    // 1 % buckets: a factor of e spans ~50 buckets, so even a wide spread stays in the hundreds.
    expect(h.buckets.length).toBeLessThan(600);
  });

  it('ignores negative, NaN and infinite values, counts zero as the smallest value, and answers NaN when empty', () => {
    const h = new LogHistogram();
    expect(h.quantile(0.5)).toBeNaN();
    expect(h.add(-1)).toBe(false);
    expect(h.add(Number.NaN)).toBe(false);
    expect(h.add(Number.POSITIVE_INFINITY)).toBe(false);
    expect(h.count).toBe(0);
    expect(h.add(0)).toBe(true);
    expect(h.add(5, 3)).toBe(true);
    expect(h.count).toBe(4);
    expect(h.quantile(0)).toBe(0);
    expect(h.quantile(0.5)).toBeCloseTo(5, 1);
    expect(h.stdev).toBeCloseTo(Math.sqrt((3 * 25) / 4 - (15 / 4) ** 2), 9);
  });
});
