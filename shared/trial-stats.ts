// Statistics for comparing experiment variants over repeated trials (an original model against
// its compressed copy): medians with bootstrap confidence intervals, the speedup ratio δ with its
// own interval, and a Mann–Whitney U test. A single run of a benchmark on an edge board moves by
// several per cent with temperature, clocks and background load, so a variant counts as faster
// only when its trials say so as a group, never from one best run.
//
// Pure functions without I/O or Node-only APIs: the hub, the device CLI and the browser bundle
// all use this file. Every random draw comes from a seeded generator, so the same trials always
// give the same intervals, on every machine and in CI.

import type { Estimate, TrialComparison, TrialSummary, Verdict } from './live.js';

/** Trials whose p50 varies more than this (CoV across trials) are not steady enough to compare. */
export const MAX_TRIAL_COV = 0.05;
/** A trial shorter than this (s) has likely not reached steady clocks and temperature. */
export const MIN_TRIAL_S = 10;
/** A trial with fewer measured inferences than this has a noisy p50 and a meaningless p99. */
export const MIN_TRIAL_QUERIES = 200;
/** With fewer trials than this in a group, a significant difference is barely or not reachable. */
export const MIN_TRIALS_FOR_TEST = 4;
/** Within-trial latency CoV above this means a wide distribution, where p50 hides the tail. */
export const MAX_WITHIN_TRIAL_COV = 0.5;
/** Significance level of the Mann–Whitney test used for a verdict. */
export const SIGNIFICANCE = 0.05;
/** Up to this many values in both samples together (and no ties), the U test's p is exact. */
export const MANN_WHITNEY_EXACT_MAX_N = 20;
export const DEFAULT_RESAMPLES = 10_000;
export const DEFAULT_CONFIDENCE = 0.95;
/** Seed used when none is given: results must not depend on when or where they are computed. */
export const DEFAULT_SEED = 0x5eed;

export interface BootstrapOptions {
  resamples?: number;
  /** Two-sided coverage of the interval, in (0, 1). */
  confidence?: number;
  seed?: number;
}

export interface CompareOptions extends BootstrapOptions {
  /** Significance level for the verdict; SIGNIFICANCE unless given. */
  alpha?: number;
}

/** One trial's own figures; null where the trial did not measure it. */
export interface TrialInput {
  latencyP50Ms: number | null;
  latencyP90Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
  latencyMeanMs: number | null;
  /** Within-trial latency stdev ÷ mean. */
  latencyCov: number | null;
  inferencesPerS: number | null;
  energyPerInferenceJ: number | null;
  netEnergyPerInferenceJ: number | null;
  /** Measured (not warm-up) inferences. */
  inferences: number | null;
  durationS: number | null;
}

export interface MannWhitneyResult {
  /** U of the first sample: pairs (x from a, y from b) with x > y, ties counting ½. */
  u: number;
  /** Two-sided. */
  pValue: number;
}

/**
 * mulberry32 (Tommy Ettinger): a 32-bit state advanced by a Weyl step and mixed by two
 * multiply-xorshift rounds; period 2³², uniform in [0, 1). Plenty for drawing resample indexes,
 * tiny, and identical in every JS engine because it only uses 32-bit integer arithmetic.
 * Not for anything security-related.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function checkSample(fn: string, xs: readonly number[]): void {
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i]!;
    if (!Number.isFinite(v)) throw new RangeError(`${fn}: value ${i} is ${v}, not a finite number`);
  }
}

function checkNonEmpty(fn: string, xs: readonly number[]): void {
  if (xs.length === 0) throw new RangeError(`${fn}: the sample is empty`);
  checkSample(fn, xs);
}

function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, b) => a - b);
}

/** Type-7 quantile of an already sorted, non-empty array. */
function quantileSorted(s: readonly number[], q: number): number {
  const h = (s.length - 1) * q;
  const i = Math.floor(h);
  const lo = s[i]!;
  if (i + 1 >= s.length) return lo;
  return lo + (h - i) * (s[i + 1]! - lo);
}

/**
 * The q-quantile by linear interpolation between order statistics (Hyndman & Fan type 7, the
 * default of R, NumPy and Excel's PERCENTILE.INC), so figures match what people check by hand.
 */
