// Experiment comparison maths: pure functions over what the store returns (timings as merged
// histograms, raw metric samples), so every figure is testable without SQLite. With an original
// model M (a parameters, latency s) and a compressed M* (a*, s*): compression α = a / a*, space
// saving β = (a − a*) / a*, speedup δ = s / s*.
import type { RunConditions } from '../../shared/conditions.js';
import { conditionWarnings } from '../../shared/conditions-diff.js';
import { LogHistogram, type HistogramSummary } from '../../shared/histogram.js';
import type { Score, Warmup } from '../../shared/inference.js';
import { summariseTrials, type TrialInput } from '../../shared/trial-stats.js';
import type {
  ComparisonResponse,
  ExperimentFigure,
  ExperimentStats,
  ExperimentSummary,
  LatencySource,
  PowerSource,
  RepeatFigure,
  RepeatGroup,
  SampleSource,
  ScoreDelta,
} from '../../shared/live.js';

/** Every numeric figure, in export column order. */
export const EXPERIMENT_FIGURES: readonly ExperimentFigure[] = [
  'params',
  'modelBytes',
  'durationS',
  'inferences',
  'warmupInferences',
  'timingsDropped',
  'items',
  'inferencesPerS',
  'itemsPerS',
  'latencyMeanMs',
  'latencyP50Ms',
  'latencyP90Ms',
  'latencyP95Ms',
  'latencyP99Ms',
  'latencyMaxMs',
  'latencyStdevMs',
  'latencyCov',
  'firstCallMs',
  'warmupMeanMs',
  'cpuUtilMean',
  'cpuUtilPeak',
  'gpuUtilMean',
  'gpuUtilPeak',
  'memUsedPeakBytes',
  'powerMeanW',
  'powerPeakW',
  'energyJ',
  'energyPerInferenceJ',
  'idlePowerW',
  'netEnergyJ',
  'netEnergyPerInferenceJ',
  'tempPeakC',
  'throttledS',
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
  /** Measured timings: the warm-up is never among them. */
  timings: readonly ModelTimingsInput[];
  latencySource: LatencySource | null;
  /**
   * Raw samples by metric name (at least those comparisonMetrics picks); [start, rangeEnd] is
   * the run, the idleWindowS before start the idle power.
   */
  samples: Readonly<Record<string, SampleSeries>>;
  warmup?: Warmup | null;
  warmupTimings?: readonly ModelTimingsInput[];
  /** Where the measured window begins after a warm-up (device clock, ms); null: at the start. */
  measuredFrom?: number | null;
  firstCallMs?: number | null;
  timingsDropped?: number | null;
  conditions?: RunConditions | null;
  scores?: readonly Score[];
}

/** Seconds before an experiment's start whose mean power is its idle power, by default. */
export const DEFAULT_IDLE_WINDOW_S = 10;

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

/** Median spacing of the points, s: how finely a series was sampled. */
function medianSpacingS(points: SampleSeries): number | null {
  if (points.length < 2) return null;
  const gaps: number[] = [];
  for (let k = 1; k < points.length; k++) gaps.push(points[k]![0] - points[k - 1]![0]);
  gaps.sort((a, b) => a - b);
  const mid = gaps.length >> 1;
  return (gaps.length % 2 ? gaps[mid]! : (gaps[mid - 1]! + gaps[mid]!) / 2) / 1000;
}

