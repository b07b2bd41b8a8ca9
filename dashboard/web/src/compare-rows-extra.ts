// The comparison table's rows that are not one number per experiment: quality scores with
// their change against the baseline (percentage points for scores given as fractions), the
// run conditions (power mode, clocks, governor, driver…) with the rows that differ marked,
// and the tags. Pure data, unit-tested in node; every string here (score names, tag keys and
// values, GPU names, governors) is untrusted and reaches the page through textContent only.
import { formatValue } from '../../../shared/format.js';
import type { ExperimentStats, GpuConditions, RunConditions, ScoreDelta } from './experiment-types.js';
import type { CompareCell, CompareRow } from './experiments-model.js';

const DASH = '—';
const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);
const minus = (s: string) => s.replace('-', '−');

// ---------------------------------------------------------------------------------------------
// Scores

/** A score reads as a fraction (top-1 0.712) when every value of it lies in [0, 1]. */
export function isFractionScore(values: readonly number[]): boolean {
  return values.length > 0 && values.every((v) => v >= 0 && v <= 1);
}

/** A number without a unit, four significant digits: "23.45", "0.1234", "12 346". */
function plain(v: number): string {
  if (Math.abs(v) >= 10_000) return minus(Math.round(v).toString().replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f'));
  return minus(String(Number(v.toPrecision(4))));
}

/** A score value: a fraction as a percentage ("71.2 %"), anything else as it came ("23.45"). */
export function formatScore(v: number | null | undefined, fraction: boolean): string {
  if (!finite(v)) return DASH;
  return fraction ? `${(v * 100).toFixed(1)} %` : plain(v);
}

/**
 * A score's change against the baseline: in percentage points when the score is a fraction
 * ("+1.4 pp", "−0.3 pp"), in the score's own unit otherwise ("−1.25").
 */
export function formatScoreDelta(delta: number | null | undefined, fraction: boolean): string {
  if (!finite(delta)) return '';
  const sign = delta > 0 ? '+' : delta < 0 ? '−' : '±';
  return fraction ? `${sign}${Math.abs(delta * 100).toFixed(1)} pp` : `${sign}${plain(Math.abs(delta))}`;
}

/** Score names over the experiments, in order of first appearance, with which way is better. */
export function scoreNames(exps: readonly ExperimentStats[]): { name: string; better: 'higher' | 'lower' }[] {
  const out = new Map<string, 'higher' | 'lower'>();
  for (const e of exps) for (const s of e.scores ?? []) if (!out.has(s.name) && finite(s.value)) out.set(s.name, s.better ?? 'higher');
  return [...out].map(([name, better]) => ({ name, better }));
}

export function scoreOf(e: ExperimentStats, name: string): number | null {
  const s = (e.scores ?? []).find((x) => x.name === name);
  return s && finite(s.value) ? s.value : null;
}

/** The hub's delta for the score, or one worked out from the baseline's score where it sent none. */
function deltaOf(e: ExperimentStats, base: ExperimentStats | null, name: string, better: 'higher' | 'lower'): ScoreDelta | null {
  const given = (e.scoreDeltas ?? []).find((d) => d.name === name);
  if (given && finite(given.delta)) return given;
  const v = scoreOf(e, name);
  const b = base ? scoreOf(base, name) : null;
  if (v === null || b === null) return null;
  const delta = v - b;
  return { name, better, value: v, baseline: b, delta, worse: better === 'higher' ? delta < 0 : delta > 0 };
}

/** One row per score (section Quality): the value, and under it the change against the baseline. */
export function scoreRows(exps: readonly ExperimentStats[], baselineId: string): CompareRow[] {
  const base = exps.find((e) => e.id === baselineId) ?? null;
  return scoreNames(exps).map(({ name, better }) => {
    const values = exps.map((e) => scoreOf(e, name));
    const fraction = isFractionScore(values.filter(finite));
    const cells = exps.map((e, i): CompareCell => {
      const v = values[i]!;
      const cell: CompareCell = { text: formatScore(v, fraction), value: v };
      if (v === null) return cell;
      if (e.id === baselineId) {
        cell.tone = 'baseline';
        return cell;
      }
      const d = deltaOf(e, base, name, better);
      if (d) {
        cell.sub = formatScoreDelta(d.delta, fraction);
        cell.tone = d.delta === 0 ? 'neutral' : d.worse ? 'bad' : 'good';
      }
      return cell;
    });
    return {
      key: `score:${name}`,
      label: name,
      section: 'Quality',
      cells,
      hint: `${better} is better${fraction ? '; change in points' : ''}`,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Run conditions

const onOff = (b: boolean | undefined) => (b === undefined ? null : b ? 'on' : 'off');
const mhz = (v: number | undefined) => (finite(v) ? formatValue(v, 'MHz') : null);

function perGpu(c: RunConditions, f: (g: GpuConditions) => string | null): string | null {
  const parts = (c.gpus ?? []).map(f).filter((s): s is string => s !== null);
  return parts.length ? parts.join(', ') : null;
}

interface ConditionSpec {
  key: string;
  label: string;
  hint?: string;
  text: (c: RunConditions) => string | null;
}

const CONDITIONS: readonly ConditionSpec[] = [
  { key: 'powerMode', label: 'Power mode', hint: 'nvpmodel', text: (c) => (c.powerMode !== undefined ? c.powerMode : null) },
  { key: 'jetsonClocks', label: 'jetson_clocks', hint: 'clocks pinned at their maximum', text: (c) => onOff(c.jetsonClocks) },
  { key: 'cpuGovernor', label: 'CPU governor', text: (c) => c.cpuGovernor ?? null },
  {
    key: 'cpuFreq',
    label: 'CPU frequency limits',
    text: (c) => (c.cpuMinMHz === undefined && c.cpuMaxMHz === undefined ? null : `${mhz(c.cpuMinMHz) ?? '?'} – ${mhz(c.cpuMaxMHz) ?? '?'}`),
  },
  { key: 'gpu', label: 'GPU', text: (c) => perGpu(c, (g) => g.name ?? `GPU ${g.index}`) },
  {
    key: 'gpuClocks',
    label: 'GPU clocks at start',
    hint: 'SM / memory',
    text: (c) => perGpu(c, (g) => (g.smClockMHz === undefined && g.memClockMHz === undefined ? null : `${mhz(g.smClockMHz) ?? '?'} / ${mhz(g.memClockMHz) ?? '?'}`)),
  },
  {
    key: 'gpuAppClocks',
    label: 'GPU application clocks',
    hint: 'SM / memory, where set or locked',
    text: (c) => perGpu(c, (g) => (g.appSmClockMHz === undefined && g.appMemClockMHz === undefined ? null : `${mhz(g.appSmClockMHz) ?? '?'} / ${mhz(g.appMemClockMHz) ?? '?'}`)),
  },
  { key: 'gpuPowerLimit', label: 'GPU power limit', text: (c) => perGpu(c, (g) => (finite(g.powerLimitW) ? formatValue(g.powerLimitW, 'W') : null)) },
  { key: 'gpuPersistence', label: 'GPU persistence mode', text: (c) => perGpu(c, (g) => onOff(g.persistenceMode)) },
  { key: 'gpuPstate', label: 'GPU P-state at start', text: (c) => perGpu(c, (g) => (finite(g.pstate) ? `P${g.pstate}` : null)) },
  {
    key: 'gpuDriver',
    label: 'GPU driver',
    text: (c) => (c.gpuDriver === undefined && c.cudaVersion === undefined ? null : [c.gpuDriver, c.cudaVersion !== undefined ? `CUDA ${c.cudaVersion}` : undefined].filter(Boolean).join(' · ')),
  },
  { key: 'startTempC', label: 'Temperature at start', hint: 'hottest sensor', text: (c) => (finite(c.startTempC) ? formatValue(c.startTempC, '°C') : null) },
  { key: 'throttleAtStart', label: 'Throttling at start', text: (c) => (c.throttleAtStart === undefined ? null : c.throttleAtStart.length ? c.throttleAtStart.join(', ') : 'none') },
  { key: 'kernel', label: 'Kernel', text: (c) => c.kernel ?? null },
  { key: 'agentVersion', label: 'Agent version', text: (c) => c.agentVersion ?? null },
];

/**
 * The run conditions as rows (section Conditions), each only where some experiment has it;
 * `differs` where the experiments that have it do not all agree.
 */
export function conditionRows(exps: readonly ExperimentStats[]): CompareRow[] {
  const rows: CompareRow[] = [];
  for (const spec of CONDITIONS) {
    const texts = exps.map((e) => (e.conditions ? spec.text(e.conditions) : null));
    if (texts.every((t) => t === null)) continue;
    const distinct = new Set(texts.filter((t) => t !== null));
    rows.push({
      key: `cond.${spec.key}`,
      label: spec.label,
      section: 'Conditions',
      hint: spec.hint,
      differs: distinct.size > 1,
      cells: texts.map((t) => ({ text: t ?? DASH, value: null, tone: distinct.size > 1 && t !== null ? 'neutral' : undefined })),
    });
  }
  return rows;
}

/** The tags, "key=value" one per line, where any experiment has some. */
export function tagRow(exps: readonly ExperimentStats[]): CompareRow | null {
  if (!exps.some((e) => Object.keys(e.tags ?? {}).length > 0)) return null;
  return {
    key: 'tags',
    label: 'Tags',
    section: 'Run',
    wrap: true,
    cells: exps.map((e) => {
      const entries = Object.entries(e.tags ?? {});
      return { text: entries.length ? entries.map(([k, v]) => `${k}=${v}`).join('\n') : DASH, value: null };
    }),
  };
}