export function quantile(xs: readonly number[], q: number): number {
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q is ${q}, not in [0, 1]`);
  checkNonEmpty('quantile', xs);
  return quantileSorted(sorted(xs), q);
}

export function median(xs: readonly number[]): number {
  checkNonEmpty('median', xs);
  return quantileSorted(sorted(xs), 0.5);
}

export function mean(xs: readonly number[]): number {
  checkNonEmpty('mean', xs);
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}

/** Sample standard deviation (n − 1); null for fewer than two values. */
export function sampleStdev(xs: readonly number[]): number | null {
  checkSample('sampleStdev', xs);
  if (xs.length < 2) return null;
  const m = mean(xs);
  let ss = 0;
  for (const x of xs) ss += (x - m) * (x - m);
  return Math.sqrt(ss / (xs.length - 1));
}

/**
 * Coefficient of variation, sample stdev ÷ mean. Null for fewer than two values or a mean ≤ 0:
 * it is a spread relative to size, which only positive quantities (latency, energy) have.
 */
export function cov(xs: readonly number[]): number | null {
  const sd = sampleStdev(xs);
  if (sd === null) return null;
  const m = mean(xs);
  return m > 0 ? sd / m : null;
}

function bootstrapSettings(fn: string, opts: BootstrapOptions): { resamples: number; confidence: number; seed: number } {
  const resamples = opts.resamples ?? DEFAULT_RESAMPLES;
  const confidence = opts.confidence ?? DEFAULT_CONFIDENCE;
  const seed = opts.seed ?? DEFAULT_SEED;
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new RangeError(`${fn}: resamples is ${resamples}, not a whole number ≥ 1`);
  }
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`${fn}: confidence is ${confidence}, not in (0, 1)`);
  if (!Number.isFinite(seed)) throw new RangeError(`${fn}: seed is ${seed}, not a finite number`);
  return { resamples, confidence, seed };
}

function resample(xs: readonly number[], rand: () => number): number[] {
  const n = xs.length;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = xs[Math.floor(rand() * n)]!;
  return out;
}

/**
 * The percentile interval of bootstrap statistics. It is widened to take in the point estimate:
 * with a handful of trials the bootstrap distribution of a median is lumpy and can sit wholly to
 * one side of it, and a report showing a value outside its own interval reads as a bug.
 */
function percentileInterval(value: number, stats: number[], confidence: number): Estimate {
  stats.sort((a, b) => a - b);
  const tail = (1 - confidence) / 2;
  const lo = quantileSorted(stats, tail);
  const hi = quantileSorted(stats, 1 - tail);
  return { value, lo: Math.min(lo, value), hi: Math.max(hi, value) };
}

/**
 * `stat` of the sample with a percentile-bootstrap interval; null for an empty sample. With one
 * value every resample is that value, so lo = hi = value: one trial says nothing about spread.
 */
export function bootstrapCI(
  xs: readonly number[],
  stat: (xs: readonly number[]) => number = median,
  opts: BootstrapOptions = {},
): Estimate | null {
  const { resamples, confidence, seed } = bootstrapSettings('bootstrapCI', opts);
  checkSample('bootstrapCI', xs);
  if (xs.length === 0) return null;
  const value = stat(xs);
  const rand = mulberry32(seed);
  const stats = new Array<number>(resamples);
  for (let r = 0; r < resamples; r++) stats[r] = stat(resample(xs, rand));
  return percentileInterval(value, stats, confidence);
}

/**
 * δ = median(base) ÷ median(other) with a bootstrap interval from resampling both samples
 * independently (they are separate runs). For latencies this is the speedup of `other` over
 * `base`. Null when either sample is empty or holds a value ≤ 0: a latency that is not positive
 * is a broken measurement, and a resample could otherwise divide by it.
 */
export function ratioCI(base: readonly number[], other: readonly number[], opts: BootstrapOptions = {}): Estimate | null {
  const { resamples, confidence, seed } = bootstrapSettings('ratioCI', opts);
  checkSample('ratioCI base', base);
  checkSample('ratioCI other', other);
  if (base.length === 0 || other.length === 0) return null;
  if (base.some((x) => x <= 0) || other.some((x) => x <= 0)) return null;
  const value = median(base) / median(other);
  const rand = mulberry32(seed);
  const stats = new Array<number>(resamples);
  for (let r = 0; r < resamples; r++) stats[r] = median(resample(base, rand)) / median(resample(other, rand));
  return percentileInterval(value, stats, confidence);
}

/**
 * Counts of arrangements of m + n distinct values by U (pairs where an m-sample value exceeds an
 * n-sample one), by the recurrence f(m, n, u) = f(m − 1, n, u − n) + f(m, n − 1, u): the largest
 * value belongs either to the m-sample, beating all n others, or to the n-sample, beating none.
 */
function exactUCounts(m: number, n: number): number[] {
  // prev[j] / row[j] hold f(i − 1, j, ·) / f(i, j, ·) for the current i.
  let prev: number[][] = Array.from({ length: n + 1 }, () => [1]);
  for (let i = 1; i <= m; i++) {
    const row: number[][] = [[1]];
    for (let j = 1; j <= n; j++) {
      const counts = new Array<number>(i * j + 1).fill(0);
      const left = prev[j]!; // f(i − 1, j, ·), shifted by j
      for (let u = 0; u < left.length; u++) counts[u + j]! += left[u]!;
      const down = row[j - 1]!; // f(i, j − 1, ·)
      for (let u = 0; u < down.length; u++) counts[u]! += down[u]!;
      row.push(counts);
    }
    prev = row;
  }
  return prev[n]!;
}

/** Φ(−z)·2 = erfc(z/√2), for z ≥ 0. */
function twoSidedNormalP(z: number): number {
  return Math.min(1, erfc(z / Math.SQRT2));
}

/**
 * Complementary error function by the Chebyshev fit of Numerical Recipes (erfcc): relative error
 * below 1.2·10⁻⁷ everywhere, which is far finer than any p-value is read.
 */
const ERFC_COEFFS = [
  -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587, -0.82215223,
  0.17087277,
];
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  let poly = 0;
  for (let i = ERFC_COEFFS.length - 1; i >= 0; i--) poly = poly * t + ERFC_COEFFS[i]!;
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}

/**
 * Two-sided Mann–Whitney U test (Wilcoxon rank-sum). It assumes nothing about the shape of the
 * distributions, which matters for latencies (skewed, with slow tails) and for 3 to 10 trials,
 * far too few to check normality. Exact p from the null distribution of U when there are no ties
 * and at most MANN_WHITNEY_EXACT_MAX_N values; otherwise the normal approximation with the tie
 * correction of the variance and a continuity correction (what SciPy's 'asymptotic' gives).
 */
export function mannWhitney(a: readonly number[], b: readonly number[]): MannWhitneyResult {
  checkNonEmpty('mannWhitney a', a);
  checkNonEmpty('mannWhitney b', b);
  const m = a.length;
  const n = b.length;
  const N = m + n;
  const all = [...a.map((v) => ({ v, fromA: true })), ...b.map((v) => ({ v, fromA: false }))].sort((x, y) => x.v - y.v);
  let rankSumA = 0;
  let tieTerm = 0; // Σ (t³ − t) over groups of t tied values
  for (let i = 0; i < N; ) {
    let j = i;
    while (j + 1 < N && all[j + 1]!.v === all[i]!.v) j++;
    const midrank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (all[k]!.fromA) rankSumA += midrank;
    const t = j - i + 1;
    tieTerm += t * t * t - t;
    i = j + 1;
  }
  const u = rankSumA - (m * (m + 1)) / 2;
  const mn = m * n;

  if (tieTerm === 0 && N <= MANN_WHITNEY_EXACT_MAX_N) {
    const counts = exactUCounts(m, n);
    const total = counts.reduce((s, c) => s + c, 0);
    // The null distribution is symmetric about mn/2: take the nearer tail and double it.
    const tailEnd = Math.min(u, mn - u);
    let tail = 0;
    for (let k = 0; k <= tailEnd; k++) tail += counts[k]!;
    return { u, pValue: Math.min(1, (2 * tail) / total) };
  }

  const variance = (mn / 12) * (N + 1 - tieTerm / (N * (N - 1)));
  if (variance <= 0) return { u, pValue: 1 }; // every value equal: nothing to tell apart
  const z = Math.max(0, Math.abs(u - mn / 2) - 0.5) / Math.sqrt(variance);
  return { u, pValue: twoSidedNormalP(z) };
}

/**
 * The smallest two-sided p the U test can give for m against n values: both samples fully
 * separated, 2 / C(m + n, m) (ties only raise it). At or above the significance level no
 * result can be significant, whatever the trials show.
 */
export function minimumPValue(m: number, n: number): number {
  if (!Number.isInteger(m) || !Number.isInteger(n) || m < 1 || n < 1) {
    throw new RangeError(`minimumPValue: sizes ${m} and ${n} are not both whole numbers ≥ 1`);
  }
  let c = 1; // C(m + n, m), built up as a product of ratios to stay in range
  for (let k = 1; k <= m; k++) c = (c * (n + k)) / k;
  return Math.min(1, 2 / c);
}

/**
 * A variant's trial p50s against the baseline's: the speedup δ (baseline ÷ variant, > 1 is
 * faster) with its interval and the U test. A verdict needs both the interval to exclude 1× and
 * p < alpha: the interval alone is too optimistic with few trials, the test alone says nothing
 * about size. Null when the ratio cannot be formed (an empty sample, a latency ≤ 0).
 */
export function compareTrials(
  baseP50s: readonly number[],
  variantP50s: readonly number[],
  opts: CompareOptions = {},
): TrialComparison | null {
  const alpha = opts.alpha ?? SIGNIFICANCE;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`compareTrials: alpha is ${alpha}, not in (0, 1)`);
  const speedup = ratioCI(baseP50s, variantP50s, opts);
  if (speedup === null) return null;
  const { pValue } = mannWhitney(baseP50s, variantP50s);
  let verdict: Verdict = 'no measurable difference';
  if (pValue < alpha && speedup.lo > 1) verdict = 'faster';
  else if (pValue < alpha && speedup.hi < 1) verdict = 'slower';
  return { speedup, pValue, verdict };
}

type EstimatedFigure =
  | 'latencyP50Ms'
  | 'latencyP90Ms'
  | 'latencyP95Ms'
  | 'latencyP99Ms'
  | 'latencyMeanMs'
  | 'inferencesPerS'
  | 'energyPerInferenceJ'
  | 'netEnergyPerInferenceJ';

function present(values: readonly (number | null)[]): number[] {
  return values.filter((v): v is number => v !== null && Number.isFinite(v));
}

/** Three significant digits, without exponent notation for the sizes that occur here. */
function fmt(x: number): string {
  return String(Number(x.toPrecision(3)));
}

function pct(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(2))} %`;
}

