// Experiment comparison maths: pure functions over what the store returns (timings as merged
// histograms, raw metric samples), so every figure is testable without SQLite. With an original
// model M (a parameters, latency s) and a compressed M* (a*, s*): compression α = a / a*, space
// saving β = (a − a*) / a*, speedup δ = s / s*.
import { LogHistogram, type HistogramSummary } from '../../shared/histogram.js';
import type {
  ComparisonResponse,
  ExperimentFigure,
  ExperimentStats,
  ExperimentSummary,
  LatencySource,
  PowerSource,
  RepeatFigure,
  RepeatGroup,
} from '../../shared/live.js';

/** Every numeric figure, in export column order. */
export const EXPERIMENT_FIGURES: readonly ExperimentFigure[] = [
  'params',
  'modelBytes',
  'durationS',
  'inferences',
  'items',
  'inferencesPerS',
  'itemsPerS',
  'latencyMeanMs',
  'latencyP50Ms',
  'latencyP90Ms',
  'latencyP99Ms',
  'latencyMaxMs',
  'latencyStdevMs',
  'cpuUtilMean',
  'cpuUtilPeak',
  'gpuUtilMean',
  'gpuUtilPeak',
  'memUsedPeakBytes',
  'powerMeanW',
  'powerPeakW',
  'energyJ',
  'energyPerInferenceJ',
  'tempPeakC',
  'speedupP50',
  'speedupMean',
  'compressionParams',
  'spaceSavingParams',
  'compressionBytes',
  'spaceSavingBytes',
];

export type SampleSeries = readonly (readonly [t: number, v: number])[];

export interface ModelTimingsInput {
  model: string;
  histogram: HistogramSummary;
  items: number;
}

/** What the store gives for one experiment. */
export interface ExperimentInput {
  experiment: Omit<ExperimentSummary, 'models' | 'inferences'>;
  /** End of the figures' range: `end`, or the newest data of a running experiment. */
  rangeEnd: number;
  timings: readonly ModelTimingsInput[];
  latencySource: LatencySource | null;
  /** Raw samples by metric name (at least those comparisonMetrics picks); only [start, rangeEnd] is used. */
  samples: Readonly<Record<string, SampleSeries>>;
}

const GPU_UTIL_RE = /^gpu\.\d+\.util$/;
const GPU_POWER_RE = /^gpu\.\d+\.power$/;
const GPU_TEMP_RE = /^gpu\.\d+\.temp$/;
const RAPL_RE = /^power\.rapl\.(package_[a-z0-9_]*|dram[a-z0-9_]*)$/;
const HWMON_POWER_RE = /^power\.hwmon\./;
const TEMP_RE = /^temp\./;
export const THROTTLE_FLAGS = [
  'pi.throttle.under_voltage',
  'pi.throttle.freq_capped',
  'pi.throttle.throttled',
  'pi.throttle.soft_temp_limit',
] as const;

/** Of a device's metric names, the ones a comparison reads. */
export function comparisonMetrics(names: readonly string[]): string[] {
  const fixed = new Set<string>(['cpu.util', 'mem.used', 'power.board', ...THROTTLE_FLAGS]);
  return names.filter(
    (n) =>
      fixed.has(n) ||
      GPU_UTIL_RE.test(n) ||
      GPU_POWER_RE.test(n) ||
      GPU_TEMP_RE.test(n) ||
      RAPL_RE.test(n) ||
      HWMON_POWER_RE.test(n) ||
      TEMP_RE.test(n),
  );
}

/** Picks the power metrics by preference: a board input rail measures everything; rails summed come next. */
export function choosePower(names: readonly string[]): { source: PowerSource; metrics: string[] } | null {
  if (names.includes('power.board')) return { source: 'board', metrics: ['power.board'] };
  const parts = names.filter((n) => GPU_POWER_RE.test(n) || RAPL_RE.test(n)).sort();
  if (parts.length > 0) return { source: 'gpu+rapl', metrics: parts };
  const hwmon = names.filter((n) => HWMON_POWER_RE.test(n)).sort();
  if (hwmon.length > 0) return { source: 'hwmon', metrics: hwmon };
  return null;
}

/**
 * Sums (or averages) several series at each timestamp any of them has. Agents sample every
 * metric on the same tick, so the timestamps line up; a tick missing a component just counts
 * the ones present.
 */
export function combineByTime(series: readonly SampleSeries[], how: 'sum' | 'mean'): [number, number][] {
  const at = new Map<number, { sum: number; n: number }>();
  for (const s of series) {
    for (const [t, v] of s) {
      const cell = at.get(t);
      if (cell) {
        cell.sum += v;
        cell.n += 1;
      } else at.set(t, { sum: v, n: 1 });
    }
  }
  return [...at.entries()].sort((a, b) => a[0] - b[0]).map(([t, c]) => [t, how === 'sum' ? c.sum : c.sum / c.n]);
}

/** ∫ v dt in value·seconds by the trapezoid rule over time-ordered points; null with fewer than two. */
export function trapezoid(points: SampleSeries): number | null {
  if (points.length < 2) return null;
  let area = 0;
  for (let k = 1; k < points.length; k++) {
    const [t0, v0] = points[k - 1]!;
    const [t1, v1] = points[k]!;
    area += ((v0 + v1) / 2) * ((t1 - t0) / 1000);
  }
  return area;
}

function meanOf(points: SampleSeries): number | null {
  if (points.length === 0) return null;
  let sum = 0;
  for (const [, v] of points) sum += v;
  return sum / points.length;
}

function peakOf(points: SampleSeries): number | null {
  if (points.length === 0) return null;
  let max = -Infinity;
  for (const [, v] of points) if (v > max) max = v;
  return max;
}

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** a ÷ b where both exist and b > 0. */
export function ratio(a: number | null, b: number | null): number | null {
  return a !== null && b !== null && b > 0 ? a / b : null;
}

