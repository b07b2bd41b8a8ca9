// What the compare page says above its table, as pure data (unit-tested in node): one headline
// per variant with two or more trials ("δ = 2.01× [1.96–2.05] faster (p = 0.008, 5 vs 5
// trials)" or "no measurable difference (δ 1.01× [0.97–1.05])") with the group's warnings,
// the trials' own p50s, and the trial estimates as "median [95 % CI]" lines. The notes about
// what the figures include are the hub's (compare.ts comparisonNotes), shown as they come.
import { formatValue } from '../../../shared/format.js';
import type { ComparisonResponse, Estimate, ExperimentStats, RepeatGroup, TrialSummary, Verdict } from './experiment-types.js';
import { formatEnergy, formatShare, formatTimes } from './experiments-model.js';

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** A ratio without its "×", with the decimals `like` gets from formatTimes. */
function ratioDigits(x: number, like: number): string {
  const a = Math.abs(like);
  return x.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2);
}

/** "2.01× [1.96–2.05]": a ratio with its 95 % interval, one precision for all three. */
export function formatRatioEstimate(e: Estimate): string {
  return `${formatTimes(e.value)} [${ratioDigits(e.lo, e.value)}–${ratioDigits(e.hi, e.value)}]`;
}

/**
 * A figure with its interval in one unit: "8.1 [7.9–8.3] ms"; where the three need different
 * units ("980 µs" against "1.2 ms") each keeps its own: "980 µs [950 µs–1.2 ms]".
 */
export function formatEstimate(e: Estimate, fmt: (v: number) => string): string {
  const [v, lo, hi] = [fmt(e.value), fmt(e.lo), fmt(e.hi)];
  const unit = (s: string) => (s.includes(' ') ? s.slice(s.lastIndexOf(' ')) : '');
  const num = (s: string) => s.slice(0, s.length - unit(s).length);
  const u = unit(v);
  if (u && unit(lo) === u && unit(hi) === u) return `${num(v)} [${num(lo)}–${num(hi)}]${u}`;
  return `${v} [${lo}–${hi}]`;
}

/** p-value for people: "0.008", "0.41", "< 0.001". */
export function formatP(p: number): string {
  if (!finite(p)) return '—';
  if (p < 0.001) return '< 0.001';
  return p < 0.1 ? p.toFixed(3) : p.toFixed(2);
}

export interface Headline {
  group: string;
  ids: string[];
  /** The group's verdict ('baseline' for the baseline's own group). */
  verdict: Verdict;
  /** The sentence: "δ = 2.01× [1.96–2.05] faster (p = 0.008, 5 vs 5 trials)". */
  text: string;
  /** A second, quieter line: the median p50 with its interval, the spread across trials. */
  detail: string;
  /** Plain-word warnings (high CoV, short trials, too few trials). */
  warnings: string[];
  trials: number;
}

/** The sentence for one group's trials against the baseline's (`baselineTrials` of them). */
export function headlineSentence(t: TrialSummary, baselineTrials: number | null): string {
  const vs = t.versusBaseline;
  if (t.verdict === 'baseline' || !vs) return `baseline (${t.n} trials)`;
  const n = `${t.n} vs ${baselineTrials ?? '?'} trials`;
  const p = formatP(vs.pValue);
  const pText = p.startsWith('<') ? `p ${p}` : `p = ${p}`;
  const verdict = vs.verdict ?? t.verdict;
  if (verdict === 'no measurable difference') return `no measurable difference (δ ${formatRatioEstimate(vs.speedup)})`;
  return `δ = ${formatRatioEstimate(vs.speedup)} ${verdict === 'slower' ? 'slower' : 'faster'} (${pText}, ${n})`;
}

const ms = (v: number) => formatValue(v, 'ms');

