// Experiments in the browser, as pure data (no DOM, unit-tested in node): shaded bands on the
// device charts, the experiments list, the comparison table's rows and the number formats
// they use (speedup "2.41×", energy in J/mJ/µJ, parameter counts "11.7 M").
import { formatBytes, formatValue } from '../../../shared/format.js';
import { conditionRows, scoreRows, tagRow } from './compare-rows-extra.js';
import type { ComparisonResponse, ExperimentFigure, ExperimentStats, ExperimentSummary, RepeatGroup } from './experiment-types.js';
import { PALETTE } from './chart-plan.js';
import { RANGES, type RangeKey } from './router.js';


const DASH = '—';

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

// ---------------------------------------------------------------------------------------------
// Number formats

/** Speedup or compression ratio: "2.41×", "12.5×", "128×". */
export function formatTimes(x: number | null | undefined): string {
  if (!finite(x)) return DASH;
  const a = Math.abs(x);
  return `${a >= 100 ? x.toFixed(0) : a >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;
}

/** A share given as a fraction (0.75) as a percentage: "75.0 %", "−12.5 %". */
export function formatShare(fraction: number | null | undefined): string {
  if (!finite(fraction)) return DASH;
  const pct = fraction * 100;
  const text = Math.abs(pct) >= 99.95 || pct === 0 ? pct.toFixed(0) : pct.toFixed(1);
  return `${text.replace('-', '−')} %`;
}

/** Energy: "1.23 J", "12.3 mJ", "456 µJ", "4.20 kJ". */
export function formatEnergy(joules: number | null | undefined): string {
  if (!finite(joules)) return DASH;
  const a = Math.abs(joules);
  if (a === 0) return '0 J';
  const [v, unit] = a >= 1000 ? [joules / 1000, 'kJ'] : a >= 1 ? [joules, 'J'] : a >= 1e-3 ? [joules * 1e3, 'mJ'] : [joules * 1e6, 'µJ'];
  const av = Math.abs(v);
  return `${av >= 100 ? v.toFixed(0) : av >= 10 ? v.toFixed(1) : v.toFixed(2)} ${unit}`;
}

/** A count in SI steps: "950", "11.7 k", "11.7 M", "1.50 G" (parameters, inferences). */
export function formatCount(n: number | null | undefined): string {
  if (!finite(n)) return DASH;
  const a = Math.abs(n);
  if (a < 1000) return String(Math.round(n));
  const steps: [number, string][] = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  const [f, s] = steps.find(([f]) => a >= f)!;
  const v = n / f;
  const av = Math.abs(v);
  return `${av >= 100 ? v.toFixed(0) : av >= 10 ? v.toFixed(1) : v.toFixed(2)} ${s}`;
}

/** Whole numbers with thin grouping: "12 345". */
export function formatInteger(n: number | null | undefined): string {
  if (!finite(n)) return DASH;
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
}

/**
 * The badge of an experiment the hub closed because its agent never ended it, with what it
 * means; null for one its agent ended (or still running).
 */
export function endedByBadge(e: { endedBy?: 'timeout' | null }): { text: string; title: string } | null {
  if (e.endedBy !== 'timeout') return null;
  return {
    text: 'ended by timeout',
    title: 'Its agent never ended it (it stopped, or restarted without its state directory): the hub closed it at its last data. Its figures cover what reached the hub.',
  };
}

/** A duration in seconds: "42 s", "5 min 12 s", "1 h 05 min", "2 d 3 h". */
export function formatDuration(seconds: number | null | undefined): string {
  if (!finite(seconds) || seconds < 0) return DASH;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

export function formatModelBytes(b: number | null | undefined): string {
  return finite(b) ? formatBytes(b) : DASH;
}

/** "mean ± stdev" with one formatter for both. */
export function formatMeanStdev(mean: number | null | undefined, stdev: number | null | undefined, fmt: (v: number) => string): string {
  if (!finite(mean)) return DASH;
  return finite(stdev) ? `${fmt(mean)} ± ${fmt(stdev)}` : fmt(mean);
}

/** Relative change of `value` against `base`: "+12.5 %", "−62.0 %"; null when undefined. */
export function relativeChange(value: number | null | undefined, base: number | null | undefined): number | null {
  if (!finite(value) || !finite(base) || base === 0) return null;
  return value / base - 1;
}

export function formatChange(change: number | null): string {
  if (change === null) return '';
  const pct = change * 100;
  const text = Math.abs(pct) >= 10 ? pct.toFixed(0) : pct.toFixed(1);
  return `${pct > 0 ? '+' : ''}${text.replace('-', '−')} %`;
}

// ---------------------------------------------------------------------------------------------
// Bands on the time charts

export interface ExperimentSpan {
  id: string;
  name: string;
  start: number;
  /** null while the experiment runs. */
  end: number | null;
}

export interface Band {
  id: string;
  name: string;
  /** Clipped to the shown range (x axis units: device-clock ms). */
  x0: number;
  x1: number;
  /** Still running: extends to `now`. */
  open: boolean;
  color: string;
  /** Label row, 0 at the top: overlapping experiments get their own row. */
  lane: number;
}

/** Most label rows; further overlapping experiments share the last one. */
export const MAX_LANES = 3;

/** Band colours: the chart palette without its grey (a grey band reads as "disabled"). */
const BAND_PALETTE = PALETTE.filter((c) => c !== '#8c8c8c');

function hashIndex(name: string): number {
  let h = 2166136261;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return (h >>> 0) % BAND_PALETTE.length;
}

/** A colour for an experiment name on its own (repeats of one name share it). */
export function bandColor(name: string): string {
  return BAND_PALETTE[hashIndex(name)]!;
}

/**
 * Colours for a set of names: each name's own colour unless another name of the set took it
 * first (names in sorted order), then the next free one. The same set always gets the same
 * colours, and names shown side by side differ while there are colours left.
 */
export function bandColors(names: Iterable<string>): Map<string, string> {
  const sorted = [...new Set(names)].sort();
  const taken = new Set<number>();
  const out = new Map<string, string>();
  for (const name of sorted) {
    let i = hashIndex(name);
    for (let step = 0; step < BAND_PALETTE.length && taken.has(i); step++) i = (i + 1) % BAND_PALETTE.length;
    if (taken.size < BAND_PALETTE.length) taken.add(i);
    out.set(name, BAND_PALETTE[i]!);
  }
  return out;
}

/**
 * The experiments that overlap [from, to], clipped to it, in start order. An open experiment
 * (end null) runs to `now` (by default the range's end). Overlapping ones get separate lanes.
 */
export function layoutBands(experiments: readonly ExperimentSpan[], from: number, to: number, now: number = to): Band[] {
  if (!(to > from)) return [];
  const colors = bandColors(experiments.map((e) => e.name));
  const sorted = [...experiments].sort((a, b) => a.start - b.start || a.id.localeCompare(b.id));
  const laneEnds: number[] = [];
  const out: Band[] = [];
  for (const e of sorted) {
    const open = e.end === null;
    const end = open ? Math.max(now, e.start) : (e.end as number);
    if (end < from || e.start > to) continue;
    const x0 = Math.max(from, e.start);
    const x1 = Math.min(to, end);
    let lane = laneEnds.findIndex((lastEnd) => lastEnd <= x0);
    if (lane < 0) lane = laneEnds.length < MAX_LANES ? laneEnds.length : MAX_LANES - 1;
    laneEnds[lane] = Math.max(laneEnds[lane] ?? -Infinity, x1);
    out.push({ id: e.id, name: e.name, x0, x1, open, color: colors.get(e.name) ?? bandColor(e.name), lane });
  }
  return out;
}

/** Label rows needed by a set of bands. */
export function laneCount(bands: readonly Band[]): number {
  return bands.reduce((n, b) => Math.max(n, b.lane + 1), 0);
}

/** Fits a label into `maxWidth` px, ending it with "…" (measure: the canvas's measureText). */
export function fitLabel(text: string, maxWidth: number, measure: (s: string) => number): string {
  if (measure(text) <= maxWidth) return text;
  const chars = [...text];
  let lo = 0;
  let hi = chars.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measure(`${chars.slice(0, mid).join('')}…`) <= maxWidth) lo = mid;
    else hi = mid - 1;
  }
  return lo === 0 ? '' : `${chars.slice(0, lo).join('')}…`;
}

// ---------------------------------------------------------------------------------------------
// Routes

export function compareHref(ids: readonly string[], baseline?: string | null): string {
  const q = new URLSearchParams({ ids: ids.join(',') });
  if (baseline) q.set('baseline', baseline);
  return `#/compare?${q.toString().replace(/%2C/g, ',')}`;
}

