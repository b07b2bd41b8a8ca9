// Across-trial statistics: textbook values for the basic figures and the U test (reference
// p-values from SciPy 1.17 `mannwhitneyu`), reproducible bootstrap intervals, verdicts on
// clearly different and on identically distributed trials, and the warnings.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bootstrapCI,
  compareTrials,
  cov,
  MAX_TRIAL_COV,
  mannWhitney,
  mean,
  median,
  MIN_TRIAL_QUERIES,
  MIN_TRIAL_S,
  minimumPValue,
  mulberry32,
  quantile,
  ratioCI,
  sampleStdev,
  summariseTrials,
  type TrialInput,
} from '../../shared/trial-stats.js';

/** Normal draws (Box–Muller) from the module's own generator, so data sets are reproducible. */
function normals(n: number, mu: number, sigma: number, seed: number): number[] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => mu + sigma * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));
}

function trial(p50: number | null, extra: Partial<TrialInput> = {}): TrialInput {
  return {
    latencyP50Ms: p50,
    latencyP90Ms: p50 === null ? null : p50 * 1.2,
    latencyP95Ms: p50 === null ? null : p50 * 1.3,
    latencyP99Ms: p50 === null ? null : p50 * 1.6,
    latencyMeanMs: p50 === null ? null : p50 * 1.05,
    latencyCov: 0.1,
    inferencesPerS: p50 === null ? null : 1000 / p50,
    energyPerInferenceJ: null,
    netEnergyPerInferenceJ: null,
    inferences: 5000,
    durationS: 30,
    ...extra,
  };
}

describe('basic figures', () => {
  it('gives the textbook median, type-7 quantiles, mean, stdev and CoV', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(quantile([1, 2, 3, 4], 0.25)).toBeCloseTo(1.75, 12);
    expect(quantile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9)).toBeCloseTo(9.1, 12);
    expect(quantile([5, 1], 0)).toBe(1);
    expect(quantile([5, 1], 1)).toBe(5);
    expect(mean([1, 2, 3, 6])).toBe(3);
    expect(sampleStdev([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(cov([2, 4, 4, 4, 5, 5, 7, 9])).toBeCloseTo(Math.sqrt(32 / 7) / 5, 12);
  });

  it('leaves the input unsorted', () => {
    const xs = [3, 1, 2];
    median(xs);
    quantile(xs, 0.9);
    expect(xs).toEqual([3, 1, 2]);
  });

  it('answers null where a figure is undefined, and refuses bad input naming the value', () => {
    expect(sampleStdev([1])).toBeNull();
    expect(cov([])).toBeNull();
    expect(cov([5])).toBeNull();
    expect(cov([-1, 1])).toBeNull();
    expect(() => median([])).toThrow(/empty/);
    expect(() => quantile([1, 2], 1.5)).toThrow(/1\.5/);
    expect(() => mean([1, Number.NaN])).toThrow(/NaN/);
    expect(() => bootstrapCI([1, 2], median, { resamples: 0 })).toThrow(/resamples is 0/);
    expect(() => bootstrapCI([1, 2], median, { confidence: 95 })).toThrow(/confidence is 95/);
  });
});

describe('mulberry32', () => {
  it('repeats for a seed, differs between seeds and stays in [0, 1)', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(mean(xs)).toBeGreaterThan(0.45);
    expect(mean(xs)).toBeLessThan(0.55);
  });
});

