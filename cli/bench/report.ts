// What a bench found, from the agent's figures of each trial: per variant the medians over the
// trials with bootstrap intervals (shared/trial-stats.ts), δ against the baseline with its test
// and verdict, scores with their Δ, warnings and run conditions; as JSON or as terminal tables.
import { conditionWarnings } from '../../shared/conditions-diff.js';
import type { RunConditions } from '../../shared/conditions.js';
import type { ExperimentEndSummary, Score, Warmup } from '../../shared/inference.js';
import type { Estimate, TrialSummary, Verdict } from '../../shared/live.js';
import { median, summariseTrials, type TrialInput } from '../../shared/trial-stats.js';
import { formatMs, formatScoreValue } from '../experiment/summary-text.js';
import type { TrialResult } from '../experiment/trial.js';
import type { PlannedTrial, Variant } from './plan.js';

/** What of the bench's options the report shows. */
/** The hub compares at most this many experiments at once (dashboard/server/experiments-api.ts). */
const HUB_MAX_COMPARED = 50;

export interface ReportOptions {
  name?: string;
  repeat: number;
  warmup?: Warmup;
  variant: Variant[];
  order: 'interleaved' | 'shuffle';
}

export interface DoneTrial extends PlannedTrial {
  result: TrialResult;
  ok: boolean;
}



interface ScoreFigure {
  name: string;
  better: 'higher' | 'lower';
  /** Median over the trials that reported it. */
  value: number;
  trials: number;
  /** The baseline's median; null without one (or for the baseline itself). */
  baseline: number | null;
  /** value − baseline, in `deltaUnit`: percentage points when both are in [0, 1]. */
  delta: number | null;
  deltaUnit: 'pp' | 'abs' | null;
  worse: boolean | null;
}

interface VariantReport {
  name: string;
  command: string;
  baseline: boolean;
  /** Experiment ids of the trials counted, in run order. */
  ids: string[];
  failedTrials: number;
  stats: TrialSummary;
  /** Medians over the trials. */
  stdevMs: number | null;
  firstCallMs: number | null;
  warmupExcluded: number | null;
  inferences: number | null;
  /** Timings the agent could not count, over all trials. */
  dropped: number;
  scores: ScoreFigure[];
}

interface ComparisonReport {
  variant: string;
  baseline: string;
  /** δ on p50: baseline ÷ variant (> 1: the variant is faster). */
  speedupP50: Estimate;
  pValue: number;
  verdict: Verdict;
}

interface TrialReport {
  order: number;
  variant: string;
  trial: number;
  id: string | null;
  exitCode: number;
  startedAt: number;
  summary: ExperimentEndSummary | null;
  scores: Score[];
}

export interface BenchReport {
  bench: string;
  name: string | null;
  repeat: number;
  order: 'interleaved' | 'shuffle';
  seed: number | null;
  warmup: Warmup | null;
  baseline: string;
  variants: VariantReport[];
  comparisons: ComparisonReport[];
  warnings: string[];
  /** Run conditions of the first trial, as the agent read them. */
  conditions: RunConditions | null;
  /** Differences in run conditions between trials, in plain words (shared/conditions-diff.ts). */
  conditionWarnings: string[];
  energy: string;
  /** The hub's compare page for these trials (a fragment of the dashboard's URL). */
  compare: string | null;
  trials: TrialReport[];
}

function trialInput(s: ExperimentEndSummary): TrialInput {
  const m = s.measured;
  return {
    latencyP50Ms: m.p50,
    latencyP90Ms: m.p90,
    latencyP95Ms: m.p95,
    latencyP99Ms: m.p99,
    latencyMeanMs: m.mean,
    latencyCov: m.stdev !== null && m.mean !== null && m.mean > 0 ? m.stdev / m.mean : null,
    // Every call over the whole trial (warm-up included): what the device got through.
    inferencesPerS: s.durationMs > 0 ? s.inferences / (s.durationMs / 1000) : null,
    energyPerInferenceJ: null,
    netEnergyPerInferenceJ: null,
    inferences: m.count,
    durationS: s.durationMs / 1000,
  };
}

function medianOf(values: readonly (number | null | undefined)[]): number | null {
  const present = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return present.length > 0 ? median(present) : null;
}

