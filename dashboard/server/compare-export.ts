// A comparison as CSV (one row per experiment, for tools) or a Markdown report (a row per
// figure, for people). Names, tags and model
// names come from devices and users: untrusted text. CSV quotes per RFC 4180 and defuses
// spreadsheet formulas; Markdown escapes what would break the table or inject HTML.
import type { ComparisonResponse, ExperimentStats, RepeatGroup } from '../../shared/live.js';
import { EXPERIMENT_FIGURES } from './compare.js';

type Cell = string | number | boolean | null;

interface Column {
  header: string;
  value: (s: ExperimentStats, baseline: string) => Cell;
}

const COLUMNS: readonly Column[] = [
  { header: 'id', value: (s) => s.id },
  { header: 'name', value: (s) => s.name },
  { header: 'baseline', value: (s, b) => s.id === b },
  { header: 'device', value: (s) => s.deviceId },
  { header: 'deviceName', value: (s) => s.deviceName },
  { header: 'tags', value: (s) => Object.entries(s.tags).map(([k, v]) => `${k}=${v}`).join('; ') },
  { header: 'models', value: (s) => s.models.join(' ') },
  { header: 'start', value: (s) => new Date(s.start).toISOString() },
  { header: 'end', value: (s) => (s.end === null ? null : new Date(s.end).toISOString()) },
  ...EXPERIMENT_FIGURES.map((f): Column => ({ header: f, value: (s) => s[f] })),
  { header: 'powerSource', value: (s) => s.powerSource },
  { header: 'throttled', value: (s) => s.throttled },
  { header: 'latencySource', value: (s) => s.latencySource },
];

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

export function comparisonCsv(c: ComparisonResponse): string {
  const lines = [COLUMNS.map((col) => csvCell(col.header))];
  for (const s of c.experiments) lines.push(COLUMNS.map((col) => csvCell(col.value(s, c.baseline))));
  return lines.map((cells) => cells.join(',')).join('\r\n') + '\r\n';
}

/** Text safe inside a Markdown table cell: no row or column breaks, no raw HTML. */
export function mdCell(cell: Cell): string {
  if (cell === null) return '–';
  if (typeof cell === 'number') return Number.isFinite(cell) ? formatNumber(cell) : '–';
  if (typeof cell === 'boolean') return cell ? 'yes' : 'no';
  return cell
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\r\n]+/g, ' ');
}

function formatNumber(x: number): string {
  if (Number.isInteger(x)) return String(x);
  return Math.abs(x) >= 100 ? x.toFixed(1) : Number(x.toPrecision(4)).toString();
}

interface ReportRow {
  label: string;
  value: (s: ExperimentStats) => Cell;
}

const MiB = 1024 * 1024;
const scaled = (x: number | null, by: number): number | null => (x === null ? null : x / by);
const times = (x: number | null): string | null => (x === null ? null : `${formatNumber(x)}×`);

/** What a person reads: figures as rows with their units, one column per experiment. */
const REPORT_ROWS: readonly ReportRow[] = [
  { label: 'device', value: (s) => s.deviceName },
  { label: 'started', value: (s) => new Date(s.start).toISOString().replace('T', ' ').slice(0, 19) },
  { label: 'duration (s)', value: (s) => s.durationS },
  { label: 'inferences', value: (s) => s.inferences },
  { label: 'throughput (inferences/s)', value: (s) => s.inferencesPerS },
  { label: 'throughput (items/s)', value: (s) => s.itemsPerS },
  { label: 'latency mean (ms)', value: (s) => s.latencyMeanMs },
  { label: 'latency p50 (ms)', value: (s) => s.latencyP50Ms },
  { label: 'latency p90 (ms)', value: (s) => s.latencyP90Ms },
  { label: 'latency p99 (ms)', value: (s) => s.latencyP99Ms },
  { label: 'latency max (ms)', value: (s) => s.latencyMaxMs },
  { label: 'latency stdev (ms)', value: (s) => s.latencyStdevMs },
  { label: 'CPU mean / peak (%)', value: (s) => pair(s.cpuUtilMean, s.cpuUtilPeak) },
  { label: 'GPU mean / peak (%)', value: (s) => pair(s.gpuUtilMean, s.gpuUtilPeak) },
  { label: 'peak memory (MiB)', value: (s) => scaled(s.memUsedPeakBytes, MiB) },
  { label: 'power mean / peak (W)', value: (s) => pair(s.powerMeanW, s.powerPeakW) },
  { label: 'power source', value: (s) => s.powerSource },
  { label: 'energy per inference (mJ)', value: (s) => scaled(s.energyPerInferenceJ, 1e-3) },
  { label: 'peak temperature (°C)', value: (s) => s.tempPeakC },
  { label: 'throttling seen', value: (s) => s.throttled },
  { label: 'parameters', value: (s) => s.params },
  { label: 'model size (bytes)', value: (s) => s.modelBytes },
  { label: 'speedup δ on p50', value: (s) => times(s.speedupP50) },
  { label: 'speedup δ on mean', value: (s) => times(s.speedupMean) },
  { label: 'compression α (params)', value: (s) => times(s.compressionParams) },
  { label: 'space saving β (params)', value: (s) => s.spaceSavingParams },
  { label: 'compression α (bytes)', value: (s) => times(s.compressionBytes) },
  { label: 'space saving β (bytes)', value: (s) => s.spaceSavingBytes },
];

function pair(a: number | null, b: number | null): string | null {
  return a === null && b === null ? null : `${mdCell(a)} / ${mdCell(b)}`;
}

/** Figures whose spread over repeats people ask about first. */
const REPEAT_FIGURES: readonly [label: string, figure: keyof RepeatGroup['figures'], scale: number][] = [
  ['latency p50 (ms)', 'latencyP50Ms', 1],
  ['latency p99 (ms)', 'latencyP99Ms', 1],
  ['throughput (inferences/s)', 'inferencesPerS', 1],
  ['energy per inference (mJ)', 'energyPerInferenceJ', 1e-3],
];

/**
 * A report: one column per experiment (the baseline marked), a row per figure; then, for names
 * run more than once, mean ± stdev across the runs.
 */
export function comparisonMarkdown(c: ComparisonResponse): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  const heads = c.experiments.map((s) => `${mdCell(s.name)}${s.id === c.baseline ? ' (baseline)' : ''}`);
  const out = [line(['', ...heads]), line(['---', ...c.experiments.map(() => '---:')])];
  out.push(line(['id', ...c.experiments.map((s) => mdCell(s.id))]));
  for (const row of REPORT_ROWS) {
    const cells = c.experiments.map((s) => row.value(s));
    // A figure no experiment has (no GPU, no power sensor) is left out rather than shown as dashes.
    if (cells.every((v) => v === null)) continue;
    out.push(line([row.label, ...cells.map((v) => (typeof v === 'string' && /^[\d.]+(×| \/ )/.test(v) ? v : mdCell(v)))]));
  }
  const repeats = c.groups.filter((g) => g.runs > 1);
  if (repeats.length > 0) {
    out.push('', line(['repeats', 'runs', ...REPEAT_FIGURES.map(([label]) => label)]), line(['---', '---:', ...REPEAT_FIGURES.map(() => '---:')]));
    for (const g of repeats) {
      const cells = REPEAT_FIGURES.map(([, f, scale]) => {
        const { mean, stdev } = g.figures[f];
        return mean === null ? '–' : `${mdCell(mean / scale)} ± ${stdev === null ? '–' : mdCell(stdev / scale)}`;
      });
      out.push(line([mdCell(g.name), String(g.runs), ...cells]));
    }
  }
  return out.join('\n') + '\n';
}
