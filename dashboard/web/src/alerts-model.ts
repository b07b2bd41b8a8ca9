// The alerts page's logic without the DOM: rule templates, reading the rule form, and the words
// and numbers each row shows. Unit-testable in node.
import { describeMetric, type Unit } from '../../../shared/catalog.js';
import { formatValue } from '../../../shared/format.js';
import {
  describeCondition,
  formatForMs,
  formatNumber,
  type AlertEvent,
  type AlertRule,
  type AlertRuleInput,
  type ThresholdOp,
} from '../../../shared/alerts.js';

/** A one-click starting point for a rule: the form is filled in, the user may adjust and save. */
export interface RuleTemplate {
  id: string;
  label: string;
  hint: string;
  input: AlertRuleInput;
}

const MIN = 60_000;
const everyDevice = { enabled: true, device: null } as const;

export const TEMPLATES: readonly RuleTemplate[] = [
  {
    id: 'disk-full',
    label: 'Disk almost full',
    hint: 'Any filesystem above 90 % for 5 min',
    input: { ...everyDevice, name: 'Disk almost full', kind: 'threshold', metric: 'fs.*.util', op: 'above', value: 90, forMs: 5 * MIN },
  },
  {
    id: 'gpu-hot',
    label: 'GPU hot',
    hint: 'Any GPU above 85 °C for 1 min',
    input: { ...everyDevice, name: 'GPU hot', kind: 'threshold', metric: 'gpu.*.temp', op: 'above', value: 85, forMs: MIN },
  },
  {
    id: 'board-hot',
    label: 'Board hot',
    hint: 'Any board or SoC sensor above 80 °C for 1 min',
    input: { ...everyDevice, name: 'Board hot', kind: 'threshold', metric: 'temp.*', op: 'above', value: 80, forMs: MIN },
  },
  {
    id: 'pi-under-voltage',
    label: 'Pi under-voltage',
    hint: 'The Pi firmware reports under-voltage now',
    input: { ...everyDevice, name: 'Pi under-voltage', kind: 'threshold', metric: 'pi.throttle.under_voltage', op: 'above', value: 0.5, forMs: 0 },
  },
  {
    id: 'pi-throttled',
    label: 'Pi throttled',
    hint: 'The Pi firmware is throttling the CPU now',
    input: { ...everyDevice, name: 'Pi throttled', kind: 'threshold', metric: 'pi.throttle.throttled', op: 'above', value: 0.5, forMs: 0 },
  },
  {
    id: 'offline',
    label: 'Device offline',
    hint: 'No agent connected for 2 min',
    input: { ...everyDevice, name: 'Device offline', kind: 'offline', forMs: 2 * MIN },
  },
  {
    id: 'cpu-busy',
    label: 'CPU saturated',
    hint: 'CPU above 95 % for 5 min',
    input: { ...everyDevice, name: 'CPU saturated', kind: 'threshold', metric: 'cpu.util', op: 'above', value: 95, forMs: 5 * MIN },
  },
  {
    id: 'memory-full',
    label: 'Memory almost full',
    hint: 'Memory above 90 % for 5 min',
    input: { ...everyDevice, name: 'Memory almost full', kind: 'threshold', metric: 'mem.util', op: 'above', value: 90, forMs: 5 * MIN },
  },
];

export type DurationUnit = 's' | 'min' | 'h';
export const DURATION_UNITS: readonly { unit: DurationUnit; label: string; ms: number }[] = [
  { unit: 's', label: 'seconds', ms: 1000 },
  { unit: 'min', label: 'minutes', ms: MIN },
  { unit: 'h', label: 'hours', ms: 60 * MIN },
];
const MAX_FOR_MS = 7 * 24 * 60 * MIN;

/** forMs as the form shows it: the largest unit that divides it evenly. */
export function splitDuration(ms: number): { amount: string; unit: DurationUnit } {
  for (const u of [...DURATION_UNITS].reverse()) {
    if (ms > 0 && ms % u.ms === 0) return { amount: String(ms / u.ms), unit: u.unit };
  }
  return { amount: String(Math.round(ms / 1000)), unit: 's' };
}

