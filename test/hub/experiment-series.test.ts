// The timeline and distribution maths on hand-made inputs (no SQLite): the CDF from histogram
// buckets (monotone, ends at 1, its quantiles within 1 % of the histogram's and of the exact
// ones), the per-second timeline (steps merged exactly, bounded however long the run or wild
// the clock) and the power downsampling.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cdfPoints, cdfQuantile, downsampleMean, latencyDistribution, MAX_CDF_POINTS, MAX_TIMELINE_POINTS, TimelineBuilder } from '../../dashboard/server/experiment-series.js';
import { LogHistogram, RELATIVE_ACCURACY } from '../../shared/histogram.js';

function hist(values: readonly number[]): LogHistogram {
  const h = new LogHistogram();
  for (const v of values) h.add(v);
  return h;
}

function rng(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

/** A skewed latency sample: most calls near 8 ms, a tail to ~60 ms. */
function latencies(n: number, seed = 7): number[] {
  const next = rng(seed);
  return Array.from({ length: n }, () => 8 * Math.exp(0.25 * (next() + next() + next() - 1.5)) + (next() < 0.03 ? 20 + 40 * next() : 0));
}

function expectMonotoneToOne(cdf: [number, number][]): void {
  expect(cdf.length).toBeGreaterThan(0);
  for (let k = 1; k < cdf.length; k++) {
    expect(cdf[k]![0], `latency at ${k}`).toBeGreaterThan(cdf[k - 1]![0]);
    expect(cdf[k]![1], `fraction at ${k}`).toBeGreaterThan(cdf[k - 1]![1]);
  }
  expect(cdf[0]![1]).toBeGreaterThan(0);
  expect(cdf[cdf.length - 1]![1]).toBe(1);
}

const within = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.abs(b) + 1e-12;

describe('cdfPoints', () => {
  it('is strictly increasing, ends at 1, and spans the min to the max', () => {
    const values = latencies(5000);
    const h = hist(values);
    const cdf = cdfPoints(h.summary());
    expectMonotoneToOne(cdf);
    expect(cdf[0]![0]).toBeGreaterThanOrEqual(h.min);
    expect(cdf[cdf.length - 1]![0]).toBeLessThanOrEqual(h.max);
    expect(within(cdf[cdf.length - 1]![0], h.max, RELATIVE_ACCURACY)).toBe(true);
    // The fraction at each point is the share of the observations in its bucket, (x/(1+α), x/(1−α)], and below.
    const sorted = [...values].sort((a, b) => a - b);
    for (const [x, f] of cdf.slice(1, -1).filter((_, k) => k % 10 === 0)) {
      const atOrBelow = sorted.filter((v) => v <= (x / (1 - RELATIVE_ACCURACY)) * (1 + 1e-9)).length / sorted.length;
      const below = sorted.filter((v) => v <= (x / (1 + RELATIVE_ACCURACY)) * (1 - 1e-9)).length / sorted.length;
      expect(f).toBeGreaterThanOrEqual(below);
      expect(f).toBeLessThanOrEqual(atOrBelow);
    }
  });

  it('gives back the histogram’s quantiles within 1 %, and the exact ones within 1 %', () => {
    const values = latencies(1000, 11);
    const h = hist(values);
    const cdf = cdfPoints(h.summary());
    const sorted = [...values].sort((a, b) => a - b);
    for (const q of [0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99]) {
      const fromCdf = cdfQuantile(cdf, q)!;
      expect(within(fromCdf, h.quantile(q), RELATIVE_ACCURACY), `q=${q}: ${fromCdf} vs histogram ${h.quantile(q)}`).toBe(true);
      // The ceil(q·n)-th smallest timing is the one whose rank the CDF reaches q at.
      const exact = sorted[Math.ceil(q * sorted.length) - 1]!;
      expect(within(fromCdf, exact, RELATIVE_ACCURACY), `q=${q}: ${fromCdf} vs exact ${exact}`).toBe(true);
    }
  });

  it('holds for any set of timings (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.001, max: 5000, noNaN: true }), { minLength: 1, maxLength: 400 }), (values) => {
        const h = hist(values);
        const cdf = cdfPoints(h.summary());
        expectMonotoneToOne(cdf);
        const sorted = [...values].sort((a, b) => a - b);
        for (const q of [0.5, 0.9, 0.99]) {
          const exact = sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
          expect(within(cdfQuantile(cdf, q)!, exact, RELATIVE_ACCURACY)).toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('keeps at most maxPoints points, still monotone and ending at 1', () => {
    // 1 µs to 10 s: about 800 buckets at 1 %.
    const values = Array.from({ length: 4000 }, (_, i) => 1e-3 * Math.pow(1e7, i / 3999));
    const h = hist(values);
    expect(h.buckets.length).toBeGreaterThan(MAX_CDF_POINTS);
    const cdf = cdfPoints(h.summary());
    expect(cdf.length).toBeLessThanOrEqual(MAX_CDF_POINTS);
    expectMonotoneToOne(cdf);
    expect(cdfPoints(h.summary(), 50).length).toBeLessThanOrEqual(50);
    expect(within(cdf[cdf.length - 1]![0], h.max, RELATIVE_ACCURACY)).toBe(true);
  });

  it('is empty for no timings, one point for a single value, and a distribution with null figures', () => {
    expect(cdfPoints(new LogHistogram().summary())).toEqual([]);
    expect(cdfPoints(hist([4.2, 4.2, 4.2]).summary())).toEqual([[4.2, 1]]);
    expect(latencyDistribution(new LogHistogram().summary())).toEqual({ count: 0, minMs: null, maxMs: null, p50Ms: null, p90Ms: null, p99Ms: null, cdf: [] });
    const d = latencyDistribution(hist(latencies(300)).summary());
    expect(d.count).toBe(300);
    expect(d.p50Ms).toBe(hist(latencies(300)).quantile(0.5));
    expect(cdfQuantile([], 0.5)).toBeNull();
  });
});

describe('TimelineBuilder', () => {
  const T = 1_700_000_000_000;
  const row = (t: number, values: number[], items = values.length) => ({ t, histogram: hist(values).summary(), items });

  it('gives one point per second with its own p50 and p99, models merged, empty seconds as zero', () => {
    const b = new TimelineBuilder(T, T + 10_000);
    expect(b.stepMs).toBe(1000);
    b.add(row(T + 3000, [10, 10, 10, 40]));
    b.add(row(T + 1000, [5, 6, 7], 6));
    b.add(row(T + 1000, [5, 6], 2)); // a second model in the same second
    const pts = b.points();
    expect(pts.map((p) => p[0])).toEqual([T + 1000, T + 2000, T + 3000]);
    const first = hist([5, 6, 7, 5, 6]);
    expect(pts[0]).toEqual([T + 1000, 5, 8, first.quantile(0.5), first.quantile(0.99)]);
    expect(pts[1]).toEqual([T + 2000, 0, 0, null, null]);
    expect(pts[2]![1]).toBe(4);
    expect(pts[2]![4]).toBe(hist([10, 10, 10, 40]).quantile(0.99));
    expect(new TimelineBuilder(T, T + 1000).points()).toEqual([]);
  });

  it('merges seconds into wider steps for a long run, exactly, within the bound', () => {
    const hours = 5;
    const seconds = hours * 3600;
    const b = new TimelineBuilder(T, T + (seconds - 1) * 1000); // the last second starts at the range's (inclusive) end
    const all: number[] = [];
    const firstStep: number[] = [];
    for (let s = 0; s < seconds; s++) {
      const v = [1 + (s % 7), 2 + (s % 3)];
      all.push(...v);
      b.add(row(T + s * 1000, v));
    }
    expect(b.stepMs).toBe(Math.ceil(seconds / MAX_TIMELINE_POINTS) * 1000);
    const pts = b.points();
    expect(pts.length).toBeLessThanOrEqual(MAX_TIMELINE_POINTS);
    const perStep = b.stepMs / 1000;
    for (let s = 0; s < perStep; s++) firstStep.push(1 + (s % 7), 2 + (s % 3));
    expect(pts[0]![1]).toBe(2); // 2 calls a second, whatever the step
    expect(pts[0]![3]).toBe(hist(firstStep).quantile(0.5));
    expect(pts[0]![4]).toBe(hist(firstStep).quantile(0.99));
    // Throughput × step width adds up to every call.
    expect(pts.reduce((n, p) => n + (p[1] * b.stepMs) / 1000, 0)).toBeCloseTo(all.length, 6);
  });

  it('stays bounded when rows lie far outside the run (a clock that jumped)', () => {
    const b = new TimelineBuilder(T, T + 60_000, 100);
    for (let s = 0; s < 60; s++) b.add(row(T + s * 1000, [5]));
    b.add(row(T - 86_400_000, [7])); // a day before
    b.add(row(T + 86_400_000, [9])); // a day after
    const pts = b.points();
    expect(pts.length).toBeLessThanOrEqual(100);
    expect(pts.reduce((n, p) => n + (p[1] * b.stepMs) / 1000, 0)).toBeCloseTo(62, 6);
    for (let k = 1; k < pts.length; k++) expect(pts[k]![0] - pts[k - 1]![0]).toBe(b.stepMs);
  });
});

describe('downsampleMean', () => {
  it('keeps a short series as it is and means a long one over whole-second steps', () => {
    const short: [number, number][] = [[0, 1], [1000, 2]];
    expect(downsampleMean(short)).toEqual({ stepMs: 0, points: short });
    const long: [number, number][] = Array.from({ length: 10_000 }, (_, i) => [i * 100, i % 2 === 0 ? 4 : 6]);
    const d = downsampleMean(long, 200);
    expect(d.points.length).toBeLessThanOrEqual(200);
    expect(d.stepMs % 1000).toBe(0);
    for (const [, w] of d.points) expect(w).toBeCloseTo(5, 9);
    expect(d.points[0]![0]).toBe(0);
  });
});
