// A comparison as CSV (one row per experiment, a column per figure, for tools), or as a report
// for people: Markdown (for a GitHub PR; tables only, GitHub does not show data: images) and a
// self-contained HTML file (inline style, inline SVG charts from report-svg.ts, no scripts, no
// external resources). Names, tags, model and score names and run conditions come from devices
// and users: untrusted text. CSV quotes per RFC 4180 and defuses spreadsheet formulas; Markdown
// escapes what would break a table or make HTML, links or formatting; HTML escapes everything.
import type { RunConditions } from '../../shared/conditions.js';
import type {
  ComparisonResponse,
  Estimate,
  ExperimentFigure,
  ExperimentStats,
  TrialComparison,
  TrialSummary,
  Verdict,
} from '../../shared/live.js';
import { EXPERIMENT_FIGURES } from './compare.js';
import { barChartSvg, escapeXml, paretoFront, scatterSvg, stripChartSvg, type ScatterPoint } from './report-svg.js';

type Cell = string | number | boolean | null;

// ================================================================ CSV

interface Column {
  header: string;
  value: (s: ExperimentStats, baseline: string) => Cell;
}

/** Every ExperimentFigure, so a figure compare.ts has not listed yet still gets its column. */
const ALL_FIGURES: Record<ExperimentFigure, true> = {
  params: true, modelBytes: true, durationS: true, inferences: true, items: true, inferencesPerS: true, itemsPerS: true,
  latencyMeanMs: true, latencyP50Ms: true, latencyP90Ms: true, latencyP95Ms: true, latencyP99Ms: true, latencyMaxMs: true,
  latencyStdevMs: true, latencyCov: true, firstCallMs: true, warmupInferences: true, warmupMeanMs: true, timingsDropped: true,
  cpuUtilMean: true, cpuUtilPeak: true, gpuUtilMean: true, gpuUtilPeak: true, memUsedPeakBytes: true, powerMeanW: true,
  powerPeakW: true, energyJ: true, energyPerInferenceJ: true, idlePowerW: true, netEnergyJ: true, netEnergyPerInferenceJ: true,
  tempPeakC: true, throttledS: true, speedupP50: true, speedupMean: true, compressionParams: true, spaceSavingParams: true,
  compressionBytes: true, spaceSavingBytes: true,
};

/** compare.ts's column order, then any figure it does not list. */
export function csvFigures(): ExperimentFigure[] {
  const listed = new Set<ExperimentFigure>(EXPERIMENT_FIGURES);
  return [...EXPERIMENT_FIGURES, ...(Object.keys(ALL_FIGURES) as ExperimentFigure[]).filter((f) => !listed.has(f))];
}

const CONDITION_COLUMNS: readonly (keyof RunConditions)[] = [
  'agentVersion', 'kernel', 'powerMode', 'powerModeId', 'jetsonClocks', 'cpuGovernor', 'cpuMinMHz', 'cpuMaxMHz',
  'gpuDriver', 'cudaVersion', 'gpus', 'throttleAtStart', 'startTempC',
];

function conditionCell(c: RunConditions | null, key: keyof RunConditions): Cell {
  const v = c?.[key];
  if (v === undefined) return null;
  if (key === 'gpus') return (c!.gpus ?? []).map(gpuText).join('; ');
  if (Array.isArray(v)) return v.join(' ');
  return v as Cell;
}

function gpuText(g: NonNullable<RunConditions['gpus']>[number]): string {
  const parts = [`${g.index}:`];
  if (g.name !== undefined) parts.push(g.name);
  if (g.smClockMHz !== undefined || g.memClockMHz !== undefined) parts.push(`clocks ${g.smClockMHz ?? '?'}/${g.memClockMHz ?? '?'} MHz`);
  if (g.appSmClockMHz !== undefined || g.appMemClockMHz !== undefined) parts.push(`app ${g.appSmClockMHz ?? '?'}/${g.appMemClockMHz ?? '?'} MHz`);
  if (g.powerLimitW !== undefined) parts.push(`limit ${g.powerLimitW} W`);
  if (g.persistenceMode !== undefined) parts.push(`persistence ${g.persistenceMode ? 'on' : 'off'}`);
  if (g.pstate !== undefined) parts.push(`P${g.pstate}`);
  return parts.join(' ');
}

function warmupText(w: ExperimentStats['warmup']): string | null {
  if (!w) return null;
  return 'calls' in w ? `calls=${w.calls}` : `ms=${w.ms}`;
}

/** Score names in order of first appearance (the baseline's first). */
function scoreNames(c: ComparisonResponse): { name: string; better: 'higher' | 'lower' }[] {
  const seen = new Map<string, 'higher' | 'lower'>();
  const ordered = [...c.experiments].sort((a, b) => Number(b.id === c.baseline) - Number(a.id === c.baseline));
  for (const s of ordered) for (const sc of s.scores ?? []) if (!seen.has(sc.name)) seen.set(sc.name, sc.better);
  return [...seen.entries()].map(([name, better]) => ({ name, better }));
}