function scoreMedians(trials: readonly DoneTrial[]): Map<string, { better: 'higher' | 'lower'; value: number; trials: number }> {
  const by = new Map<string, { better: 'higher' | 'lower'; values: number[] }>();
  for (const t of trials) {
    for (const s of t.result.scores) {
      const entry = by.get(s.name) ?? { better: s.better, values: [] };
      entry.values.push(s.value);
      by.set(s.name, entry);
    }
  }
  return new Map([...by].map(([name, e]) => [name, { better: e.better, value: median(e.values), trials: e.values.length }]));
}

export function buildReport(input: { benchId: string; opts: ReportOptions; baseline: string; seed: number | null; done: DoneTrial[]; warnings: string[] }): BenchReport {
  const { opts, done, baseline } = input;
  const counted = (name: string) => done.filter((d) => d.ok && d.variant.name === name);
  const inputs = (name: string) => counted(name).flatMap((d) => (d.result.summary ? [trialInput(d.result.summary)] : []));
  const baseInputs = inputs(baseline);
  const baseScores = scoreMedians(counted(baseline));
  const warnings = [...input.warnings];
  const variants: VariantReport[] = [];
  const comparisons: ComparisonReport[] = [];

  // The baseline first, then the others in the order given.
  const ordered = [...opts.variant.filter((v) => v.name === baseline), ...opts.variant.filter((v) => v.name !== baseline)];
  for (const v of ordered) {
    const isBase = v.name === baseline;
    const trials = counted(v.name);
    const summaries = trials.flatMap((d) => (d.result.summary ? [d.result.summary] : []));
    const stats = summariseTrials(inputs(v.name), isBase ? null : baseInputs);
    for (const w of stats.warnings) warnings.push(`${v.name}: ${w}`);
    if (summaries.length < trials.length) warnings.push(`${v.name}: ${trials.length - summaries.length} trial(s) came back without the agent's figures; see them on the hub`);
    const dropped = summaries.reduce((sum, s) => sum + s.dropped, 0);
    if (dropped > 0) warnings.push(`${v.name}: the agent could not count ${dropped} timing(s) (over a bound); the figures leave them out`);
    const scores: ScoreFigure[] = [...scoreMedians(trials)].map(([name, s]) => {
      const b = isBase ? undefined : baseScores.get(name);
      if (!b) return { name, better: s.better, value: s.value, trials: s.trials, baseline: null, delta: null, deltaUnit: null, worse: null };
      const unit = s.value >= 0 && s.value <= 1 && b.value >= 0 && b.value <= 1 ? 'pp' : 'abs';
      const diff = s.value - b.value;
      return { name, better: s.better, value: s.value, trials: s.trials, baseline: b.value, delta: unit === 'pp' ? diff * 100 : diff, deltaUnit: unit, worse: s.better === 'higher' ? diff < 0 : diff > 0 };
    });
    variants.push({
      name: v.name,
      command: v.command,
      baseline: isBase,
      ids: trials.map((d) => d.result.id!),
      failedTrials: done.filter((d) => !d.ok && d.variant.name === v.name).length,
      stats,
      stdevMs: medianOf(summaries.map((s) => s.measured.stdev)),
      firstCallMs: medianOf(summaries.map((s) => s.firstCallMs)),
      warmupExcluded: medianOf(summaries.map((s) => s.warmup.count)),
      inferences: medianOf(summaries.map((s) => s.measured.count)),
      dropped,
      scores,
    });
    if (!isBase && stats.versusBaseline) {
      comparisons.push({ variant: v.name, baseline, speedupP50: stats.versusBaseline.speedup, pValue: stats.versusBaseline.pValue, verdict: stats.versusBaseline.verdict });
    }
  }

  const withSummary = done.filter((d) => d.ok && d.result.summary);
  const conditions = withSummary.find((d) => d.result.summary!.conditions)?.result.summary!.conditions ?? null;
  const ids = done.filter((d) => d.ok).map((d) => d.result.id!);
  const firstBase = counted(baseline)[0]?.result.id;
  if (ids.length > HUB_MAX_COMPARED) warnings.push(`${ids.length} trials: the hub's compare page takes at most ${HUB_MAX_COMPARED} at once`);
  return {
    bench: input.benchId,
    name: opts.name ?? null,
    repeat: opts.repeat,
    order: opts.order,
    seed: input.seed,
    warmup: opts.warmup ?? null,
    baseline,
    variants,
    comparisons,
    warnings: [...new Set(warnings)],
    conditions,
    conditionWarnings: trialConditionWarnings(withSummary),
    energy: 'not measured here: the device has no view of power over each trial; energy per inference is on the hub’s compare page',
    compare: ids.length > 0 ? `#/compare?ids=${ids.join(',')}${firstBase ? `&baseline=${firstBase}` : ''}` : null,
    trials: done.map((d) => ({
      order: d.order,
      variant: d.variant.name,
      trial: d.trial,
      id: d.result.id,
      exitCode: d.result.exitCode,
      startedAt: d.result.startedAt,
      summary: d.result.summary,
      scores: d.result.scores,
    })),
  };
}