/** What the rule form holds, as text, the way the inputs give it. */
export interface RuleFormFields {
  name: string;
  kind: string;
  metric: string;
  op: string;
  value: string;
  forAmount: string;
  forUnit: string;
  device: string;
  enabled: boolean;
}

export type FormResult = { ok: true; input: AlertRuleInput } | { ok: false; field: keyof RuleFormFields; message: string };

const METRIC_GLOB_RE = /^(\*|[a-z0-9_]+)(\.(\*|[a-z0-9_]+))*$/;

/** Checks the form the way the hub will, so most mistakes are named before a round trip. */
export function readRuleForm(f: RuleFormFields): FormResult {
  const name = f.name.trim();
  if (name === '') return { ok: false, field: 'name', message: 'Give the rule a name.' };
  if (name.length > 100) return { ok: false, field: 'name', message: 'The name is longer than 100 characters.' };
  const unit = DURATION_UNITS.find((u) => u.unit === f.forUnit);
  const amount = Number(f.forAmount.trim() === '' ? '0' : f.forAmount);
  if (!unit || !Number.isFinite(amount) || amount < 0) return { ok: false, field: 'forAmount', message: '"For" must be a duration of 0 or more.' };
  const forMs = Math.round(amount * unit.ms);
  if (forMs > MAX_FOR_MS) return { ok: false, field: 'forAmount', message: '"For" can be at most 7 days.' };
  const common = { name, enabled: f.enabled, device: f.device === '' ? null : f.device, forMs };
  if (f.kind === 'offline') return { ok: true, input: { ...common, kind: 'offline' } };
  if (f.kind !== 'threshold') return { ok: false, field: 'kind', message: 'Pick what the rule watches.' };
  const metric = f.metric.trim();
  if (!METRIC_GLOB_RE.test(metric) || metric.length > 128) {
    return { ok: false, field: 'metric', message: 'The metric is a name such as cpu.util, or a pattern with * for one segment, such as gpu.*.temp.' };
  }
  if (f.op !== 'above' && f.op !== 'below') return { ok: false, field: 'op', message: 'Pick above or below.' };
  const value = Number(f.value);
  if (f.value.trim() === '' || !Number.isFinite(value)) return { ok: false, field: 'value', message: 'The threshold must be a number.' };
  return { ok: true, input: { ...common, kind: 'threshold', metric, op: f.op as ThresholdOp, value } };
}

/** The form's fields for a rule (or a template). */
export function ruleFormFields(r: AlertRuleInput): RuleFormFields {
  const d = splitDuration(r.forMs);
  return {
    name: r.name,
    kind: r.kind,
    metric: r.kind === 'threshold' ? r.metric : '',
    op: r.kind === 'threshold' ? r.op : 'above',
    value: r.kind === 'threshold' ? String(r.value) : '',
    forAmount: d.amount,
    forUnit: d.unit,
    device: r.device ?? '',
    enabled: r.enabled,
  };
}

/** The unit of a metric name or pattern (`gpu.*.temp` → °C), from the catalog. */
export function metricUnit(metric: string | null): Unit | undefined {
  if (!metric) return undefined;
  // `0` fits every placeholder, numeric or not.
  return describeMetric(metric.replace(/\*/g, '0'))?.spec.unit;
}

/** "gpu.*.temp above 85 °C for 1 min" — the threshold with its unit where the catalog has one. */
export function conditionText(r: Pick<AlertRule, 'kind' | 'forMs'> & Partial<{ metric: string; op: ThresholdOp; value: number }>): string {
  if (r.kind === 'offline') return describeCondition({ kind: 'offline', forMs: r.forMs });
  const shown = thresholdText(r.value ?? 0, metricUnit(r.metric ?? null));
  return `${r.metric ?? '?'} ${r.op ?? 'above'} ${shown}${r.forMs > 0 ? ` for ${formatForMs(r.forMs)}` : ''}`;
}