function csvColumns(c: ComparisonResponse): Column[] {
  const scores = scoreNames(c).flatMap(({ name }): Column[] => [
    { header: `score:${name}`, value: (s) => s.scores?.find((x) => x.name === name)?.value ?? null },
    { header: `scoreDelta:${name}`, value: (s) => s.scoreDeltas?.find((x) => x.name === name)?.delta ?? null },
  ]);
  return [
    { header: 'id', value: (s) => s.id },
    { header: 'name', value: (s) => s.name },
    { header: 'baseline', value: (s, b) => s.id === b },
    { header: 'device', value: (s) => s.deviceId },
    { header: 'deviceName', value: (s) => s.deviceName },
    { header: 'tags', value: (s) => Object.entries(s.tags).map(([k, v]) => `${k}=${v}`).join('; ') },
    { header: 'models', value: (s) => s.models.join(' ') },
    { header: 'start', value: (s) => new Date(s.start).toISOString() },
    { header: 'end', value: (s) => (s.end === null ? null : new Date(s.end).toISOString()) },
    { header: 'running', value: (s) => s.running },
    ...csvFigures().map((f): Column => ({ header: f, value: (s) => s[f] ?? null })),
    { header: 'warmup', value: (s) => warmupText(s.warmup ?? null) },
    { header: 'powerSource', value: (s) => s.powerSource },
    { header: 'powerMetrics', value: (s) => (s.powerMetrics ?? []).join(' ') },
    { header: 'powerSampleIntervalS', value: (s) => s.powerSampleIntervalS ?? null },
    { header: 'throttled', value: (s) => s.throttled },
    { header: 'latencySource', value: (s) => s.latencySource },
    // Where the CPU/power/energy figures come from, and when an ended run's stored figures were computed.
    { header: 'sampleSource', value: (s) => s.sampleSource ?? null },
    { header: 'figuresComputedAt', value: (s) => (s.snapshot ? new Date(s.snapshot.computedAt).toISOString() : null) },
    ...scores,
    ...CONDITION_COLUMNS.map((k): Column => ({ header: `conditions.${k}`, value: (s) => conditionCell(s.conditions ?? null, k) })),
  ];
}

// Leading characters a spreadsheet reads as a formula (tab and CR too: some apps strip them first).
const FORMULA_START = /^[=+\-@\t\r]/;