export function experimentsHref(filter: { device?: string | null; name?: string | null } = {}): string {
  const q = new URLSearchParams();
  if (filter.device) q.set('device', filter.device);
  if (filter.name) q.set('name', filter.name);
  const s = q.toString();
  return `#/experiments${s ? `?${s}` : ''}`;
}

/** The compare API's URL for an export format (relative to the page, like every API call). */
export function compareApiUrl(ids: readonly string[], baseline: string | null, format?: 'json' | 'csv' | 'md' | 'html'): string {
  const q = new URLSearchParams({ ids: ids.join(',') });
  if (baseline) q.set('baseline', baseline);
  if (format) q.set('format', format);
  return `api/v1/experiments/compare?${q.toString().replace(/%2C/g, ',')}`;
}

// ---------------------------------------------------------------------------------------------
// The comparison table

export type Tone = 'good' | 'bad' | 'neutral' | 'baseline';

export interface CompareCell {
  text: string;
  value: number | null;
  /** Small second line: change against the baseline, the power source. */
  sub?: string;
  tone?: Tone;
}

export type CompareSection = 'Versus baseline' | 'Quality' | 'Run' | 'Latency' | 'Warm-up' | 'Power and energy' | 'Resources' | 'Model' | 'Conditions';

export interface CompareRow {
  key: string;
  label: string;
  section: CompareSection;
  cells: CompareCell[];
  /** Rows drawn bigger and tinted: the headline results. */
  emphasis?: 'speedup' | 'energy' | 'compression';
  /** Hint under the label. */
  hint?: string;
  /** The experiments disagree (run conditions): drawn marked. */
  differs?: boolean;
  /** Text cells that may break into lines (tags). */
  wrap?: boolean;
}

