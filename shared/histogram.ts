// A mergeable latency histogram with log-scaled buckets (the DDSketch layout): bucket i holds
// values in (γ^(i−1), γ^i] with γ = (1 + α)/(1 − α), so any quantile read back is within α
// (1 %) of a true value of that rank. Two histograms merge by adding bucket counts, which is
// what lets the hub answer p50/p99 over any range from per-second aggregates whose size does
// not depend on how many inferences ran.

/** Relative accuracy of quantiles read from a histogram. */
export const RELATIVE_ACCURACY = 0.01;
const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
/**
 * Values below this (in ms: one nanosecond) are counted as this: a coarse timer can report 0,
 * and a log scale has no bucket for it.
 */
export const MIN_TRACKED_VALUE = 1e-6;
/** Bucket index of MIN_TRACKED_VALUE; indexes are ≥ this. */
const MIN_INDEX = bucketIndex(MIN_TRACKED_VALUE);

export function bucketIndex(value: number): number {
  return Math.ceil(Math.log(Math.max(value, MIN_TRACKED_VALUE)) / LOG_GAMMA);
}

/** The value a bucket stands for: the point whose relative error to both edges is α. */
export function bucketValue(index: number): number {
  return (2 * Math.pow(GAMMA, index)) / (GAMMA + 1);
}

/** [bucket index, count] pairs in index order: the histogram's wire and storage form. */
export type Buckets = [index: number, count: number][];

export class LogHistogram {
  private readonly counts = new Map<number, number>();
  count = 0;
  sum = 0;
  /** Sum of squares, for the standard deviation. */
  sumSq = 0;
  min = Infinity;
  max = -Infinity;

  /** Adds `n` observations of `value` (ms). Non-finite and negative values are ignored. */
  add(value: number, n = 1): boolean {
    if (!Number.isFinite(value) || value < 0 || !(n > 0)) return false;
    const i = bucketIndex(value);
    this.counts.set(i, (this.counts.get(i) ?? 0) + n);
    this.count += n;
    this.sum += value * n;
    this.sumSq += value * value * n;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    return true;
  }

  /** Adds another histogram (or a stored aggregate) into this one. */
  merge(other: HistogramSummary): void {
    if (other.count <= 0) return;
    for (const [i, c] of other.buckets) {
      if (!Number.isInteger(i) || i < MIN_INDEX || !(c > 0)) continue;
      this.counts.set(i, (this.counts.get(i) ?? 0) + c);
    }
    this.count += other.count;
    this.sum += other.sum;
    this.sumSq += other.sumSq;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /** The value at quantile q (0–1), within 1 % of a true value of that rank; NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    if (q <= 0) return this.min;
    if (q >= 1) return this.max;
    const rank = q * (this.count - 1);
    let seen = 0;
    for (const [i, c] of this.buckets) {
      seen += c;
      if (seen > rank) return Math.min(this.max, Math.max(this.min, bucketValue(i)));
    }
    return this.max;
  }

  get mean(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }

  /** Population standard deviation of the observations. */
  get stdev(): number {
    if (this.count === 0) return NaN;
    const m = this.mean;
    return Math.sqrt(Math.max(0, this.sumSq / this.count - m * m));
  }

  get buckets(): Buckets {
    return [...this.counts.entries()].sort((a, b) => a[0] - b[0]);
  }

  summary(): HistogramSummary {
    return { count: this.count, sum: this.sum, sumSq: this.sumSq, min: this.min, max: this.max, buckets: this.buckets };
  }

  static from(summary: HistogramSummary): LogHistogram {
    const h = new LogHistogram();
    h.merge(summary);
    return h;
  }
}

/** What a histogram is stored and sent as. */
export interface HistogramSummary {
  count: number;
  sum: number;
  sumSq: number;
  min: number;
  max: number;
  buckets: Buckets;
}