describe('bootstrapCI', () => {
  it('is reproducible: the same seed gives the same interval, another seed another one', () => {
    const xs = normals(8, 10, 1, 1);
    const a = bootstrapCI(xs, median, { seed: 7 });
    expect(bootstrapCI(xs, median, { seed: 7 })).toEqual(a);
    expect(bootstrapCI(xs)).toEqual(bootstrapCI(xs));
    expect(bootstrapCI(xs, median, { seed: 8, resamples: 500 })).not.toEqual(bootstrapCI(xs, median, { seed: 7, resamples: 500 }));
    expect(a!.value).toBe(median(xs));
    expect(a!.lo).toBeLessThan(a!.value);
    expect(a!.hi).toBeGreaterThan(a!.value);
  });

  it('is null for no values and a point for one', () => {
    expect(bootstrapCI([])).toBeNull();
    expect(bootstrapCI([4.2])).toEqual({ value: 4.2, lo: 4.2, hi: 4.2 });
  });

  it('for the mean of 200 normal values, is about ±1.96 σ/√n wide', () => {
    const xs = normals(200, 50, 5, 3);
    const ci = bootstrapCI(xs, mean, { resamples: 4000 })!;
    const half = (1.96 * sampleStdev(xs)!) / Math.sqrt(xs.length);
    expect(ci.hi - ci.lo).toBeGreaterThan(2 * half * 0.85);
    expect(ci.hi - ci.lo).toBeLessThan(2 * half * 1.15);
    expect(ci.lo).toBeLessThan(50);
    expect(ci.hi).toBeGreaterThan(50);
  });

  it('keeps lo ≤ value ≤ hi, inside the sample range, for any sample (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 20 }),
        fc.integer(),
        (xs, seed) => {
          const ci = bootstrapCI(xs, median, { resamples: 200, seed })!;
          expect(ci.lo).toBeLessThanOrEqual(ci.value);
          expect(ci.value).toBeLessThanOrEqual(ci.hi);
          expect(ci.lo).toBeGreaterThanOrEqual(Math.min(...xs));
          expect(ci.hi).toBeLessThanOrEqual(Math.max(...xs));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('ratioCI', () => {
  it('is null for an empty sample or a latency ≤ 0', () => {
    expect(ratioCI([], [1])).toBeNull();
    expect(ratioCI([1], [])).toBeNull();
    expect(ratioCI([1, 2], [0, 0, 0])).toBeNull();
    expect(ratioCI([-1, 2, 3], [1, 2])).toBeNull();
  });

  it('is median ÷ median, a point for one trial each', () => {
    expect(ratioCI([4], [2])).toEqual({ value: 2, lo: 2, hi: 2 });
    expect(ratioCI([3, 4, 5], [1, 2, 9])!.value).toBe(2);
  });
});

describe('mannWhitney', () => {
  it('gives the exact p for small samples without ties (SciPy, method="exact")', () => {
    // Fully separated 5 vs 5: only 2 of the C(10, 5) = 252 arrangements are as extreme.
    expect(mannWhitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])).toEqual({ u: 0, pValue: 2 / 252 });
    expect(mannWhitney([6, 7, 8, 9, 10], [1, 2, 3, 4, 5])).toEqual({ u: 25, pValue: 2 / 252 });
    expect(mannWhitney([1, 2, 3], [4, 5, 6]).pValue).toBeCloseTo(0.1, 12);
    expect(mannWhitney([1, 2, 4, 7, 9], [3, 5, 6, 8, 10])).toEqual({ u: 8, pValue: expect.closeTo(0.42063492063492064, 12) });
    const r = mannWhitney([1.1, 2.5, 3.2, 4.8, 6.0, 7.7], [2.2, 5.1, 8.3, 9.0]);
    expect(r.u).toBe(7);
    expect(r.pValue).toBeCloseTo(0.35238095238095235, 12);
  });

  it('uses the tie- and continuity-corrected normal approximation with ties or many values (SciPy, "asymptotic")', () => {
    const tied = mannWhitney([1, 2, 2, 3, 3, 3], [2, 3, 4, 4, 5]);
    expect(tied.u).toBe(5.5);
    expect(tied.pValue).toBeCloseTo(0.08871369199677616, 6);
    const a = Array.from({ length: 13 }, (_, i) => Math.round((1 + i * 1.1) * 100) / 100);
    const b = Array.from({ length: 12 }, (_, i) => Math.round((4.05 + i * 1.3) * 100) / 100);
    const big = mannWhitney(a, b);
    expect(big.u).toBe(45);
    expect(big.pValue).toBeCloseTo(0.0770998717435417, 6);
  });

  it('gives p = 1 for identical samples', () => {
    expect(mannWhitney([1, 2, 3, 4], [1, 2, 3, 4]).pValue).toBe(1);
    expect(mannWhitney([5, 5, 5], [5, 5]).pValue).toBe(1);
    expect(mannWhitney([3], [3]).pValue).toBe(1);
  });

  it('has a smallest p of 2 / C(m + n, m): 3 trials each can never reach 0.05', () => {
    expect(minimumPValue(3, 3)).toBeCloseTo(0.1, 12);
    expect(minimumPValue(5, 5)).toBeCloseTo(2 / 252, 12);
    expect(minimumPValue(4, 4)).toBeLessThan(0.05);
    expect(minimumPValue(3, 4)).toBeGreaterThan(0.05);
  });

  it('rejects identically distributed 5-vs-5 trials about 5 % of the time or less', () => {
    let rejected = 0;
    const runs = 2000;
    for (let s = 0; s < runs; s++) {
      if (mannWhitney(normals(5, 4, 0.1, 2 * s + 1), normals(5, 4, 0.1, 2 * s + 2)).pValue < 0.05) rejected++;
    }
    // The exact 5-vs-5 test is conservative: P(p < 0.05) = 0.032 under the null.
    expect(rejected / runs).toBeGreaterThan(0.015);
    expect(rejected / runs).toBeLessThan(0.05);
  });

  it('is symmetric and gives p in (0, 1] (property)', () => {
    const sample = fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 15 });
    fc.assert(
      fc.property(sample, sample, (a, b) => {
        const ab = mannWhitney(a, b);
        const ba = mannWhitney(b, a);
        expect(ab.pValue).toBeGreaterThan(0);
        expect(ab.pValue).toBeLessThanOrEqual(1);
        expect(ba.pValue).toBeCloseTo(ab.pValue, 12);
        expect(ab.u + ba.u).toBe(a.length * b.length);
      }),
      { numRuns: 300 },
    );
  });
});