type Getter = (e: ExperimentStats) => number | null | undefined;

interface RowSpec {
  key: ExperimentFigure;
  label: string;
  section: CompareSection;
  fmt: (v: number) => string;
  /** Which direction is better, for the change against the baseline. */
  better?: 'lower' | 'higher';
  emphasis?: CompareRow['emphasis'];
  hint?: string;
  /** Show the change against the baseline under the value. */
  change?: boolean;
  /** Versus-baseline ratios: the value that means "same as the baseline" (1 for ×, 0 for β). */
  neutral?: number;
  /** A row only where some experiment's value is above zero (warm-up calls). */
  hideZeros?: boolean;
  /** Any value above zero is bad news (timings dropped, time throttled). */
  badAboveZero?: boolean;
}

const ms = (v: number) => formatValue(v, 'ms');
const perS = (v: number) => formatValue(v, '/s');
const pct = (v: number) => formatValue(v, '%');
const watts = (v: number) => formatValue(v, 'W');
/** Spread as a share of the mean: "4.2 %". */
const cov = (v: number) => formatShare(v);

/** Figures that are ratios against the baseline (the baseline's own are 1 and 0). */
const VERSUS: readonly ExperimentFigure[] = ['speedupP50', 'speedupMean', 'compressionParams', 'spaceSavingParams', 'compressionBytes', 'spaceSavingBytes'];