/** One CSV cell: formula-looking text gets a leading ', then RFC 4180 quoting where needed. */
export function csvCell(cell: Cell): string {
  if (cell === null) return '';
  if (typeof cell === 'number') return Number.isFinite(cell) ? String(cell) : '';
  if (typeof cell === 'boolean') return cell ? 'true' : 'false';
  const text = FORMULA_START.test(cell) ? `'${cell}` : cell;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One row per experiment; a column per figure, per score (its value and its Δ versus the baseline) and per run condition. */
export function comparisonCsv(c: ComparisonResponse): string {
  const columns = csvColumns(c);
  const lines = [columns.map((col) => csvCell(col.header))];
  for (const s of c.experiments) lines.push(columns.map((col) => csvCell(col.value(s, c.baseline))));
  return lines.map((cells) => cells.join(',')).join('\r\n') + '\r\n';
}

// ================================================================ escaping for the reports

/**
 * Text safe inside a Markdown table cell (and a heading or list item): no row or column breaks,
 * no raw HTML, no emphasis, code, links, images, math or autolinks from the text.
 */
export function mdCell(cell: Cell): string {
  if (cell === null) return '–';
  if (typeof cell === 'number') return Number.isFinite(cell) ? formatNumber(cell) : '–';
  if (typeof cell === 'boolean') return cell ? 'yes' : 'no';
  return cell
    .replace(/[\r\n]+/g, ' ')
    .replace(/[\\`*_[\]|~#$!]/g, '\\$&')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    // GitHub turns http://…, www.… and a@b.c into links even without markup.
    .replace(/:\/\//g, '\\://')
    .replace(/www\./gi, (m) => `${m.slice(0, 3)}\\.`)
    .replace(/@/g, '\\@');
}

/** Text safe in HTML content and attribute values. */
export const htmlText = escapeXml;

export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return '–';
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 100 ? x.toFixed(1) : Number(x.toPrecision(4)).toString();
}

const signed = (x: number): string => (x > 0 ? `+${formatNumber(x)}` : x === 0 ? '±0' : formatNumber(x));

// ================================================================ the report's model

/** Runs that share a name: one variant (original model, int8, pruned…), tried once or more. */
interface Variant {
  name: string;
  runs: ExperimentStats[];
  trials: TrialSummary | null;
  baseline: boolean;
}

function variantsOf(c: ComparisonResponse): Variant[] {
  const byId = new Map(c.experiments.map((s) => [s.id, s]));
  const used = new Set<string>();
  const out: Variant[] = [];
  for (const g of c.groups) {
    const runs = g.ids.map((id) => byId.get(id)).filter((s): s is ExperimentStats => s !== undefined);
    if (runs.length === 0) continue;
    runs.forEach((s) => used.add(s.id));
    out.push({ name: g.name, runs, trials: g.trials ?? null, baseline: g.ids.includes(c.baseline) });
  }
  // Experiments no group names (an older compare.ts): one variant each.
  for (const s of c.experiments) {
    if (!used.has(s.id)) out.push({ name: s.name, runs: [s], trials: null, baseline: s.id === c.baseline });
  }
  return out;
}

function median(values: readonly (number | null | undefined)[]): number | null {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}

function sum(values: readonly (number | null | undefined)[]): number | null {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0);
}

type TrialFigure = 'latencyP50Ms' | 'latencyP90Ms' | 'latencyP95Ms' | 'latencyP99Ms' | 'latencyMeanMs' | 'inferencesPerS' | 'energyPerInferenceJ' | 'netEnergyPerInferenceJ';
const TRIAL_FIGURES = new Set<string>(['latencyP50Ms', 'latencyP90Ms', 'latencyP95Ms', 'latencyP99Ms', 'latencyMeanMs', 'inferencesPerS', 'energyPerInferenceJ', 'netEnergyPerInferenceJ']);

/** A variant's estimate of a figure across trials, where compare.ts made one. */
function estimate(v: Variant, f: ExperimentFigure): Estimate | null {
  return v.runs.length > 1 && v.trials && TRIAL_FIGURES.has(f) ? (v.trials[f as TrialFigure] ?? null) : null;
}

/** A variant's figure: the run's own, or across trials the estimate's median (the runs' median where there is none). */
function figure(v: Variant, f: ExperimentFigure): number | null {
  if (v.runs.length === 1) return v.runs[0]![f] ?? null;
  return estimate(v, f)?.value ?? median(v.runs.map((s) => s[f]));
}

/** The verdict, with a CI spanning 1× read as no measurable difference whatever else was said. */
function verdictOf(cmp: TrialComparison): Verdict {
  const { lo, hi } = cmp.speedup;
  return lo <= 1 && hi >= 1 ? 'no measurable difference' : cmp.verdict;
}

const withCi = (e: Estimate, scale = 1): string => `${formatNumber(e.value / scale)} [${formatNumber(e.lo / scale)}, ${formatNumber(e.hi / scale)}]`;

const MiB = 1024 * 1024;

function speedupCell(v: Variant): string | null {
  if (v.baseline) return '1 (baseline)';
  const cmp = v.trials?.versusBaseline;
  if (cmp) return withCi(cmp.speedup);
  const x = figure(v, 'speedupP50');
  return x === null ? null : formatNumber(x);
}

function verdictCell(v: Variant): string {
  if (v.baseline) return 'baseline';
  const cmp = v.trials?.versusBaseline;
  if (cmp) return `${verdictOf(cmp)} (p = ${formatNumber(cmp.pValue)})`;
  return 'no CI: needs 2+ trials of it and of the baseline';
}

/** Already escaped for the target format. */
type Esc = (text: string) => string;

interface Row {
  label: string;
  cells: (string | null)[];
  /** Values differ between the columns (conditions). */
  differs?: boolean;
}

interface Table {
  head: string[];
  rows: Row[];
}

const num = (x: number | null, scale = 1): string | null => (x === null ? null : formatNumber(x / scale));
const pair = (a: number | null, b: number | null): string | null => (a === null && b === null ? null : `${num(a) ?? '–'} / ${num(b) ?? '–'}`);

function warmupCell(v: Variant): string | null {
  const kinds = [...new Set(v.runs.map((s) => warmupText(s.warmup ?? null) ?? 'none'))];
  const count = median(v.runs.map((s) => s.warmupInferences));
  const mean = median(v.runs.map((s) => s.warmupMeanMs));
  const describe = (k: string): string =>
    k === 'none' ? 'none: every timing measured' : k.startsWith('calls=') ? `first ${k.slice(6)} calls per model excluded` : `first ${k.slice(3)} ms excluded`;
  const detail = count !== null && count > 0 ? ` (${formatNumber(count)} timings${mean === null ? '' : `, mean ${formatNumber(mean)} ms`})` : '';
  return kinds.map(describe).join('; ') + detail;
}

function powerSourceCell(v: Variant, esc: Esc): string | null {
  const s = v.runs.find((r) => r.powerSource !== null);
  if (!s) return null;
  const interval = median(v.runs.map((r) => r.powerSampleIntervalS));
  const metrics = s.powerSource === 'board' ? '' : ` (${esc((s.powerMetrics ?? []).join(' + '))})`;
  return `${s.powerSource}${metrics}${interval === null ? '' : `, sampled every ${formatNumber(interval)} s`}`;
}

function scoreCell(v: Variant, name: string, better: 'higher' | 'lower'): string | null {
  const value = median(v.runs.map((s) => s.scores?.find((x) => x.name === name)?.value));
  if (value === null) return null;
  if (v.baseline) return formatNumber(value);
  const deltas = v.runs.map((s) => s.scoreDeltas?.find((x) => x.name === name)).filter((d) => d !== undefined);
  const delta = median(deltas.map((d) => d.delta));
  if (delta === null) return formatNumber(value);
  const unit = deltas.every((d) => d.value >= 0 && d.value <= 1 && d.baseline >= 0 && d.baseline <= 1);
  const worse = better === 'higher' ? delta < 0 : delta > 0;
  const pp = unit ? ` = ${signed(Number((delta * 100).toPrecision(4)))} pp` : '';
  return `${formatNumber(value)} (Δ ${signed(delta)}${pp}${worse ? ', worse' : ''})`;
}

function headlineTable(c: ComparisonResponse, vs: Variant[], esc: Esc): Table {
  const head = vs.map((v) => `${esc(v.name)}${v.baseline ? ' (baseline)' : ''}`);
  const each = (f: (v: Variant) => string | null): (string | null)[] => vs.map(f);
  const fig = (f: ExperimentFigure, scale = 1) => each((v) => num(figure(v, f), scale));
  const ci = (f: ExperimentFigure, scale = 1) =>
    each((v) => {
      const e = estimate(v, f);
      return e ? withCi(e, scale) : num(figure(v, f), scale);
    });
  const rows: Row[] = [
    { label: 'run ids', cells: each((v) => esc(v.runs.map((s) => s.id).join(', '))) },
    { label: 'trials', cells: each((v) => String(v.runs.length)) },
    { label: 'device', cells: each((v) => esc([...new Set(v.runs.map((s) => s.deviceName))].join(', '))) },
    { label: 'speedup δ on p50 (×) [95 % CI]', cells: each(speedupCell) },
    { label: 'verdict', cells: each(verdictCell) },
    { label: 'latency p50 (ms) [95 % CI]', cells: ci('latencyP50Ms') },
    { label: 'latency p90 (ms)', cells: fig('latencyP90Ms') },
    { label: 'latency p95 (ms)', cells: fig('latencyP95Ms') },
    { label: 'latency p99 (ms)', cells: fig('latencyP99Ms') },
    { label: 'latency mean (ms)', cells: fig('latencyMeanMs') },
    { label: 'latency max (ms)', cells: fig('latencyMaxMs') },
    { label: 'latency stdev (ms)', cells: fig('latencyStdevMs') },
    { label: 'latency CoV (%)', cells: fig('latencyCov', 0.01) },
    { label: 'first-call latency (ms)', cells: fig('firstCallMs') },
    { label: 'warm-up', cells: each(warmupCell) },
    { label: 'throughput (inferences/s)', cells: ci('inferencesPerS') },
    { label: 'throughput (items/s)', cells: fig('itemsPerS') },
    { label: 'energy per inference, gross (mJ)', cells: ci('energyPerInferenceJ', 1e-3) },
    { label: 'energy per inference, net of idle (mJ)', cells: ci('netEnergyPerInferenceJ', 1e-3) },
    { label: 'energy, gross / net (J)', cells: each((v) => pair(figure(v, 'energyJ'), figure(v, 'netEnergyJ'))) },
    { label: 'power mean / peak (W)', cells: each((v) => pair(figure(v, 'powerMeanW'), figure(v, 'powerPeakW'))) },
    { label: `idle power (W, mean of the ${formatNumber(c.idleWindowS ?? 0)} s before the start)`, cells: fig('idlePowerW') },
    { label: 'power source', cells: each((v) => powerSourceCell(v, esc)) },
    { label: 'time throttled (s)', cells: each((v) => num(v.runs.length === 1 ? (v.runs[0]!.throttledS ?? null) : sum(v.runs.map((s) => s.throttledS)))) },
    { label: 'throttling seen', cells: each((v) => (v.runs.every((s) => s.throttled === null) ? null : v.runs.some((s) => s.throttled) ? 'yes' : 'no')) },
    { label: 'peak temperature (°C)', cells: fig('tempPeakC') },
    { label: 'CPU mean / peak (%)', cells: each((v) => pair(figure(v, 'cpuUtilMean'), figure(v, 'cpuUtilPeak'))) },
    { label: 'GPU mean / peak (%)', cells: each((v) => pair(figure(v, 'gpuUtilMean'), figure(v, 'gpuUtilPeak'))) },
    { label: 'peak memory (device, MiB)', cells: fig('memUsedPeakBytes', MiB) },
    ...scoreNames(c).map(({ name, better }): Row => ({ label: `score: ${esc(name)} (${better} is better)`, cells: each((v) => scoreCell(v, name, better)) })),
    { label: 'parameters', cells: fig('params') },
    { label: 'model size (MiB)', cells: fig('modelBytes', MiB) },
    { label: 'compression α on params (×)', cells: fig('compressionParams') },
    { label: 'space saving β on params (×)', cells: fig('spaceSavingParams') },
    { label: 'compression α on size (×)', cells: fig('compressionBytes') },
    { label: 'space saving β on size (×)', cells: fig('spaceSavingBytes') },
    { label: 'speedup δ on mean latency (×)', cells: fig('speedupMean') },
    {
      label: 'timings dropped',
      cells: each((v) => (v.runs.every((s) => s.timingsDropped == null) ? 'not reported' : num(sum(v.runs.map((s) => s.timingsDropped))))),
    },
    { label: 'inferences measured', cells: fig('inferences') },
    { label: 'duration (s)', cells: fig('durationS') },
    { label: 'started (device clock)', cells: each((v) => when(Math.min(...v.runs.map((s) => s.start)))) },
  ];
  // A figure no variant has (no GPU, no power sensor) is left out rather than shown as dashes.
  return { head, rows: rows.filter((r) => r.cells.some((x) => x !== null)) };
}

function trialTable(vs: Variant[], esc: Esc): Table | null {
  if (!vs.some((v) => v.runs.length > 1)) return null;
  const head = ['trials', 'median p50 (ms) [95 % CI]', 'trial p50s (ms)', 'CoV of trial p50s (%)', 'speedup δ (×) [95 % CI]', 'p', 'verdict', 'warnings'];
  const rows = vs.map((v): Row => {
    const t = v.runs.length > 1 ? v.trials : null;
    const p50 = t?.latencyP50Ms ?? null;
    const cmp = t?.versusBaseline ?? null;
    return {
      label: `${esc(v.name)}${v.baseline ? ' (baseline)' : ''}`,
      cells: [
        String(t?.n ?? v.runs.length),
        p50 ? withCi(p50) : num(figure(v, 'latencyP50Ms')),
        v.runs.map((s) => num(s.latencyP50Ms) ?? '–').join(', '),
        t?.cov == null ? null : formatNumber(t.cov * 100),
        v.baseline ? '1 (baseline)' : cmp ? withCi(cmp.speedup) : null,
        cmp ? formatNumber(cmp.pValue) : null,
        v.baseline ? 'baseline' : cmp ? verdictOf(cmp) : 'no CI: needs 2+ trials of it and of the baseline',
        t && t.warnings.length > 0 ? esc(t.warnings.join(' ')) : null,
      ],
    };
  });
  return { head, rows };
}

/** The first score and what it is plotted against: the quality/cost trade-off. */
interface Tradeoff {
  score: { name: string; better: 'higher' | 'lower' };
  sizeBy: 'modelBytes' | 'params' | null;
  points: { v: Variant; latency: number | null; energy: number | null; score: number; size: number | null }[];
}

function tradeoff(c: ComparisonResponse, vs: Variant[]): Tradeoff | null {
  const score = scoreNames(c)[0];
  if (!score) return null;
  const sizeBy = vs.some((v) => figure(v, 'modelBytes') !== null) ? 'modelBytes' : vs.some((v) => figure(v, 'params') !== null) ? 'params' : null;
  const points = vs.flatMap((v) => {
    const value = median(v.runs.map((s) => s.scores?.find((x) => x.name === score.name)?.value));
    if (value === null) return [];
    return [{ v, latency: figure(v, 'latencyP50Ms'), energy: figure(v, 'energyPerInferenceJ'), score: value, size: sizeBy ? figure(v, sizeBy) : null }];
  });
  return points.length > 0 ? { score, sizeBy, points } : null;
}

function frontOf(t: Tradeoff, by: 'latency' | 'energy'): Set<Variant> {
  const pts = t.points.flatMap((p) => (p[by] === null ? [] : [{ x: p[by]!, y: p.score, v: p.v }]));
  return new Set(paretoFront(pts, t.score.better).map((p) => p.v));
}

function tradeoffTable(t: Tradeoff, esc: Esc): Table {
  const hasEnergy = t.points.some((p) => p.energy !== null);
  const latencyFront = frontOf(t, 'latency');
  const energyFront = frontOf(t, 'energy');
  const head = [
    'latency p50 (ms)',
    ...(hasEnergy ? ['energy per inference (mJ)'] : []),
    `${esc(t.score.name)} (${t.score.better} is better)`,
    ...(t.sizeBy ? [t.sizeBy === 'modelBytes' ? 'model size (MiB)' : 'parameters'] : []),
    'on the Pareto front (latency)',
    ...(hasEnergy ? ['on the Pareto front (energy)'] : []),
  ];
  const rows = t.points.map((p): Row => ({
    label: `${esc(p.v.name)}${p.v.baseline ? ' (baseline)' : ''}`,
    cells: [
      num(p.latency),
      ...(hasEnergy ? [num(p.energy, 1e-3)] : []),
      formatNumber(p.score),
      ...(t.sizeBy ? [num(p.size, t.sizeBy === 'modelBytes' ? MiB : 1)] : []),
      p.latency === null ? null : latencyFront.has(p.v) ? 'yes' : 'no',
      ...(hasEnergy ? [p.energy === null ? null : energyFront.has(p.v) ? 'yes' : 'no'] : []),
    ],
  }));
  return { head, rows };
}

const CONDITION_ROWS: readonly [label: string, value: (c: RunConditions) => string | number | boolean | undefined][] = [
  ['power mode', (c) => (c.powerMode === undefined ? undefined : `${c.powerMode}${c.powerModeId === undefined ? '' : ` (${c.powerModeId})`}`)],
  ['jetson_clocks', (c) => c.jetsonClocks],
  ['CPU governor', (c) => c.cpuGovernor],
  ['CPU min–max (MHz)', (c) => (c.cpuMinMHz === undefined && c.cpuMaxMHz === undefined ? undefined : `${c.cpuMinMHz ?? '?'}–${c.cpuMaxMHz ?? '?'}`)],
  ['throttling at start', (c) => (c.throttleAtStart === undefined ? undefined : c.throttleAtStart.length === 0 ? 'none' : c.throttleAtStart.join(', '))],
  ['temperature at start (°C)', (c) => c.startTempC],
  ['kernel', (c) => c.kernel],
  ['GPU driver / CUDA', (c) => (c.gpuDriver === undefined && c.cudaVersion === undefined ? undefined : `${c.gpuDriver ?? '?'} / ${c.cudaVersion ?? '?'}`)],
  ['agent version', (c) => c.agentVersion],
];

function conditionsTable(c: ComparisonResponse, esc: Esc): Table | null {
  const runs = c.experiments;
  if (runs.every((s) => !s.conditions)) return null;
  const gpuIdx = [...new Set(runs.flatMap((s) => (s.conditions?.gpus ?? []).map((g) => g.index)))].sort((a, b) => a - b);
  const gpuRows = gpuIdx.map((i): [string, (c: RunConditions) => string | undefined] => [
    `GPU ${i}`,
    (cond) => {
      const g = cond.gpus?.find((x) => x.index === i);
      return g ? gpuText(g).replace(/^\d+: ?/, '') : undefined;
    },
  ]);
  const rows: Row[] = [];
  for (const [label, value] of [...CONDITION_ROWS, ...gpuRows]) {
    const raw = runs.map((s) => (s.conditions ? value(s.conditions) : undefined));
    if (raw.every((x) => x === undefined)) continue;
    const shown = raw.map((x) => (x === undefined ? null : typeof x === 'boolean' ? (x ? 'on' : 'off') : String(x)));
    const reported = shown.filter((x) => x !== null);
    rows.push({ label, cells: shown.map((x) => (x === null ? null : esc(x))), differs: new Set(reported).size > 1 });
  }
  const head = runs.map((s) => `${esc(s.name)} · ${esc(s.id)}${s.conditions ? '' : ' (not reported)'}`);
  return { head, rows };
}

function when(ms: number): string {
  return Number.isFinite(ms) ? `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)} UTC` : '–';
}

interface Report {
  title: string;
  meta: string[];
  headline: Table;
  trials: Table | null;
  tradeoff: Table | null;
  conditionWarnings: string[];
  conditions: Table | null;
  notes: string[];
}

export interface ReportOptions {
  /** When the report was made (ms); default now. */
  generatedAt?: number;
}

function buildReport(c: ComparisonResponse, vs: Variant[], esc: Esc, opts: ReportOptions): Report {
  const base = vs.find((v) => v.baseline);
  const others = vs.filter((v) => !v.baseline).map((v) => esc(v.name));
  const title = `Comparison: ${base ? `${esc(base.name)} (baseline)` : ''}${others.length > 0 ? ` vs ${others.join(', ')}` : ''}`;
  const start = Math.min(...c.experiments.map((s) => s.start));
  const end = Math.max(...c.experiments.map((s) => s.end ?? s.start + s.durationS * 1000));
  const devices = [...new Map(c.experiments.map((s) => [s.deviceId, s.deviceName])).entries()].map(([id, name]) => `${esc(name)} (${esc(id)})`);
  const running = c.experiments.filter((s) => s.running).length;
  const meta = [
    `${c.experiments.length} run${c.experiments.length === 1 ? '' : 's'} of ${vs.length} variant${vs.length === 1 ? '' : 's'}, ${when(start)} to ${when(end)} (device clock)${running > 0 ? `; ${running} still running, figures so far` : ''}.`,
    `Device${devices.length === 1 ? '' : 's'}: ${devices.join(', ')}.`,
    `Ratios are against the baseline ${base ? `${esc(base.name)} (${esc(c.baseline)})` : esc(c.baseline)}: speedup δ = baseline p50 ÷ variant p50, so δ above 1 is faster; α = baseline size ÷ variant size; β = (baseline size − variant size) ÷ variant size.`,
    'A variant run several times shows the median over its trials ([95 % CI] from the bootstrap where given), timings dropped and time throttled summed over them.',
    `Made by the edgewatch hub at ${when(opts.generatedAt ?? Date.now())}.`,
  ];
  const computed = c.experiments.filter((s) => s.snapshot).map((s) => s.snapshot!.computedAt);
  if (computed.length > 0) {
    const lo = Math.min(...computed);
    const hi = Math.max(...computed);
    meta.push(
      `Figures of ended runs as the hub computed them ${lo === hi ? `at ${when(lo)}` : `between ${when(lo)} and ${when(hi)}`} (stored when each run ended, so they outlive raw retention).`,
    );
  }
  const t = tradeoff(c, vs);
  return {
    title,
    meta,
    headline: headlineTable(c, vs, esc),
    trials: trialTable(vs, esc),
    tradeoff: t ? tradeoffTable(t, esc) : null,
    conditionWarnings: (c.conditionWarnings ?? []).map(esc),
    conditions: conditionsTable(c, esc),
    notes: (c.notes ?? []).map(esc),
  };
}

// ================================================================ Markdown

function mdTable(t: Table, corner = ''): string[] {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [
    line([corner, ...t.head]),
    line(['---', ...t.head.map(() => '---:')]),
    ...t.rows.map((r) => line([r.differs ? `${r.label} ≠` : r.label, ...r.cells.map((x) => x ?? '–')])),
  ];
}

/**
 * A report for a PR: title and context, the headline table (a column per variant, a row per
 * figure with its unit), the trials, the quality/cost trade-off, run conditions and notes. The
 * charts are in the HTML format only (GitHub shows no data: images); the same numbers are here.
 */
export function comparisonMarkdown(c: ComparisonResponse, opts: ReportOptions = {}): string {
  const vs = variantsOf(c);
  const r = buildReport(c, vs, (s) => mdCell(s), opts);
  const out: string[] = [`# ${r.title}`, '', ...r.meta.map((m) => `${m}  `)];
  out.push('Charts: the HTML format of this report (`format=html`) draws them; the tables here hold the same numbers.', '');
  out.push('## Figures', '', ...mdTable(r.headline), '');
  if (r.trials) out.push('## Trials', '', ...mdTable(r.trials, 'variant'), '');
  if (r.tradeoff) out.push('## Quality against cost', '', ...mdTable(r.tradeoff, 'variant'), '');
  out.push('## Run conditions', '');
  if (r.conditionWarnings.length > 0) out.push(...r.conditionWarnings.map((w) => `- ⚠ ${w}`), '');
  else if (r.conditions) out.push('No differences in run conditions that affect the figures were found.', '');
  if (r.conditions) out.push(...mdTable(r.conditions), '', '≠: the runs differ in this condition.', '');
  else out.push('No run reported its conditions (agents before conditions were recorded).', '');
  if (r.notes.length > 0) out.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return out.join('\n').replace(/\n+$/, '') + '\n';
}

// ================================================================ HTML

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;margin:24px auto;max-width:1200px;padding:0 16px}
h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
p.meta{margin:2px 0;color:#424a53}
.scroll{overflow-x:auto}
table{border-collapse:collapse;margin:8px 0}
th,td{border:1px solid #d0d7de;padding:4px 8px;vertical-align:top}
thead th{background:#f6f8fa;text-align:right}
td{text-align:right;font-variant-numeric:tabular-nums}
tbody th{text-align:left;font-weight:normal;background:#f6f8fa;white-space:nowrap}
td.text{text-align:left}
.base{background:#f3eefe}
tr.differs th{font-weight:600}tr.differs td{background:#fff8c5}
.v-faster{color:#1a7f37;font-weight:600}.v-slower{color:#cf222e;font-weight:600}.v-none{color:#656d76}
ul.warn li{color:#9a6700}
figure{margin:12px 0}figcaption{color:#656d76;font-size:12px}
`;

const VERDICT_CLASS: Record<string, string> = { faster: 'v-faster', slower: 'v-slower', 'no measurable difference': 'v-none' };

function htmlTable(t: Table, corner = '', opts: { baselineCol?: number; verdicts?: boolean } = {}): string {
  const th = t.head.map((h, i) => `<th${i === opts.baselineCol ? ' class="base"' : ''}>${h}</th>`).join('');
  const body = t.rows
    .map((r) => {
      const cells = r.cells
        .map((x, i) => {
          const cls: string[] = [];
          if (i === opts.baselineCol) cls.push('base');
          if (x !== null && !/^[-+±\d.,\s/[\]×()e]+$/.test(x)) cls.push('text');
          if (opts.verdicts && x !== null) {
            const v = Object.keys(VERDICT_CLASS).find((k) => x.startsWith(k));
            if (v) cls.push(VERDICT_CLASS[v]!);
          }
          return `<td${cls.length > 0 ? ` class="${cls.join(' ')}"` : ''}>${x ?? '–'}</td>`;
        })
        .join('');
      return `<tr${r.differs ? ' class="differs"' : ''}><th scope="row">${r.label}${r.differs ? ' ≠' : ''}</th>${cells}</tr>`;
    })
    .join('\n');
  return `<div class="scroll"><table><thead><tr><th>${corner}</th>${th}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function charts(c: ComparisonResponse, vs: Variant[]): string[] {
  const out: string[] = [];
  const figureHtml = (svg: string, caption: string): string => `<figure>${svg}<figcaption>${htmlText(caption)}</figcaption></figure>`;
  const bars = vs.map((v) => {
    const e = estimate(v, 'latencyP50Ms');
    return { label: v.name, value: e?.value ?? figure(v, 'latencyP50Ms'), lo: e?.lo ?? null, hi: e?.hi ?? null, baseline: v.baseline };
  });
  if (bars.some((b) => b.value !== null)) {
    out.push(
      figureHtml(
        barChartSvg(bars, { title: 'Latency p50 per variant', axis: 'latency p50 (ms); whiskers: 95 % CI across trials' }),
        'Median over trials of each run’s p50 (a single run: its p50). Shorter is faster.',
      ),
    );
  }
  const t = tradeoff(c, vs);
  if (t) {
    const sizeLegend = t.sizeBy === 'modelBytes' ? 'model size (bytes)' : t.sizeBy === 'params' ? 'parameter count' : undefined;
    const scatter = (by: 'latency' | 'energy', scale: number, axis: string): void => {
      const pts: ScatterPoint[] = t.points.flatMap((p) =>
        p[by] === null ? [] : [{ label: p.v.name, x: p[by]! / scale, y: p.score, size: p.size, baseline: p.v.baseline }],
      );
      if (pts.length === 0) return;
      const title = `${t.score.name} against ${by === 'latency' ? 'latency p50' : 'energy per inference'}`;
      out.push(
        figureHtml(
          scatterSvg(pts, { title, xAxis: axis, yAxis: `${t.score.name} (${t.score.better} is better)`, better: t.score.better, ...(sizeLegend ? { sizeLegend } : {}) }),
          'Each marker a variant; the dashed line joins those no other variant beats on both axes (the Pareto front).',
        ),
      );
    };
    scatter('latency', 1, 'latency p50 (ms)');
    if (t.points.some((p) => p.energy !== null)) scatter('energy', 1e-3, 'energy per inference (mJ)');
  }
  if (vs.some((v) => v.runs.length > 1)) {
    const strips = vs.map((v) => ({
      label: v.name,
      values: v.runs.map((s) => s.latencyP50Ms).filter((x): x is number => x !== null),
      median: estimate(v, 'latencyP50Ms')?.value ?? figure(v, 'latencyP50Ms'),
      baseline: v.baseline,
    }));
    out.push(figureHtml(stripChartSvg(strips, { title: 'Trial p50s', axis: 'latency p50 per trial (ms); tick: median' }), 'A dot per trial: how far the runs of one variant spread.'));
  }
  return out;
}

const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";
/** What the route sends with the HTML report (also set in the file itself for when it is opened offline). */
export const REPORT_CSP = CSP;

/** The same report as one HTML file: inline style, inline SVG charts, no scripts, nothing fetched. */
export function comparisonHtml(c: ComparisonResponse, opts: ReportOptions = {}): string {
  const vs = variantsOf(c);
  const r = buildReport(c, vs, htmlText, opts);
  const baselineCol = vs.findIndex((v) => v.baseline);
  const parts: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${CSP}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="referrer" content="no-referrer">',
    `<title>${r.title}</title>`,
    `<style>${STYLE}</style>`,
    '</head><body>',
    `<h1>${r.title}</h1>`,
    ...r.meta.map((m) => `<p class="meta">${m}</p>`),
    '<h2>Figures</h2>',
    htmlTable(r.headline, '', { baselineCol, verdicts: true }),
  ];
  const chartParts = charts(c, vs);
  if (chartParts.length > 0) parts.push('<h2>Charts</h2>', ...chartParts);
  if (r.trials) parts.push('<h2>Trials</h2>', htmlTable(r.trials, 'variant', { verdicts: true }));
  if (r.tradeoff) parts.push('<h2>Quality against cost</h2>', htmlTable(r.tradeoff, 'variant'));
  parts.push('<h2>Run conditions</h2>');
  if (r.conditionWarnings.length > 0) parts.push(`<ul class="warn">${r.conditionWarnings.map((w) => `<li>${w}</li>`).join('')}</ul>`);
  else if (r.conditions) parts.push('<p>No differences in run conditions that affect the figures were found.</p>');
  if (r.conditions) parts.push(htmlTable(r.conditions), '<p class="meta">≠ and highlighted: the runs differ in this condition.</p>');
  else parts.push('<p>No run reported its conditions (agents before conditions were recorded).</p>');
  if (r.notes.length > 0) parts.push('<h2>Notes</h2>', `<ul>${r.notes.map((n) => `<li>${n}</li>`).join('')}</ul>`);
  parts.push('</body></html>');
  return parts.join('\n') + '\n';
}