describe('compareTrials', () => {
  it('finds a 2× speedup for 4 ms → 2 ms trials with a few % noise', () => {
    const base = [-0.03, 0.02, 0.01, -0.01, 0.04].map((e) => 4 * (1 + e));
    const variant = [0.02, -0.02, 0.03, 0.015, -0.01].map((e) => 2 * (1 + e));
    const c = compareTrials(base, variant)!;
    expect(c.speedup.value).toBeCloseTo(4.04 / 2.03, 12);
    expect(c.speedup.lo).toBeLessThan(2);
    expect(c.speedup.hi).toBeGreaterThan(2);
    expect(c.speedup.lo).toBeGreaterThan(1);
    expect(c.pValue).toBeCloseTo(2 / 252, 12);
    expect(c.verdict).toBe('faster');
    expect(compareTrials(variant, base)!.verdict).toBe('slower');
  });

  it('covers the true 2× in about 95 % of repeated 5-vs-5 experiments', () => {
    let covered = 0;
    const runs = 200;
    for (let s = 0; s < runs; s++) {
      const c = compareTrials(normals(5, 4, 0.08, 1000 + 2 * s), normals(5, 2, 0.04, 1001 + 2 * s), { resamples: 1000 })!;
      if (c.speedup.lo <= 2 && c.speedup.hi >= 2) covered++;
    }
    expect(covered / runs).toBeGreaterThan(0.88);
    expect(covered / runs).toBeLessThan(1);
  });

  it('finds no difference between trials from one distribution', () => {
    const c = compareTrials(normals(5, 4, 0.1, 21), normals(5, 4, 0.1, 22))!;
    expect(c.speedup.lo).toBeLessThan(1);
    expect(c.speedup.hi).toBeGreaterThan(1);
    expect(c.pValue).toBeGreaterThan(0.05);
    expect(c.verdict).toBe('no measurable difference');
  });

  it('gives no verdict from 3 trials each, however far apart', () => {
    const c = compareTrials([4, 4.1, 4.05], [2, 2.02, 2.01])!;
    expect(c.speedup.lo).toBeGreaterThan(1);
    expect(c.pValue).toBeCloseTo(0.1, 12);
    expect(c.verdict).toBe('no measurable difference');
  });

  it('is null when the ratio cannot be formed', () => {
    expect(compareTrials([], [1, 2])).toBeNull();
    expect(compareTrials([1, 2], [0, 1])).toBeNull();
  });
});