/** Every figure of ExperimentStats: label, format, section; also the repeats' labels. */
export const FIGURES: readonly RowSpec[] = [
  { key: 'speedupP50', label: 'Speedup δ (p50)', section: 'Versus baseline', fmt: formatTimes, emphasis: 'speedup', hint: 'baseline p50 ÷ this p50', neutral: 1 },
  { key: 'speedupMean', label: 'Speedup δ (mean)', section: 'Versus baseline', fmt: formatTimes, emphasis: 'speedup', hint: 'baseline mean ÷ this mean', neutral: 1 },
  { key: 'compressionParams', label: 'Compression α (params)', section: 'Versus baseline', fmt: formatTimes, emphasis: 'compression', hint: 'baseline params ÷ these params', neutral: 1 },
  { key: 'spaceSavingParams', label: 'Space saving β (params)', section: 'Versus baseline', fmt: formatTimes, emphasis: 'compression', hint: '(baseline − these) ÷ these params', neutral: 0 },
  { key: 'compressionBytes', label: 'Compression α (size)', section: 'Versus baseline', fmt: formatTimes, emphasis: 'compression', hint: 'baseline bytes ÷ these bytes', neutral: 1 },
  { key: 'spaceSavingBytes', label: 'Space saving β (size)', section: 'Versus baseline', fmt: formatTimes, emphasis: 'compression', hint: '(baseline − these) ÷ these bytes', neutral: 0 },
  { key: 'durationS', label: 'Duration', section: 'Run', fmt: formatDuration },
  { key: 'inferences', label: 'Inferences', section: 'Run', fmt: formatInteger },
  { key: 'items', label: 'Items', section: 'Run', fmt: formatInteger },
  { key: 'inferencesPerS', label: 'Throughput', section: 'Run', fmt: perS, better: 'higher', change: true, hint: 'inferences per second' },
  { key: 'itemsPerS', label: 'Items throughput', section: 'Run', fmt: perS, better: 'higher', change: true, hint: 'items per second' },
  { key: 'timingsDropped', label: 'Timings dropped', section: 'Run', fmt: formatInteger, badAboveZero: true, hint: 'the agent could not count them' },
  { key: 'latencyMeanMs', label: 'Latency mean', section: 'Latency', fmt: ms, better: 'lower', change: true },
  { key: 'latencyP50Ms', label: 'Latency p50', section: 'Latency', fmt: ms, better: 'lower', change: true },
  { key: 'latencyP90Ms', label: 'Latency p90', section: 'Latency', fmt: ms, better: 'lower', change: true },
  { key: 'latencyP95Ms', label: 'Latency p95', section: 'Latency', fmt: ms, better: 'lower', change: true },
  { key: 'latencyP99Ms', label: 'Latency p99', section: 'Latency', fmt: ms, better: 'lower', change: true },
  { key: 'latencyMaxMs', label: 'Latency max', section: 'Latency', fmt: ms, better: 'lower' },
  { key: 'latencyStdevMs', label: 'Latency stdev', section: 'Latency', fmt: ms, better: 'lower' },
  { key: 'latencyCov', label: 'Latency CoV', section: 'Latency', fmt: cov, hint: 'stdev ÷ mean of the calls' },
  { key: 'firstCallMs', label: 'First call', section: 'Warm-up', fmt: ms, hint: 'latency of the very first call' },
  { key: 'warmupInferences', label: 'Warm-up calls', section: 'Warm-up', fmt: formatInteger, hideZeros: true, hint: 'left out of the figures' },
  { key: 'warmupMeanMs', label: 'Warm-up mean', section: 'Warm-up', fmt: ms, hint: 'mean latency of the warm-up calls' },
  {
    key: 'energyPerInferenceJ',
    label: 'Energy per inference',
    section: 'Power and energy',
    fmt: formatEnergy,
    better: 'lower',
    change: true,
    emphasis: 'energy',
  },
  { key: 'netEnergyPerInferenceJ', label: 'Net energy per inference', section: 'Power and energy', fmt: formatEnergy, better: 'lower', change: true, hint: 'idle power taken off' },
  { key: 'energyJ', label: 'Energy in all', section: 'Power and energy', fmt: formatEnergy },
  { key: 'netEnergyJ', label: 'Net energy in all', section: 'Power and energy', fmt: formatEnergy, hint: 'energy − idle power × time' },
  { key: 'powerMeanW', label: 'Power mean', section: 'Power and energy', fmt: watts },
  { key: 'powerPeakW', label: 'Power peak', section: 'Power and energy', fmt: watts },
  { key: 'idlePowerW', label: 'Idle power', section: 'Power and energy', fmt: watts, hint: 'before the start' },
  { key: 'cpuUtilMean', label: 'CPU mean', section: 'Resources', fmt: pct },
  { key: 'cpuUtilPeak', label: 'CPU peak', section: 'Resources', fmt: pct },
  { key: 'gpuUtilMean', label: 'GPU mean', section: 'Resources', fmt: pct },
  { key: 'gpuUtilPeak', label: 'GPU peak', section: 'Resources', fmt: pct },
  { key: 'memUsedPeakBytes', label: 'Peak memory (whole device)', section: 'Resources', fmt: formatBytes, better: 'lower', hint: 'mem.used of the device, not of the model alone' },
  { key: 'tempPeakC', label: 'Peak temperature', section: 'Resources', fmt: (v) => formatValue(v, '°C') },
  { key: 'throttledS', label: 'Time throttled', section: 'Resources', fmt: formatDuration, badAboveZero: true, hint: 'a throttling flag was set' },
  { key: 'params', label: 'Parameters', section: 'Model', fmt: formatCount },
  { key: 'modelBytes', label: 'Model size', section: 'Model', fmt: formatBytes },
];

