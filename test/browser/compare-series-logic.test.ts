// The compare page's pure chart helpers (dashboard/web/src/compare-series.ts), in Node: trials'
// CDFs merged per name equal the CDF of their merged histograms, shared axes, regular ticks.
import { describe, expect, it } from 'vitest';
import { cdfPoints } from '../../dashboard/server/experiment-series.js';
import { axisStep, cdfQuantile, formatRunTime, logTicks, mergeCdfs, niceCeil, runTimeStep, timelineScales } from '../../dashboard/web/src/compare-series.js';
import { LogHistogram } from '../../shared/histogram.js';
import type { ExperimentTimeline } from '../../shared/live.js';

const hist = (values: number[]) => {
  const h = new LogHistogram();
  for (const v of values) h.add(v);
  return h;
};

describe('mergeCdfs', () => {
  it('is the CDF of the trials’ timings taken together (their histograms merged)', () => {
    const a = hist(Array.from({ length: 300 }, (_, i) => 8 + (i % 17) * 0.1));
    const b = hist(Array.from({ length: 120 }, (_, i) => 8.5 + (i % 23) * 0.15 + (i % 40 === 0 ? 9 : 0)));
    const merged = new LogHistogram();
    merged.merge(a.summary());
    merged.merge(b.summary());
    const got = mergeCdfs([
      { count: a.count, cdf: cdfPoints(a.summary()) },
      { count: b.count, cdf: cdfPoints(b.summary()) },
    ]);
    // The same distribution: each run's ends are clamped to its own min and max (within a
    // bucket, 1 %), the rest are the merged buckets' points.
    const want = cdfPoints(merged.summary());
    const at = (cdf: [number, number][], x: number) => cdf.filter(([px]) => px <= x).pop()?.[1] ?? 0;
    const clamped = [a.min, a.max, b.min, b.max];
    for (const [x, f] of want) {
      if (clamped.some((c) => Math.abs(x - c) / c < 0.021)) continue;
      expect(at(got, x), `F(${x})`).toBeCloseTo(f, 12);
    }
    for (let k = 1; k < got.length; k++) expect(got[k]![1]).toBeGreaterThan(got[k - 1]![1]);
    expect(got[got.length - 1]![1]).toBe(1);
    for (const q of [0.1, 0.5, 0.9, 0.95, 0.99]) expect(Math.abs(cdfQuantile(got, q)! - merged.quantile(q)) / merged.quantile(q), `q=${q}`).toBeLessThanOrEqual(0.01);
  });

  it('skips empty runs and gives nothing for none', () => {
    expect(mergeCdfs([])).toEqual([]);
    expect(mergeCdfs([{ count: 0, cdf: [] }])).toEqual([]);
    expect(mergeCdfs([{ count: 0, cdf: [] }, { count: 4, cdf: [[2, 0.5], [3, 1]] }])).toEqual([[2, 0.5], [3, 1]]);
  });
});

describe('axes', () => {
  it('shares the timeline y axes over every run, to a round top', () => {
    const t = (latency: ExperimentTimeline['latency'], power: [number, number][] | null) =>
      ({ latency, power: power && { source: 'board', metrics: ['power.board'], stepMs: 0, points: power } }) as ExperimentTimeline;
    const s = timelineScales([t([[0, 20, 20, 16, 31], [1000, 21, 21, 17, null]], [[0, 12.6]]), t([[0, 40, 80, 8, 14]], null)]);
    expect(s).toEqual({ latencyMaxMs: 40, perSMax: 50, powerMaxW: 20 });
    expect(timelineScales([])).toEqual({ latencyMaxMs: null, perSMax: null, powerMaxW: null });
    expect([0.7, 3, 13.2, 42, 99, 101].map(niceCeil)).toEqual([0.8, 4, 20, 50, 100, 200]);
  });

  it('steps a linear axis regularly', () => {
    expect(axisStep(40, 4)).toBe(10);
    expect(axisStep(50, 4)).toBe(25);
    expect(axisStep(50, 5)).toBe(10);
    expect(axisStep(20, 2)).toBe(10);
    expect(axisStep(6, 2)).toBe(3);
    expect(axisStep(0.8, 4)).toBeCloseTo(0.2, 12);
  });

  it('ticks a log latency axis at round values, never closer than the gap', () => {
    // 10, 20 and 30 first, then what fits between them.
    const wide = logTicks(7, 33, 1000);
    expect(wide).toEqual([7, 8, 9, 10, 15, 20, 30]);
    const narrow = logTicks(7, 33, 300);
    expect(narrow).toEqual([7, 10, 20, 30]);
    const px = (v: number) => (Math.log(v / 7) / Math.log(33 / 7)) * 300;
    for (let k = 1; k < narrow.length; k++) expect(px(narrow[k]!) - px(narrow[k - 1]!)).toBeGreaterThanOrEqual(56);
    // Four decades: the decades first, then 1-3-10 steps where they fit.
    expect(logTicks(0.4, 900, 400)).toEqual([1, 3, 10, 30, 100, 500]);
    expect(logTicks(0.4, 900, 200)).toEqual([1, 10, 100, 900]);
    expect(logTicks(11, 12, 300)).toEqual([11, 12]);
  });

  it('labels run-relative time', () => {
    expect([0, 45, 60, 150, 3600, 3900].map(formatRunTime)).toEqual(['0 s', '45 s', '1 min', '2 min 30 s', '1 h', '1 h 5 min']);
    expect(runTimeStep(60, 4)).toBe(15);
    expect(runTimeStep(3 * 3600, 6)).toBe(1800);
  });
});