describe('summariseTrials', () => {
  const steadyBase = normals(5, 4, 0.04, 31).map((p) => trial(p));
  const steadyFast = normals(5, 2, 0.02, 32).map((p) => trial(p));

  it('summarises a steady baseline without warnings', () => {
    const s = summariseTrials(steadyBase, null);
    expect(s.n).toBe(5);
    expect(s.verdict).toBe('baseline');
    expect(s.versusBaseline).toBeNull();
    expect(s.warnings).toEqual([]);
    const p50s = steadyBase.map((t) => t.latencyP50Ms!);
    expect(s.latencyP50Ms).toEqual(bootstrapCI(p50s));
    expect(s.latencyP99Ms!.value).toBeCloseTo(median(p50s) * 1.6, 12);
    expect(s.cov).toBeCloseTo(cov(p50s)!, 12);
    expect(s.cov!).toBeLessThan(MAX_TRIAL_COV);
    expect(s.energyPerInferenceJ).toBeNull();
  });

  it('compares against the baseline and says faster', () => {
    const s = summariseTrials(steadyFast, steadyBase);
    expect(s.verdict).toBe('faster');
    expect(s.versusBaseline!.speedup.lo).toBeGreaterThan(1);
    expect(s.warnings).toEqual([]);
  });

  it('skips null figures per figure', () => {
    const trials = [trial(2, { energyPerInferenceJ: 0.5 }), trial(3), trial(null), trial(4, { energyPerInferenceJ: 0.7 })];
    const s = summariseTrials(trials, null);
    expect(s.n).toBe(4);
    expect(s.latencyP50Ms!.value).toBe(3);
    expect(s.energyPerInferenceJ!.value).toBeCloseTo(0.6, 12);
    expect(summariseTrials([trial(null)], null).latencyP50Ms).toBeNull();
  });

  it('says no measurable difference when the comparison cannot be made', () => {
    const s = summariseTrials([trial(null)], steadyBase);
    expect(s.versusBaseline).toBeNull();
    expect(s.verdict).toBe('no measurable difference');
  });

  it('warns about a high trial-to-trial CoV with what to fix', () => {
    const s = summariseTrials([3.5, 4, 4.5, 4.1, 3.9].map((p) => trial(p)), null);
    expect(s.cov!).toBeGreaterThan(MAX_TRIAL_COV);
    expect(s.warnings).toHaveLength(1);
    expect(s.warnings[0]).toMatch(/^latency p50 varies 9 % between trials \(CoV\)/);
    expect(s.warnings[0]).toMatch(/nvpmodel -m 0/);
    expect(s.warnings[0]).toMatch(/--cooldown/);
  });

  it('names short trials and their figures', () => {
    const trials = steadyBase.map((t, i) =>
      i === 1 ? { ...t, durationS: 4.2 } : i === 3 ? { ...t, inferences: MIN_TRIAL_QUERIES - 50 } : t,
    );
    const s = summariseTrials(trials, null);
    expect(s.warnings).toHaveLength(1);
    expect(s.warnings[0]).toMatch(/trial 2 ran only 4\.2 s; trial 4 measured only 150 inferences/);
    expect(s.warnings[0]).toMatch(new RegExp(`${MIN_TRIAL_S} s`));
    expect(s.warnings[0]).toMatch(/MLPerf runs at least 60 s and 1024 queries/);
    // Many short trials: one sentence with the range, not one clause a trial.
    const allShort = summariseTrials(steadyBase.map((t, i) => ({ ...t, durationS: 9.7 + i / 100 })), null);
    expect(allShort.warnings[0]).toMatch(new RegExp(`^all ${steadyBase.length} trials ran only 9\\.7–9\\.7\\d s:`));
    const some = summariseTrials(steadyBase.map((t, i) => (i === 1 || i === 2 || i === 3 ? { ...t, durationS: 5 } : t)), null);
    expect(some.warnings[0]).toMatch(/^trials 2–4 ran only 5 s:/);
    const atLimits = steadyBase.map((t) => ({ ...t, durationS: MIN_TRIAL_S, inferences: MIN_TRIAL_QUERIES }));
    expect(summariseTrials(atLimits, null).warnings).toEqual([]);
  });

  it('warns that 3 trials per variant cannot reach p < 0.05, only when comparing', () => {
    const base = steadyBase.slice(0, 3);
    const fast = steadyFast.slice(0, 3);
    expect(summariseTrials(base, null).warnings).toEqual([]);
    const s = summariseTrials(fast, base);
    expect(s.verdict).toBe('no measurable difference');
    expect(s.warnings).toEqual([
      'with 3 trials per variant no difference can reach p < 0.05 (the smallest possible p is 0.1); use --repeat 5 or more',
    ]);
    expect(summariseTrials(steadyFast.slice(0, 3), steadyBase).warnings).toEqual([
      'with 5 baseline and 3 variant trials only fully separated trials can reach p < 0.05 (the smallest possible p is 0.0357); use --repeat 5 or more',
    ]);
    expect(summariseTrials(steadyFast.slice(0, 4), steadyBase.slice(0, 4)).warnings).toEqual([]);
    expect(summariseTrials(steadyFast, steadyBase).warnings).toEqual([]);
  });

  it('warns about a wide within-trial distribution from the median trial', () => {
    const wide = steadyBase.map((t, i) => ({ ...t, latencyCov: [0.2, 0.8, 0.9, 0.7, 0.3][i]! }));
    const s = summariseTrials(wide, null);
    expect(s.warnings).toHaveLength(1);
    expect(s.warnings[0]).toMatch(/varies 70 % \(CoV of the median trial\).*p99 may be more telling than p50/);
    const oneOutlier = steadyBase.map((t, i) => ({ ...t, latencyCov: i === 0 ? 2 : 0.1 }));
    expect(summariseTrials(oneOutlier, null).warnings).toEqual([]);
  });
});