/** The groups with two or more trials, each as a headline, in the response's order. */
export function headlines(res: Pick<ComparisonResponse, 'baseline' | 'groups'>): Headline[] {
  const groups = res.groups ?? [];
  const baseGroup = groups.find((g) => g.ids.includes(res.baseline));
  const baseN = baseGroup ? (baseGroup.trials?.n ?? baseGroup.runs) : null;
  const out: Headline[] = [];
  for (const g of groups) {
    const t = g.trials;
    if (!t || t.n < 2) continue;
    const detail: string[] = [];
    if (t.latencyP50Ms) detail.push(`median p50 ${formatEstimate(t.latencyP50Ms, ms)}`);
    if (finite(t.cov)) detail.push(`trial-to-trial CoV ${formatShare(t.cov)}`);
    const vs = t.versusBaseline;
    if (vs && (vs.verdict ?? t.verdict) === 'no measurable difference') {
      const p = formatP(vs.pValue);
      detail.push(`${p.startsWith('<') ? `p ${p}` : `p = ${p}`}, ${t.n} vs ${baseN ?? '?'} trials`);
    }
    out.push({ group: g.name, ids: g.ids, verdict: vs ? t.verdict : 'baseline', text: headlineSentence(t, baseN), detail: detail.join(' · '), warnings: t.warnings ?? [], trials: t.n });
  }
  return out;
}

/** Each trial's p50 in the group, in the group's order (trials without one left out). */
export function trialP50s(exps: readonly ExperimentStats[], group: Pick<RepeatGroup, 'ids'>): { id: string; p50: number }[] {
  const byId = new Map(exps.map((e) => [e.id, e]));
  const out: { id: string; p50: number }[] = [];
  for (const id of group.ids) {
    const v = byId.get(id)?.latencyP50Ms;
    if (finite(v)) out.push({ id, p50: v });
  }
  return out;
}

export interface EstimateLine {
  key: keyof TrialSummary;
  label: string;
  text: string;
}

const ESTIMATES: { key: keyof TrialSummary; label: string; fmt: (v: number) => string }[] = [
  { key: 'latencyP50Ms', label: 'Latency p50', fmt: ms },
  { key: 'latencyP90Ms', label: 'Latency p90', fmt: ms },
  { key: 'latencyP95Ms', label: 'Latency p95', fmt: ms },
  { key: 'latencyP99Ms', label: 'Latency p99', fmt: ms },
  { key: 'latencyMeanMs', label: 'Latency mean', fmt: ms },
  { key: 'inferencesPerS', label: 'Throughput', fmt: (v) => formatValue(v, '/s') },
  { key: 'energyPerInferenceJ', label: 'Energy per inference', fmt: formatEnergy },
  { key: 'netEnergyPerInferenceJ', label: 'Net energy per inference', fmt: formatEnergy },
];

/** A group's across-trial figures: median of the trials [95 % CI], then the spread and δ. */
export function estimateLines(t: TrialSummary): EstimateLine[] {
  const out: EstimateLine[] = [];
  for (const spec of ESTIMATES) {
    const e = t[spec.key] as Estimate | null | undefined;
    if (e && finite(e.value)) out.push({ key: spec.key, label: spec.label, text: formatEstimate(e, spec.fmt) });
  }
  if (finite(t.cov)) out.push({ key: 'cov', label: 'CoV of the trial p50s', text: formatShare(t.cov) });
  if (t.versusBaseline) {
    out.push({ key: 'versusBaseline', label: 'Speedup δ vs baseline', text: `${formatRatioEstimate(t.versusBaseline.speedup)}, p = ${formatP(t.versusBaseline.pValue)}`.replace('p = <', 'p <') });
  }
  return out;
}


/**
 * Under a run's name, quietly: when the hub computed the figures shown (an ended run's stored
 * snapshot), and whether its CPU/power/energy figures are approximate (taken from rollups after
 * raw retention). Null for figures computed live (running runs).
 */
export function figuresOrigin(e: Pick<ExperimentStats, 'snapshot' | 'sampleSource'>, time: (ms: number) => string): string | null {
  const parts: string[] = [];
  if (e.snapshot) parts.push(`figures as computed at ${time(e.snapshot.computedAt)}`);
  if (e.sampleSource === '1m' || e.sampleSource === '1h') parts.push(`power and CPU from ${e.sampleSource === '1m' ? '1-minute' : '1-hour'} rollups (approximate)`);
  return parts.length > 0 ? parts.join(' · ') : null;
}