/** Trial numbers as a person writes them: 1, 3–5. */
function trialList(numbers: readonly number[]): string {
  const runs: string[] = [];
  for (let k = 0; k < numbers.length; ) {
    let end = k;
    while (end + 1 < numbers.length && numbers[end + 1] === numbers[end]! + 1) end++;
    runs.push(end > k + 1 ? `${numbers[k]}–${numbers[end]}` : end === k + 1 ? `${numbers[k]}, ${numbers[end]}` : `${numbers[k]}`);
    k = end + 1;
  }
  return runs.join(', ');
}

/** "5.2 s" for one value, "9.7–9.8 s" for a range. */
function span(values: readonly number[], unit: string): string {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return fmt(lo) === fmt(hi) ? `${fmt(lo)}${unit}` : `${fmt(lo)}–${fmt(hi)}${unit}`;
}

function shortTrialsWarning(trials: readonly TrialInput[]): string | null {
  const short: { n: number; s: number }[] = [];
  const few: { n: number; q: number }[] = [];
  trials.forEach((t, i) => {
    if (t.durationS !== null && Number.isFinite(t.durationS) && t.durationS < MIN_TRIAL_S) short.push({ n: i + 1, s: t.durationS });
    if (t.inferences !== null && Number.isFinite(t.inferences) && t.inferences < MIN_TRIAL_QUERIES) few.push({ n: i + 1, q: t.inferences });
  });
  if (short.length === 0 && few.length === 0) return null;
  const which = (list: readonly { n: number }[]) => (list.length === trials.length && list.length > 1 ? `all ${list.length} trials` : `trial${list.length > 1 ? 's' : ''} ${trialList(list.map((x) => x.n))}`);
  const parts: string[] = [];
  if (short.length > 0) parts.push(`${which(short)} ran only ${span(short.map((x) => x.s), ' s')}`);
  if (few.length > 0) parts.push(`${which(few)} measured only ${span(few.map((x) => x.q), '')} inferences`);
  return (
    `${parts.join('; ')}: a trial needs at least ${MIN_TRIAL_S} s and ${MIN_TRIAL_QUERIES} measured inferences ` +
    `for steady clocks and a stable p50, so run each trial longer (MLPerf runs at least 60 s and 1024 queries)`
  );
}