const POWER_SOURCES: Record<string, string> = { board: 'board input', 'gpu+rapl': 'GPU + RAPL', hwmon: 'hwmon sensors' };

/** Beyond this relative difference a change is coloured (measurement noise stays grey). */
const TONE_EPSILON = 0.005;

function toneFor(value: number, neutral: number): Tone {
  const scale = neutral === 0 ? 1 : Math.abs(neutral);
  if (value > neutral + TONE_EPSILON * scale) return 'good';
  if (value < neutral - TONE_EPSILON * scale) return 'bad';
  return 'neutral';
}

const SECTION_ORDER: CompareSection[] = ['Versus baseline', 'Quality', 'Run', 'Latency', 'Warm-up', 'Power and energy', 'Resources', 'Model', 'Conditions'];

/** A sampling interval: "1.0 s", "250 ms". */
export function formatInterval(seconds: number): string {
  return seconds < 1 ? formatValue(seconds * 1000, 'ms') : formatDuration(seconds);
}

/** "first 50 calls", "first 2.0 s", "none, first calls counted". */
export function formatWarmup(w: ExperimentStats['warmup'] | undefined): string {
  if (!w) return 'none, first calls counted';
  if ('calls' in w) return `first ${formatInteger(w.calls)} call${w.calls === 1 ? '' : 's'}`;
  return `first ${formatDuration(w.ms / 1000)}`;
}

/**
 * The rows of the comparison table, one cell per experiment in the response's order, by
 * section: versus the baseline first (speedup δ, compression α, space saving β), then quality
 * scores, run, latency, warm-up, power and energy, resources, model and run conditions. Rows
 * where no experiment has a value (no GPU, no power sensor, no scores) are left out.
 */