/** Seconds a 0/1 series held 1: each sample's value lasts until the next sample (the last until `end`). */
export function secondsAtOne(points: SampleSeries, end: number): number {
  let total = 0;
  for (let k = 0; k < points.length; k++) {
    const [t, v] = points[k]!;
    const next = k + 1 < points.length ? points[k + 1]![0] : Math.max(t, end);
    if (v === 1) total += (next - t) / 1000;
  }
  return total;
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

export type OwnStats = Omit<
  ExperimentStats,
  'speedupP50' | 'speedupMean' | 'compressionParams' | 'spaceSavingParams' | 'compressionBytes' | 'spaceSavingBytes' | 'scoreDeltas'
>;

function mergedTimings(timings: readonly ModelTimingsInput[]): { hist: LogHistogram; items: number; models: string[] } {
  const hist = new LogHistogram();
  let items = 0;
  const models: string[] = [];
  for (const m of timings) {
    hist.merge(m.histogram);
    items += m.items;
    if (m.histogram.count > 0) models.push(m.model);
  }
  return { hist, items, models };
}

/**
 * The figures taken from the device's metric samples rather than its timings: what raw retention
 * would take away, so experiment snapshots keep them and rollups can stand in for them.
 */
export interface SampleFigures {
  cpuUtilMean: number | null;
  cpuUtilPeak: number | null;
  gpuUtilMean: number | null;
  gpuUtilPeak: number | null;
  memUsedPeakBytes: number | null;
  powerSource: PowerSource | null;
  powerMetrics: string[];
  powerSampleIntervalS: number | null;
  powerMeanW: number | null;
  powerPeakW: number | null;
  energyJ: number | null;
  idlePowerW: number | null;
  tempPeakC: number | null;
  throttled: boolean | null;
  throttledS: number | null;
}

/** Where an experiment's measured window begins: after its warm-up when it had one, else at its start. */
export function measuredFrom(input: Pick<ExperimentInput, 'experiment' | 'rangeEnd' | 'warmup' | 'measuredFrom'>): number {
  const { experiment: e, rangeEnd } = input;
  return (input.warmup ?? null) !== null && input.measuredFrom != null ? Math.min(Math.max(input.measuredFrom, e.start), rangeEnd) : e.start;
}

/** The sample-derived figures from raw samples over the measured window (idle power from the idleWindowS before the start). */
export function rawSampleFigures(input: ExperimentInput, idleWindowS = DEFAULT_IDLE_WINDOW_S): SampleFigures {
  const { experiment: e, rangeEnd } = input;
  const from = measuredFrom(input);
  const between = (name: string, a: number, b: number): SampleSeries => (input.samples[name] ?? []).filter(([t]) => t >= a && t <= b);
  const inRange = (name: string): SampleSeries => between(name, from, rangeEnd);
  const names = Object.keys(input.samples).filter((n) => inRange(n).length > 0);
  const cpu = inRange('cpu.util');
  const gpu = combineByTime(names.filter((n) => GPU_UTIL_RE.test(n)).map(inRange), 'mean');
  const power = choosePower(names);
  const powerSeries = power ? combineByTime(power.metrics.map(inRange), 'sum') : [];
  const idleSeries = power && idleWindowS > 0 ? combineByTime(power.metrics.map((n) => between(n, e.start - idleWindowS * 1000, e.start - 1)), 'sum') : [];
  const temps = names.filter((n) => TEMP_RE.test(n) || GPU_TEMP_RE.test(n)).map((n) => peakOf(inRange(n))!);
  const flags = THROTTLE_FLAGS.filter((n) => names.includes(n));
  // Any flag set at a tick counts that tick as throttled.
  const throttleSeries = combineByTime(flags.map(inRange), 'sum').map(([t, v]): [number, number] => [t, v > 0 ? 1 : 0]);
  return {
    cpuUtilMean: meanOf(cpu),
    cpuUtilPeak: peakOf(cpu),
    gpuUtilMean: meanOf(gpu),
    gpuUtilPeak: peakOf(gpu),
    memUsedPeakBytes: peakOf(inRange('mem.used')),
    powerSource: power?.source ?? null,
    powerMetrics: power?.metrics ?? [],
    powerSampleIntervalS: medianSpacingS(powerSeries),
    powerMeanW: meanOf(powerSeries),
    powerPeakW: peakOf(powerSeries),
    energyJ: trapezoid(powerSeries),
    idlePowerW: meanOf(idleSeries),
    tempPeakC: temps.length > 0 ? Math.max(...temps) : null,
    throttled: flags.length > 0 ? throttleSeries.some(([, v]) => v === 1) : null,
    throttledS: flags.length > 0 ? secondsAtOne(throttleSeries, rangeEnd) : null,
  };
}

/** Raw sample values in the measured window: how much of the run raw retention has left (snapshots compare it). */
export function rawPointsInWindow(input: ExperimentInput): number {
  const from = measuredFrom(input);
  let n = 0;
  for (const series of Object.values(input.samples)) for (const [t] of series) if (t >= from && t <= input.rangeEnd) n++;
  return n;
}

/**
 * One experiment's own figures (nothing relative to a baseline yet). The sample-derived ones are
 * `given` when there is one (a snapshot's, or taken from rollups), else computed from the raw samples.
 */
export function experimentStats(
  input: ExperimentInput,
  idleWindowS = DEFAULT_IDLE_WINDOW_S,
  given?: { figures: SampleFigures; source: SampleSource },
): OwnStats {
  const { experiment: e, rangeEnd } = input;
  const warmup = input.warmup ?? null;
  // With a warm-up, the measured window (throughput, power, energy) begins where it ended.
  const from = measuredFrom(input);
  const { hist, items, models } = mergedTimings(input.timings);
  const warm = mergedTimings(input.warmupTimings ?? []);
  const inferences = hist.count;
  const durationS = Math.max(0, rangeEnd - from) / 1000;
  const perS = (n: number): number | null => (durationS > 0 ? n / durationS : null);
  const latency = (x: number): number | null => (inferences > 0 ? finite(x) : null);
  const s = given?.figures ?? rawSampleFigures(input, idleWindowS);
  const netEnergyJ = s.energyJ !== null && s.idlePowerW !== null ? s.energyJ - s.idlePowerW * durationS : null;
  const mean = latency(hist.mean);
  const stdev = latency(hist.stdev);

  return {
    ...e,
    models: [...new Set([...models, ...warm.models])].sort(),
    inferences,
    running: e.end === null,
    items,
    durationS,
    inferencesPerS: perS(inferences),
    itemsPerS: perS(items),
    latencySource: inferences > 0 ? input.latencySource : null,
    latencyMeanMs: mean,
    latencyP50Ms: latency(hist.quantile(0.5)),
    latencyP90Ms: latency(hist.quantile(0.9)),
    latencyP95Ms: latency(hist.quantile(0.95)),
    latencyP99Ms: latency(hist.quantile(0.99)),
    latencyMaxMs: latency(hist.max),
    latencyStdevMs: stdev,
    latencyCov: mean !== null && stdev !== null && mean > 0 ? stdev / mean : null,
    warmup,
    firstCallMs: input.firstCallMs ?? null,
    warmupInferences: warm.hist.count,
    warmupMeanMs: warm.hist.count > 0 ? finite(warm.hist.mean) : null,
    timingsDropped: input.timingsDropped ?? null,
    conditions: input.conditions ?? null,
    scores: [...(input.scores ?? [])],
    ...s,
    powerMetrics: [...s.powerMetrics],
    energyPerInferenceJ: s.energyJ !== null && inferences > 0 ? s.energyJ / inferences : null,
    netEnergyJ,
    netEnergyPerInferenceJ: netEnergyJ !== null && inferences > 0 ? netEnergyJ / inferences : null,
    sampleSource: given?.source ?? 'raw',
    snapshot: null,
  };
}

/** The sample-derived figures of computed stats (what a snapshot keeps when raw samples are gone). */
export function sampleFiguresOf(s: OwnStats): SampleFigures {
  return {
    cpuUtilMean: s.cpuUtilMean,
    cpuUtilPeak: s.cpuUtilPeak,
    gpuUtilMean: s.gpuUtilMean,
    gpuUtilPeak: s.gpuUtilPeak,
    memUsedPeakBytes: s.memUsedPeakBytes,
    powerSource: s.powerSource,
    powerMetrics: [...s.powerMetrics],
    powerSampleIntervalS: s.powerSampleIntervalS,
    powerMeanW: s.powerMeanW,
    powerPeakW: s.powerPeakW,
    energyJ: s.energyJ,
    idlePowerW: s.idlePowerW,
    tempPeakC: s.tempPeakC,
    throttled: s.throttled,
    throttledS: s.throttledS,
  };
}

/** Each score this experiment shares with the baseline, as a difference. */
export function scoreDeltas(own: readonly Score[], base: readonly Score[]): ScoreDelta[] {
  const byName = new Map(base.map((b) => [b.name, b]));
  const out: ScoreDelta[] = [];
  for (const s of own) {
    const b = byName.get(s.name);
    if (!b) continue;
    const delta = s.value - b.value;
    out.push({ name: s.name, better: s.better, value: s.value, baseline: b.value, delta, worse: s.better === 'higher' ? delta < 0 : delta > 0 });
  }
  return out;
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
    scoreDeltas: scoreDeltas(own.scores, base.scores),
  };
}

