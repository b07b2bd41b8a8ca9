// Pure helpers of the compare page's latency distribution and timelines (no DOM, no chart.js):
// merging the CDFs of several trials into one per name, the axes every timeline shares, the
// ticks of a log latency axis and the labels of a run-relative time axis.
import type { ExperimentTimeline } from '../../../shared/live.js';

export type CdfPoint = [ms: number, fraction: number];

/**
 * The CDF of several runs' timings taken together, from each run's CDF and timing count: at
 * every latency any of them has a point, the count-weighted mean of their fractions there
 * (a run's CDF is a step function: its fraction at x is that of its last point ≤ x). That is
 * the CDF of the runs' merged histograms, but for each run's first and last point (clamped to
 * its own min and max, within a bucket) and CDFs the hub thinned.
 */
export function mergeCdfs(parts: readonly { count: number; cdf: readonly CdfPoint[] }[]): CdfPoint[] {
  const runs = parts.filter((p) => p.count > 0 && p.cdf.length > 0);
  const total = runs.reduce((n, p) => n + p.count, 0);
  if (total === 0) return [];
  const xs = [...new Set(runs.flatMap((p) => p.cdf.map(([x]) => x)))].sort((a, b) => a - b);
  const at = runs.map(() => -1);
  const out: CdfPoint[] = [];
  for (const x of xs) {
    let f = 0;
    runs.forEach((p, k) => {
      while (at[k]! + 1 < p.cdf.length && p.cdf[at[k]! + 1]![0] <= x) at[k]!++;
      if (at[k]! >= 0) f += p.count * p.cdf[at[k]!]![1];
    });
    const frac = Math.min(1, f / total);
    const last = out[out.length - 1];
    if (!last || frac > last[1]) out.push([x, frac]);
  }
  if (out.length > 0) out[out.length - 1]![1] = 1;
  return out;
}

/** The smallest latency at which a CDF reaches `q` (0–1), its quantile; null for an empty CDF. */
export function cdfQuantile(cdf: readonly CdfPoint[], q: number): number | null {
  for (const [x, f] of cdf) if (f >= q) return x;
  return cdf.length > 0 ? cdf[cdf.length - 1]![0] : null;
}

/** The y axes every timeline card shares, so runs compare at a glance; null where no run has that series. */
export interface TimelineScales {
  latencyMaxMs: number | null;
  perSMax: number | null;
  powerMaxW: number | null;
}

export function timelineScales(timelines: readonly ExperimentTimeline[]): TimelineScales {
  let lat = -Infinity;
  let perS = -Infinity;
  let power = -Infinity;
  for (const t of timelines) {
    for (const p of t.latency) {
      if (p[4] !== null && p[4] > lat) lat = p[4];
      if (p[1] > perS) perS = p[1];
    }
    for (const [, w] of t.power?.points ?? []) if (w > power) power = w;
  }
  const nice = (v: number) => (Number.isFinite(v) && v > 0 ? niceCeil(v * 1.05) : null);
  return { latencyMaxMs: nice(lat), perSMax: nice(perS), powerMaxW: nice(power) };
}

/** The next 1, 2, 4, 5, 6 or 8 × 10^k at or above v (v > 0): an axis top whose half and quarter are round too. */
export function niceCeil(v: number): number {
  const mag = 10 ** Math.floor(Math.log10(v));
  for (const k of [1, 2, 4, 5, 6, 8, 10]) if (k * mag >= v - 1e-12 * mag) return Number((k * mag).toPrecision(3));
  return 10 * mag;
}

/**
 * The step of a linear axis from 0 to `max` with at most `maxIntervals` intervals: the smallest
 * 1, 2, 2.5 or 5 × 10^k that divides `max` (else max ÷ maxIntervals), so the ticks are regular.
 */
export function axisStep(max: number, maxIntervals: number): number {
  if (!(max > 0)) return 1;
  let best: number | null = null;
  for (let e = Math.floor(Math.log10(max)); e >= Math.floor(Math.log10(max)) - 3; e--) {
    for (const k of [5, 2.5, 2, 1]) {
      const s = k * 10 ** e;
      const n = max / s;
      if (n > maxIntervals + 1e-9) continue;
      if (Math.abs(n - Math.round(n)) < 1e-9 && (best === null || s < best)) best = s;
    }
  }
  return best ?? max / Math.max(1, maxIntervals);
}

/**
 * Ticks for a log latency axis over [min, max] drawn `widthPx` wide: round values first (1 ×
 * 10^k, then 2 and 5, then 3, then the rest of 1.5–9), each kept only if it lies at least
 * `gapPx` from every tick kept before it, so labels never crowd where the log scale is dense.
 * The ends when fewer than two fit.
 */
export function logTicks(min: number, max: number, widthPx: number, gapPx = 56): number[] {
  if (!(min > 0) || !(max > min)) return min > 0 ? [min] : [];
  const rank = new Map<number, number>([[1, 0], [2, 1], [5, 1], [3, 2], [1.5, 3], [4, 3], [6, 3], [7, 3], [8, 3], [9, 3]]);
  const span = Math.log(max / min);
  const px = (v: number) => (Math.log(v / min) / span) * widthPx;
  const candidates: { v: number; rank: number }[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const [k, r] of rank) {
      const v = Number((k * 10 ** e).toPrecision(3));
      if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) candidates.push({ v, rank: r });
    }
  }
  candidates.sort((a, b) => a.rank - b.rank || a.v - b.v);
  const kept: number[] = [];
  for (const c of candidates) if (kept.every((k) => Math.abs(px(k) - px(c.v)) >= gapPx)) kept.push(c.v);
  kept.sort((a, b) => a - b);
  return kept.length >= 2 ? kept : [min, max];
}

/** A run-relative time: "0 s", "45 s", "2 min", "2 min 30 s", "1 h 5 min". */
export function formatRunTime(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} min ${s % 60} s`;
  const m = Math.round(s / 60);
  return m % 60 === 0 ? `${m / 60} h` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** Tick step (s) for a run of `durationS` with at most `maxTicks` ticks: 1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10, 15, 30 min, 1, 2, 6, 12 h. */
export function runTimeStep(durationS: number, maxTicks: number): number {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400];
  const want = durationS / Math.max(1, maxTicks);
  return steps.find((s) => s >= want) ?? Math.ceil(want / 86_400) * 86_400;
}
