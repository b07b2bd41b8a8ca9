// Series maths for an experiment's timeline and latency distribution: pure functions over what
// the store returns (per-second histograms, raw power samples), so every figure is testable
// without SQLite. Sizes are bounded whatever the run's length: a timeline has at most
// MAX_TIMELINE_POINTS steps (seconds merged into wider steps when the run is longer), a CDF at
// most MAX_CDF_POINTS points.
import { bucketValue, LogHistogram, type HistogramSummary } from '../../shared/histogram.js';
import type { LatencyDistribution, TimelinePoint } from '../../shared/live.js';

/** Most points of one timeline (latency steps, power points). */
export const MAX_TIMELINE_POINTS = 2000;
/** Most points of one CDF: a few hundred buckets cover 1 ms to 50 ms at 1 % resolution. */
export const MAX_CDF_POINTS = 400;

const SECOND_MS = 1000;

/**
 * The empirical CDF of a histogram: for each bucket in order, [its value (clamped to the
 * histogram's min and max, as quantiles are), fraction of the observations in it and below].
 * Both coordinates strictly increase and the last fraction is 1; empty for an empty histogram.
 * With more buckets than `maxPoints`, every k-th bucket's point is kept (and the last).
 */
export function cdfPoints(h: HistogramSummary, maxPoints = MAX_CDF_POINTS): [number, number][] {
  const buckets = h.buckets.filter(([, c]) => c > 0).sort((a, b) => a[0] - b[0]);
  let total = 0;
  for (const [, c] of buckets) total += c;
  if (!(total > 0)) return [];
  const lo = Number.isFinite(h.min) ? h.min : -Infinity;
  const hi = Number.isFinite(h.max) ? h.max : Infinity;
  const all: [number, number][] = [];
  let seen = 0;
  for (const [i, c] of buckets) {
    seen += c;
    const x = Math.min(hi, Math.max(lo, bucketValue(i)));
    const f = seen === total ? 1 : seen / total;
    const last = all[all.length - 1];
    // Clamping can put two buckets at one latency: keep the higher fraction.
    if (last && x <= last[0]) last[1] = f;
    else all.push([x, f]);
  }
  const limit = Math.max(2, Math.floor(maxPoints));
  if (all.length <= limit) return all;
  const stride = Math.ceil(all.length / limit);
  const out: [number, number][] = [];
  for (let k = stride - 1; k < all.length - 1; k += stride) out.push(all[k]!);
  out.push(all[all.length - 1]!);
  return out;
}

/** The latency figures of merged timings, and their CDF. */
export function latencyDistribution(h: HistogramSummary, maxPoints = MAX_CDF_POINTS): LatencyDistribution {
  const hist = LogHistogram.from(h);
  const q = (p: number): number | null => (hist.count > 0 ? hist.quantile(p) : null);
  return {
    count: hist.count,
    minMs: hist.count > 0 ? hist.min : null,
    maxMs: hist.count > 0 ? hist.max : null,
    p50Ms: q(0.5),
    p90Ms: q(0.9),
    p99Ms: q(0.99),
    cdf: cdfPoints(hist.summary(), maxPoints),
  };
}

/** The smallest latency at which a CDF reaches `q` (0–1): its quantile; null for an empty CDF. */
export function cdfQuantile(cdf: readonly (readonly [number, number])[], q: number): number | null {
  for (const [x, f] of cdf) if (f >= q) return x;
  return cdf.length > 0 ? cdf[cdf.length - 1]![0] : null;
}

/** One per-second row of timings (all of a model's calls that second). */
export interface SecondRow {
  /** Start of the second, device clock, ms. */
  t: number;
  histogram: HistogramSummary;
  items: number;
}

interface Step {
  hist: LogHistogram;
  items: number;
}