export function compareRows(res: Pick<ComparisonResponse, 'baseline' | 'experiments'> & Partial<Pick<ComparisonResponse, 'idleWindowS'>>): CompareRow[] {
  const exps = res.experiments;
  const baseline = exps.find((e) => e.id === res.baseline) ?? null;
  const rows: CompareRow[] = [];
  const get: (key: ExperimentFigure) => Getter = (key) => (e) => e[key];
  for (const spec of FIGURES) {
    const values = exps.map((e) => {
      const v = get(spec.key)(e);
      return finite(v) ? v : null;
    });
    const versus = VERSUS.includes(spec.key);
    if (versus ? exps.every((e, i) => e.id === res.baseline || values[i] === null) : values.every((v) => v === null)) continue;
    if (spec.hideZeros && !values.some((v) => v !== null && v > 0)) continue;
    const base = baseline ? get(spec.key)(baseline) : null;
    const cells = exps.map((e, i): CompareCell => {
      const v = values[i]!;
      if (versus) {
        if (e.id === res.baseline) return { text: 'baseline', value: v, tone: 'baseline' };
        return v === null ? { text: DASH, value: null } : { text: spec.fmt(v), value: v, tone: toneFor(v, spec.neutral ?? 1) };
      }
      const cell: CompareCell = { text: v === null ? DASH : spec.fmt(v), value: v };
      if (spec.badAboveZero && v !== null) cell.tone = v > 0 ? 'bad' : 'good';
      if (e.id === res.baseline) {
        if (spec.change || spec.emphasis) cell.tone = 'baseline';
      } else if (spec.change && v !== null) {
        const ch = relativeChange(v, base);
        if (ch !== null) {
          cell.sub = formatChange(ch);
          cell.tone = spec.better === 'lower' ? toneFor(-ch, 0) : spec.better === 'higher' ? toneFor(ch, 0) : 'neutral';
        }
      }
      return cell;
    });
    const hint = spec.key === 'idlePowerW' && finite(res.idleWindowS) ? `mean over the ${formatDuration(res.idleWindowS)} before the start` : spec.hint;
    rows.push({ key: spec.key, label: spec.label, section: spec.section, cells, emphasis: spec.emphasis, hint });
  }
  rows.push(...scoreRows(exps, res.baseline));
  const tags = tagRow(exps);
  if (tags) rows.push(tags);
  // The warm-up asked for, where any experiment asked for one.
  if (exps.some((e) => e.warmup)) {
    rows.push({ key: 'warmup', label: 'Warm-up', section: 'Warm-up', hint: 'timings kept out of the figures', cells: exps.map((e) => ({ text: formatWarmup(e.warmup), value: null })) });
  }
  // Where power was read and how finely.
  if (exps.some((e) => e.powerSource)) {
    rows.push({
      key: 'powerSource',
      label: 'Power source',
      section: 'Power and energy',
      hint: 'sensors summed; sampling interval',
      cells: exps.map((e) => {
        if (!e.powerSource) return { text: 'no sensor', value: null };
        const cell: CompareCell = { text: POWER_SOURCES[e.powerSource] ?? e.powerSource, value: null };
        if (finite(e.powerSampleIntervalS)) cell.sub = `sampled every ${formatInterval(e.powerSampleIntervalS)}`;
        return cell;
      }),
    });
  }
  // Throttling: yes/no, not a number.
  if (exps.some((e) => e.throttled !== null && e.throttled !== undefined)) {
    rows.push({
      key: 'throttled',
      label: 'Throttling seen',
      section: 'Resources',
      cells: exps.map((e) =>
        e.throttled === null || e.throttled === undefined
          ? { text: DASH, value: null }
          : { text: e.throttled ? 'yes' : 'no', value: e.throttled ? 1 : 0, tone: e.throttled ? 'bad' : 'good' },
      ),
    });
  }
  // Where the timings came from, when any experiment had to fall back to untagged ones.
  if (exps.some((e) => e.latencySource === 'time-range')) {
    rows.push({
      key: 'latencySource',
      label: 'Timings',
      section: 'Latency',
      hint: 'reported under the experiment, or untagged ones in its time',
      cells: exps.map((e) => ({ text: e.latencySource === 'experiment' ? 'tagged' : e.latencySource === 'time-range' ? 'untagged, in its time' : DASH, value: null })),
    });
  }
  rows.push(...conditionRows(exps));
  return rows.sort((a, b) => SECTION_ORDER.indexOf(a.section) - SECTION_ORDER.indexOf(b.section));
}