function trialInput(s: ExperimentStats): TrialInput {
  return {
    latencyP50Ms: s.latencyP50Ms,
    latencyP90Ms: s.latencyP90Ms,
    latencyP95Ms: s.latencyP95Ms,
    latencyP99Ms: s.latencyP99Ms,
    latencyMeanMs: s.latencyMeanMs,
    latencyCov: s.latencyCov,
    inferencesPerS: s.inferencesPerS,
    energyPerInferenceJ: s.energyPerInferenceJ,
    netEnergyPerInferenceJ: s.netEnergyPerInferenceJ,
    inferences: s.inferences,
    durationS: s.durationS,
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

/**
 * One group per distinct name, in order of first appearance. A group of two or more runs gets
 * trial statistics, each against the baseline's group (the one holding `baselineId`).
 */
export function repeatGroups(stats: readonly ExperimentStats[], baselineId?: string): RepeatGroup[] {
  const byName = new Map<string, ExperimentStats[]>();
  for (const s of stats) {
    const runs = byName.get(s.name);
    if (runs) runs.push(s);
    else byName.set(s.name, [s]);
  }
  const baseName = stats.find((s) => s.id === baselineId)?.name;
  const baseTrials = baseName === undefined ? null : byName.get(baseName)!.map(trialInput);
  return [...byName.entries()].map(([name, runs]) => {
    const figures = {} as Record<ExperimentFigure, RepeatFigure>;
    for (const f of EXPERIMENT_FIGURES) figures[f] = repeatFigure(runs.map((r) => r[f]));
    const trials = runs.length >= 2 ? summariseTrials(runs.map(trialInput), name === baseName ? null : baseTrials) : null;
    return { name, runs: runs.length, ids: runs.map((r) => r.id), figures, trials };
  });
}

/** How a run is named in plain-word warnings: its name, and its trial or place among repeats. */
function runLabels(stats: readonly ExperimentStats[]): string[] {
  const seen = new Map<string, number>();
  return stats.map((s) => {
    const k = (seen.get(s.name) ?? 0) + 1;
    seen.set(s.name, k);
    return `${s.name} #${s.tags.trial ?? k}`;
  });
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

/** What a reader must know to read the figures right: warm-up, drops, missing sensors, net energy. */
export function comparisonNotes(stats: readonly ExperimentStats[], idleWindowS: number): string[] {
  const notes: string[] = [];
  const withWarmup = stats.filter((s) => s.warmup !== null);
  if (withWarmup.length === 0) {
    notes.push('Nothing is excluded as warm-up: first calls are in every figure (first-call latency is shown apart). Use --warmup with edgewatch run or bench to exclude them.');
  } else {
    const specs = [...new Set(withWarmup.map((s) => ('calls' in s.warmup! ? `the first ${plural(s.warmup!.calls, 'call')} of each model` : `the first ${s.warmup!.ms / 1000} s`)))];
    const without = stats.length - withWarmup.length;
    notes.push(
      `Warm-up excluded from the measured figures (${specs.join('; ')})${without > 0 ? `; ${plural(without, 'run')} had no warm-up and include every call` : ''}.`,
    );
  }
  const dropped = stats.filter((s) => (s.timingsDropped ?? 0) > 0);
  for (const s of dropped) {
    notes.push(`${s.name} (${s.id}): the agent received ${plural(s.timingsDropped!, 'timing')} it could not count (over a bound); the figures miss them.`);
  }
  const unknown = stats.filter((s) => s.timingsDropped === null && !s.running);
  if (unknown.length > 0) notes.push(`${plural(unknown.length, 'run')} came from an agent that does not report dropped timings.`);
  const noPower = [...new Set(stats.filter((s) => s.powerSource === null).map((s) => s.deviceName))];
  if (noPower.length > 0) notes.push(`No power sensor on ${noPower.join(', ')}: energy figures are empty there.`);
  const tierWords: Record<Exclude<SampleSource, 'raw'>, string> = { '1m': '1-minute', '1h': '1-hour' };
  for (const s of stats) {
    if (s.sampleSource === undefined || s.sampleSource === 'raw') continue;
    notes.push(
      `${s.name} (${s.id}): CPU, GPU, memory, power, energy and temperature figures come from ${tierWords[s.sampleSource]} rollups and are approximate: ` +
        'its raw samples are past retention and it predates experiment snapshots (energy is mean power × duration; no idle power or net energy).',
    );
  }
  if (stats.some((s) => s.netEnergyJ !== null)) {
    notes.push(`Net energy subtracts the mean power of the ${idleWindowS} s before each start (the idle power) over the measured time.`);
  }
  return notes;
}

/** The whole comparison. `baselineId` must be one of the inputs' ids (the caller checks). */
export function compareExperiments(inputs: readonly ExperimentInput[], baselineId: string, idleWindowS = DEFAULT_IDLE_WINDOW_S): ComparisonResponse {
  return compareStats(
    inputs.map((input) => experimentStats(input, idleWindowS)),
    baselineId,
    idleWindowS,
  );
}

/**
 * The comparison of figures already computed (live, or read from snapshots); `extraNotes` go
 * after the usual ones.
 */
export function compareStats(own: readonly OwnStats[], baselineId: string, idleWindowS = DEFAULT_IDLE_WINDOW_S, extraNotes: readonly string[] = []): ComparisonResponse {
  const base = own.find((s) => s.id === baselineId);
  if (!base) throw new Error(`baseline ${JSON.stringify(baselineId)} is not among the compared experiments`);
  const experiments = own.map((s) => versusBaseline(s, base));
  const labels = runLabels(experiments);
  return {
    baseline: baselineId,
    experiments,
    groups: repeatGroups(experiments, baselineId),
    idleWindowS,
    conditionWarnings: conditionWarnings(experiments.map((s, k) => ({ label: labels[k]!, conditions: s.conditions }))),
    notes: [...comparisonNotes(experiments, idleWindowS), ...extraNotes],
  };
}