/**
 * Builds a timeline from per-second rows given in any order (several models' rows for one
 * second merge). Steps are `stepMs` wide from `origin`: one second at first, wider where
 * [origin, to] holds more than `maxPoints` seconds, and doubled while rows arrive that would
 * need more steps than that (rows outside the range, from a device clock that jumped), so
 * memory and output stay bounded. Each step's p50 and p99 come from its merged histogram.
 */
export class TimelineBuilder {
  stepMs: number;
  private steps = new Map<number, Step>();
  private lo = Infinity;
  private hi = -Infinity;
  private readonly maxPoints: number;

  constructor(
    private readonly origin: number,
    to: number,
    maxPoints = MAX_TIMELINE_POINTS,
  ) {
    this.maxPoints = Math.max(1, Math.floor(maxPoints));
    const seconds = Math.max(1, Math.ceil((to - origin + 1) / SECOND_MS));
    this.stepMs = Math.ceil(seconds / this.maxPoints) * SECOND_MS;
  }

  add(row: SecondRow): void {
    if (!(row.histogram.count > 0) || !Number.isFinite(row.t)) return;
    const k = Math.floor((row.t - this.origin) / this.stepMs);
    let step = this.steps.get(k);
    if (!step) this.steps.set(k, (step = { hist: new LogHistogram(), items: 0 }));
    step.hist.merge(row.histogram);
    step.items += row.items;
    if (k < this.lo) this.lo = k;
    if (k > this.hi) this.hi = k;
    while (this.hi - this.lo + 1 > this.maxPoints) this.coarsen();
  }

  /** Doubles the step width, merging each pair of steps (floor(k / 2) is the wider step of k). */
  private coarsen(): void {
    const merged = new Map<number, Step>();
    for (const [k, s] of this.steps) {
      const j = Math.floor(k / 2);
      const into = merged.get(j);
      if (!into) merged.set(j, s);
      else {
        into.hist.merge(s.hist.summary());
        into.items += s.items;
      }
    }
    this.steps = merged;
    this.stepMs *= 2;
    this.lo = Math.floor(this.lo / 2);
    this.hi = Math.floor(this.hi / 2);
  }

  /** Every step from the first with timings to the last, empty ones as 0 per second and null latencies. */
  points(): TimelinePoint[] {
    const out: TimelinePoint[] = [];
    if (this.lo > this.hi) return out;
    const perS = SECOND_MS / this.stepMs;
    for (let k = this.lo; k <= this.hi; k++) {
      const t = this.origin + k * this.stepMs;
      const s = this.steps.get(k);
      if (!s) out.push([t, 0, 0, null, null]);
      else out.push([t, s.hist.count * perS, s.items * perS, s.hist.quantile(0.5), s.hist.quantile(0.99)]);
    }
    return out;
  }
}

/**
 * A time-ordered series cut to at most `maxPoints` points: as it is when it fits (stepMs 0),
 * else the mean over steps of whole seconds from the first point's time.
 */
export function downsampleMean(points: readonly (readonly [number, number])[], maxPoints = MAX_TIMELINE_POINTS): { stepMs: number; points: [number, number][] } {
  const limit = Math.max(1, Math.floor(maxPoints));
  if (points.length <= limit) return { stepMs: 0, points: points.map(([t, v]) => [t, v]) };
  const first = points[0]![0];
  const span = points[points.length - 1]![0] - first + 1;
  const stepMs = Math.max(SECOND_MS, Math.ceil(span / limit / SECOND_MS) * SECOND_MS);
  const out: [number, number][] = [];
  let k = -1;
  let sum = 0;
  let n = 0;
  const flush = (): void => {
    if (n > 0) out.push([first + k * stepMs, sum / n]);
  };
  for (const [t, v] of points) {
    const j = Math.floor((t - first) / stepMs);
    if (j !== k) {
      flush();
      k = j;
      sum = 0;
      n = 0;
    }
    sum += v;
    n += 1;
  }
  flush();
  return { stepMs, points: out };
}