/** A threshold as typed, with its unit: "85 °C", "90 %", "512 MiB" (sizes read better scaled). */
export function thresholdText(value: number, unit: Unit | undefined): string {
  switch (unit) {
    case 'bytes':
    case 'B/s':
      return formatValue(value, unit);
    case '/s':
      return `${formatNumber(value)}/s`;
    case '%':
    case '°C':
    case 'W':
    case 'V':
    case 'A':
    case 'ms':
    case 'MHz':
    case 'rpm':
      return `${formatNumber(value)} ${unit}`;
    default:
      return formatNumber(value);
  }
}

/** The value an event reports, with its unit: "91.5 °C", "offline 3 min", "—". */
export function eventValueText(e: Pick<AlertEvent, 'kind' | 'metric' | 'value'>): string {
  if (e.value === null) return '—';
  if (e.kind === 'offline') return `offline ${formatForMs(e.value * 1000)}`;
  const unit = metricUnit(e.metric);
  return unit === 'flag' ? formatNumber(e.value) : formatValue(e.value, unit);
}

/** The condition an event was judged by, from the copy the event keeps. */
export function eventConditionText(e: Pick<AlertEvent, 'kind' | 'metric' | 'op' | 'threshold' | 'forMs'>): string {
  return conditionText({ kind: e.kind, forMs: e.forMs, metric: e.metric ?? '?', op: e.op ?? 'above', value: e.threshold ?? 0 });
}

/** The rule's test without the metric, for a row that names the metric already: "above 85 °C for 1 min". */
export function eventTestText(e: Pick<AlertEvent, 'kind' | 'metric' | 'op' | 'threshold' | 'forMs'>): string {
  if (e.kind === 'offline') return describeCondition({ kind: 'offline', forMs: e.forMs });
  return `${e.op ?? 'above'} ${thresholdText(e.threshold ?? 0, metricUnit(e.metric))}${e.forMs > 0 ? ` for ${formatForMs(e.forMs)}` : ''}`;
}

export type DeliveryTone = 'ok' | 'bad' | 'wait' | 'none';

/** How the webhook delivery of an event went, in words, and its colour. */
export function deliveryText(e: Pick<AlertEvent, 'delivery' | 'attempts' | 'lastError'>): { text: string; tone: DeliveryTone; title: string } {
  const tries = `${e.attempts} attempt${e.attempts === 1 ? '' : 's'}`;
  switch (e.delivery) {
    case 'delivered':
      return { text: e.attempts > 1 ? `delivered (${tries})` : 'delivered', tone: 'ok', title: e.attempts > 1 && e.lastError ? e.lastError : '' };
    case 'pending':
      return { text: 'sending…', tone: 'wait', title: '' };
    case 'retrying':
      return { text: `retrying (${tries})`, tone: 'wait', title: e.lastError ?? '' };
    case 'failed':
      return { text: `failed (${tries})`, tone: 'bad', title: e.lastError ?? '' };
    default:
      return { text: 'no webhook', tone: 'none', title: e.lastError ?? 'No webhook URL was set when this happened.' };
  }
}

/** "every device" or the device's name. */
export function scopeText(device: string | null, names: ReadonlyMap<string, string>): string {
  if (device === null) return 'every device';
  return names.get(device) ?? device;
}

/** Text for how long something has lasted: "for 3 min", "for 45 s". */
export function lastingText(since: number, now: number): string {
  return formatForMs(Math.max(0, Math.floor((now - since) / 1000) * 1000));
}

/** Metric names to suggest in the form: the templates' patterns, then every name devices send. */
export function metricSuggestions(latest: Iterable<Record<string, number> | undefined>): string[] {
  const names = new Set<string>();
  for (const t of TEMPLATES) if (t.input.kind === 'threshold') names.add(t.input.metric);
  const seen = new Set<string>();
  for (const m of latest) for (const name of Object.keys(m ?? {})) seen.add(name);
  return [...names, ...[...seen].sort().filter((n) => !names.has(n))].slice(0, 2000);
}