/**
 * Plain-word differences in run conditions between the trials ("fast #2 was in 15W mode, slow #1
 * in MAXN"); none when no trial has conditions (an agent that does not read them).
 */
function trialConditionWarnings(trials: readonly DoneTrial[]): string[] {
  const runs = trials.map((d) => ({ label: `${d.variant.name} #${d.trial}`, conditions: d.result.summary?.conditions ?? null }));
  if (runs.every((r) => r.conditions === null)) return [];
  return conditionWarnings(runs);
}

// ---- rendering for a terminal ----

function pValueText(p: number): string {
  return p < 0.001 ? 'p < 0.001' : `p = ${Number(p.toPrecision(2))}`;
}

function ratio(x: number): string {
  return `${x.toFixed(2)}×`;
}

function pct(x: number | null): string {
  return x === null ? '—' : `${Number((x * 100).toPrecision(2))} %`;
}

function rate(x: number | null | undefined): string {
  if (x === null || x === undefined) return '—';
  return x >= 100 ? String(Math.round(x)) : String(Number(x.toPrecision(3)));
}

function estimateText(e: Estimate | null): string {
  if (!e) return '—';
  const digits = (x: number) => (x >= 100 ? String(Math.round(x)) : x.toPrecision(3));
  return `${formatMs(e.value)} [${digits(e.lo)}, ${digits(e.hi)}]`;
}

function table(rows: string[][]): string {
  const width = (s: string) => [...s].length;
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => width(r[i] ?? ''))));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat(widths[i]! - width(cell)))).join('  ').trimEnd()).join('\n') + '\n';
}

function scoreDeltaText(s: ScoreFigure): string {
  if (s.delta === null) return '';
  const sign = s.delta > 0 ? '+' : s.delta < 0 ? '−' : '±';
  const size = Math.abs(s.delta);
  const text = s.deltaUnit === 'pp' ? `${sign}${Number(size.toPrecision(2))} pp` : `${sign}${formatScoreValue(size)}`;
  return ` (${text}${s.worse ? ', worse' : ''})`;
}

function conditionsText(c: RunConditions): string {
  const parts: string[] = [];
  if (c.powerMode !== undefined) parts.push(`power mode ${c.powerMode}${c.powerModeId !== undefined ? ` (${c.powerModeId})` : ''}`);
  if (c.jetsonClocks !== undefined) parts.push(`jetson_clocks ${c.jetsonClocks ? 'on' : 'off'}`);
  if (c.cpuGovernor !== undefined) parts.push(`CPU governor ${c.cpuGovernor}`);
  if (c.cpuMinMHz !== undefined || c.cpuMaxMHz !== undefined) parts.push(`CPU ${c.cpuMinMHz ?? '?'}–${c.cpuMaxMHz ?? '?'} MHz`);
  for (const g of c.gpus ?? []) {
    const bits = [g.name ?? `GPU ${g.index}`];
    if (g.smClockMHz !== undefined) bits.push(`SM ${g.smClockMHz} MHz`);
    if (g.memClockMHz !== undefined) bits.push(`mem ${g.memClockMHz} MHz`);
    if (g.powerLimitW !== undefined) bits.push(`limit ${g.powerLimitW} W`);
    if (g.pstate !== undefined) bits.push(`P${g.pstate}`);
    if (g.persistenceMode !== undefined) bits.push(`persistence ${g.persistenceMode ? 'on' : 'off'}`);
    parts.push(`gpu${g.index}: ${bits.join(', ')}`);
  }
  if (c.gpuDriver !== undefined) parts.push(`driver ${c.gpuDriver}${c.cudaVersion !== undefined ? ` (CUDA ${c.cudaVersion})` : ''}`);
  if (c.kernel !== undefined) parts.push(`kernel ${c.kernel}`);
  if (c.startTempC !== undefined) parts.push(`hottest sensor ${c.startTempC.toFixed(1)} °C at the start`);
  if (c.throttleAtStart !== undefined) parts.push(c.throttleAtStart.length > 0 ? `throttled at the start: ${c.throttleAtStart.join(', ')}` : 'not throttled at the start');
  if (c.agentVersion !== undefined) parts.push(`agent ${c.agentVersion}`);
  return parts.length > 0 ? parts.join('; ') : '(nothing the agent could read)';
}