/** β = (a − a*) ÷ a*. */
export function spaceSaving(base: number | null, other: number | null): number | null {
  return base !== null && other !== null && other > 0 ? (base - other) / other : null;
}

type OwnStats = Omit<ExperimentStats, 'speedupP50' | 'speedupMean' | 'compressionParams' | 'spaceSavingParams' | 'compressionBytes' | 'spaceSavingBytes'>;

/** One experiment's own figures (nothing relative to a baseline yet). */
export function experimentStats(input: ExperimentInput): OwnStats {
  const { experiment: e, rangeEnd } = input;
  const inRange = (name: string): SampleSeries => (input.samples[name] ?? []).filter(([t]) => t >= e.start && t <= rangeEnd);
  const names = Object.keys(input.samples).filter((n) => inRange(n).length > 0);

  const hist = new LogHistogram();
  let items = 0;
  const models: string[] = [];
  for (const m of input.timings) {
    hist.merge(m.histogram);
    items += m.items;
    if (m.histogram.count > 0) models.push(m.model);
  }
  const inferences = hist.count;
  const durationS = Math.max(0, rangeEnd - e.start) / 1000;
  const perS = (n: number): number | null => (durationS > 0 ? n / durationS : null);
  const latency = (x: number): number | null => (inferences > 0 ? finite(x) : null);

  const cpu = inRange('cpu.util');
  const gpu = combineByTime(names.filter((n) => GPU_UTIL_RE.test(n)).map(inRange), 'mean');
  const power = choosePower(names);
  const powerSeries = power ? combineByTime(power.metrics.map(inRange), 'sum') : [];
  const energyJ = trapezoid(powerSeries);
  const temps = names.filter((n) => TEMP_RE.test(n) || GPU_TEMP_RE.test(n)).map((n) => peakOf(inRange(n))!);
  const flags = THROTTLE_FLAGS.filter((n) => names.includes(n));

  return {
    ...e,
    models: models.sort(),
    inferences,
    running: e.end === null,
    items,
    durationS,
    inferencesPerS: perS(inferences),
    itemsPerS: perS(items),
    latencySource: inferences > 0 ? input.latencySource : null,
    latencyMeanMs: latency(hist.mean),
    latencyP50Ms: latency(hist.quantile(0.5)),
    latencyP90Ms: latency(hist.quantile(0.9)),
    latencyP99Ms: latency(hist.quantile(0.99)),
    latencyMaxMs: latency(hist.max),
    latencyStdevMs: latency(hist.stdev),
    cpuUtilMean: meanOf(cpu),
    cpuUtilPeak: peakOf(cpu),
    gpuUtilMean: meanOf(gpu),
    gpuUtilPeak: peakOf(gpu),
    memUsedPeakBytes: peakOf(inRange('mem.used')),
    powerSource: power?.source ?? null,
    powerMetrics: power?.metrics ?? [],
    powerMeanW: meanOf(powerSeries),
    powerPeakW: peakOf(powerSeries),
    energyJ,
    energyPerInferenceJ: energyJ !== null && inferences > 0 ? energyJ / inferences : null,
    tempPeakC: temps.length > 0 ? Math.max(...temps) : null,
    throttled: flags.length > 0 ? flags.some((n) => inRange(n).some(([, v]) => v === 1)) : null,
  };
}

/** Adds the figures relative to the baseline: δ, α, β (1, 1, 0 for the baseline itself). */
export function versusBaseline(own: OwnStats, base: OwnStats): ExperimentStats {
  return {
    ...own,
    speedupP50: ratio(base.latencyP50Ms, own.latencyP50Ms),
    speedupMean: ratio(base.latencyMeanMs, own.latencyMeanMs),
    compressionParams: ratio(base.params, own.params),
    spaceSavingParams: spaceSaving(base.params, own.params),
    compressionBytes: ratio(base.modelBytes, own.modelBytes),
    spaceSavingBytes: spaceSaving(base.modelBytes, own.modelBytes),
  };
}

/** Mean and sample standard deviation (n − 1) of the values that exist. */
export function repeatFigure(values: readonly (number | null)[]): RepeatFigure {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return { n, mean: null, stdev: null };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { n, mean, stdev: null };
  const ss = xs.reduce((a, x) => a + (x - mean) * (x - mean), 0);
  return { n, mean, stdev: Math.sqrt(ss / (n - 1)) };
}

/** One group per distinct name, in order of first appearance. */
export function repeatGroups(stats: readonly ExperimentStats[]): RepeatGroup[] {
  const byName = new Map<string, ExperimentStats[]>();
  for (const s of stats) {
    const runs = byName.get(s.name);
    if (runs) runs.push(s);
    else byName.set(s.name, [s]);
  }
  return [...byName.entries()].map(([name, runs]) => {
    const figures = {} as Record<ExperimentFigure, RepeatFigure>;
    for (const f of EXPERIMENT_FIGURES) figures[f] = repeatFigure(runs.map((r) => r[f]));
    return { name, runs: runs.length, ids: runs.map((r) => r.id), figures };
  });
}

/** The whole comparison. `baselineId` must be one of the inputs' ids (the caller checks). */
export function compareExperiments(inputs: readonly ExperimentInput[], baselineId: string): ComparisonResponse {
  const own = inputs.map(experimentStats);
  const base = own.find((s) => s.id === baselineId);
  if (!base) throw new Error(`baseline ${JSON.stringify(baselineId)} is not among the compared experiments`);
  const experiments = own.map((s) => versusBaseline(s, base));
  return { baseline: baselineId, experiments, groups: repeatGroups(experiments) };
}