// ---------------------------------------------------------------------------------------------
// Repeats: experiments of one name run more than once

export interface RepeatLine {
  key: ExperimentFigure;
  label: string;
  text: string;
  /** Runs with a value. */
  n: number;
}

/** The mean ± stdev figures of a repeat group, in the comparison table's order. */
export function repeatLines(group: RepeatGroup): RepeatLine[] {
  const out: RepeatLine[] = [];
  for (const spec of FIGURES) {
    const f = group.figures?.[spec.key];
    if (!f || !finite(f.mean)) continue;
    out.push({ key: spec.key, label: spec.label, text: formatMeanStdev(f.mean, f.stdev, spec.fmt), n: f.n });
  }
  return out;
}

/** Devices named in the list, for the filter (id → name), sorted by name. */
export function experimentDevices(list: readonly Pick<ExperimentSummary, 'deviceId' | 'deviceName'>[]): [string, string][] {
  const m = new Map<string, string>();
  for (const e of list) m.set(e.deviceId, e.deviceName || e.deviceId);
  return [...m].sort((a, b) => a[1].localeCompare(b[1]) || a[0].localeCompare(b[0]));
}

/** The shortest device-page range that still shows an experiment that started at `start`. */
export function rangeFor(start: number, now: number): RangeKey {
  const age = now - start;
  return RANGES.find((r) => r.key !== 'live' && r.ms >= age * 1.05)?.key ?? '7d';
}

/** Case-insensitive substring match on the name, the models and the tag values. */
export function matchesName(e: Pick<ExperimentSummary, 'name' | 'models' | 'tags'>, q: string): boolean {
  const needle = q.trim().toLowerCase();
  if (!needle) return true;
  const hay = [e.name, ...(e.models ?? []), ...Object.entries(e.tags ?? {}).map(([k, v]) => `${k}=${v}`)];
  return hay.some((s) => s.toLowerCase().includes(needle));
}

export interface ModelReading {
  /** Metric segment (`resnet18_int8`). */
  key: string;
  /** The model's own name where known (`resnet18-int8`). */
  name: string;
  rate?: number;
  items?: number;
  p50?: number;
  p99?: number;
  mean?: number;
}

const INFER_RE = /^infer\.([a-z0-9_]+)\.(rate|items_rate|latency\.p50|latency\.p99|latency\.mean)$/;

/** The models in one sample's metrics with their readings, sorted by name. */
export function modelReadings(m: Readonly<Record<string, number>>, names: ReadonlyMap<string, string> = new Map()): ModelReading[] {
  const by = new Map<string, ModelReading>();
  for (const [metric, v] of Object.entries(m)) {
    const match = INFER_RE.exec(metric);
    if (!match || !Number.isFinite(v)) continue;
    const key = match[1]!;
    let r = by.get(key);
    if (!r) by.set(key, (r = { key, name: names.get(key) ?? key }));
    switch (match[2]) {
      case 'rate':
        r.rate = v;
        break;
      case 'items_rate':
        r.items = v;
        break;
      case 'latency.p50':
        r.p50 = v;
        break;
      case 'latency.p99':
        r.p99 = v;
        break;
      case 'latency.mean':
        r.mean = v;
        break;
    }
  }
  return [...by.values()].sort((a, b) => a.name.localeCompare(b.name, 'en', { numeric: true }));
}