export function renderReport(r: BenchReport): string {
  let out = `\n${r.bench}: ${r.variants.length} variant${r.variants.length === 1 ? '' : 's'} × ${r.repeat} trial${r.repeat === 1 ? '' : 's'}, ${r.order === 'shuffle' ? `shuffled (seed ${r.seed})` : 'interleaved'}`;
  out += r.warmup ? `, warm-up ${'calls' in r.warmup ? `${r.warmup.calls} calls` : formatMs(r.warmup.ms)} excluded` : ', no warm-up excluded';
  out += '\n\n';

  const head = ['variant', 'trials', 'p50 ms [95 % CI]', 'p90', 'p95', 'p99', 'mean', 'stdev', 'CoV', 'first call', 'warm-up', 'calls/s'];
  const rows = r.variants.map((v) => [
    `${v.name}${v.baseline ? ' *' : ''}`,
    `${v.stats.n}${v.failedTrials > 0 ? ` (+${v.failedTrials} failed)` : ''}`,
    estimateText(v.stats.latencyP50Ms),
    formatMs(v.stats.latencyP90Ms?.value),
    formatMs(v.stats.latencyP95Ms?.value),
    formatMs(v.stats.latencyP99Ms?.value),
    formatMs(v.stats.latencyMeanMs?.value),
    formatMs(v.stdevMs),
    pct(v.stats.cov),
    formatMs(v.firstCallMs),
    v.warmupExcluded === null ? '—' : String(Math.round(v.warmupExcluded)),
    rate(v.stats.inferencesPerS?.value),
  ]);
  out += table([head, ...rows]);
  out += '* baseline. Medians over the trials; CoV: spread of the trial p50s; warm-up: calls left out per trial.\n';

  const scoreNames = [...new Set(r.variants.flatMap((v) => v.scores.map((s) => s.name)))];
  if (scoreNames.length > 0) {
    out += '\n';
    const header = ['score (median)', ...r.variants.map((v) => `${v.name}${v.baseline ? ' *' : ''}`)];
    const scoreRows = scoreNames.map((name) => [
      name,
      ...r.variants.map((v) => {
        const s = v.scores.find((x) => x.name === name);
        return s ? `${formatScoreValue(s.value)}${scoreDeltaText(s)}` : '—';
      }),
    ]);
    out += table([header, ...scoreRows]);
  }

  if (r.comparisons.length > 0) {
    out += '\n';
    for (const c of r.comparisons) {
      const e = c.speedupP50;
      out += `${c.variant} vs ${c.baseline}: δ p50 ${ratio(e.value)} [${ratio(e.lo)}, ${ratio(e.hi)}], ${pValueText(c.pValue)} → ${c.verdict}\n`;
    }
  }
  if (r.warnings.length > 0) {
    out += '\nwarnings:\n';
    for (const w of r.warnings) out += `  - ${w}\n`;
  }
  out += `\nconditions (trial 1): ${r.conditions ? conditionsText(r.conditions) : 'not reported by the agent'}\n`;
  if (r.conditionWarnings.length > 0) {
    out += 'differences between trials:\n';
    for (const d of r.conditionWarnings) out += `  - ${d}\n`;
  } else if (r.conditions) out += 'no differences in conditions between trials\n';
  out += `energy: ${r.energy}\n`;
  if (r.compare) out += `compare on the hub: ${r.compare}\n`;
  return out;
}