function fewTrialsWarning(m: number, n: number, alpha: number): string {
  const who = m === n ? `with ${n} trials per variant` : `with ${m} baseline and ${n} variant trials`;
  const minP = minimumPValue(m, n);
  const reach =
    minP >= alpha
      ? `no difference can reach p < ${alpha} (the smallest possible p is ${fmt(minP)})`
      : `only fully separated trials can reach p < ${alpha} (the smallest possible p is ${fmt(minP)})`;
  return `${who} ${reach}; use --repeat 5 or more`;
}

/**
 * A group of trials (repeats of one variant) summarised: each figure's median over the trials
 * with a bootstrap interval, the spread of the p50s, the comparison with the baseline's trials
 * when given, and warnings that say what made the numbers shaky and how to steady them. Null
 * figures are skipped per figure, so a trial without a power meter still counts for latency.
 */
export function summariseTrials(
  trials: readonly TrialInput[],
  baseline: readonly TrialInput[] | null,
  opts: CompareOptions = {},
): TrialSummary {
  const alpha = opts.alpha ?? SIGNIFICANCE;
  const estimate = (figure: EstimatedFigure): Estimate | null =>
    bootstrapCI(present(trials.map((t) => t[figure])), median, opts);
  const p50s = present(trials.map((t) => t.latencyP50Ms));
  const trialCov = cov(p50s);
  const warnings: string[] = [];

  if (trialCov !== null && trialCov > MAX_TRIAL_COV) {
    warnings.push(
      `latency p50 varies ${pct(trialCov)} between trials (CoV): fix the power mode (nvpmodel -m 0), lock clocks ` +
        `(sudo jetson_clocks, nvidia-smi -lgc, or the CPU governor \`performance\`) and let the board cool between ` +
        `trials (--cooldown)`,
    );
  }
  const short = shortTrialsWarning(trials);
  if (short !== null) warnings.push(short);

  let versusBaseline: TrialComparison | null = null;
  let verdict: Verdict = 'baseline';
  if (baseline !== null) {
    verdict = 'no measurable difference';
    const baseP50s = present(baseline.map((t) => t.latencyP50Ms));
    if (baseP50s.length >= 1 && p50s.length >= 1) {
      versusBaseline = compareTrials(baseP50s, p50s, opts);
      if (versusBaseline !== null) verdict = versusBaseline.verdict;
      if (Math.min(baseP50s.length, p50s.length) < MIN_TRIALS_FOR_TEST) {
        warnings.push(fewTrialsWarning(baseP50s.length, p50s.length, alpha));
      }
    }
  }

  const withinCovs = present(trials.map((t) => t.latencyCov));
  if (withinCovs.length > 0) {
    const typical = median(withinCovs);
    if (typical > MAX_WITHIN_TRIAL_COV) {
      warnings.push(
        `latency within a trial varies ${pct(typical)} (CoV of the median trial): the distribution is wide or has ` +
          `a slow tail, so p99 may be more telling than p50`,
      );
    }
  }

  return {
    n: trials.length,
    latencyP50Ms: estimate('latencyP50Ms'),
    latencyP90Ms: estimate('latencyP90Ms'),
    latencyP95Ms: estimate('latencyP95Ms'),
    latencyP99Ms: estimate('latencyP99Ms'),
    latencyMeanMs: estimate('latencyMeanMs'),
    inferencesPerS: estimate('inferencesPerS'),
    energyPerInferenceJ: estimate('energyPerInferenceJ'),
    netEnergyPerInferenceJ: estimate('netEnergyPerInferenceJ'),
    cov: trialCov,
    versusBaseline,
    verdict,
    warnings,
  };
}
