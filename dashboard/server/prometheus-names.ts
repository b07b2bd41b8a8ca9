// How an edgewatch metric name becomes a Prometheus series: each catalog pattern
// (shared/catalog.ts) is one metric family. Its fixed segments make the family name, its
// <placeholders> become labels, and its unit becomes a base-unit suffix with the value
// converted to match (% → ratio, MHz → hertz, ms → seconds). Names the catalog does not know
// (an agent newer than this hub) are kept, under one generic family with the original name in
// a `metric` label, rather than dropped.
import { describeMetric, METRIC_CATALOG, type MetricSpec, type Unit } from '../../shared/catalog.js';
import { escapeLabelValue } from './prometheus-format.js';

export const NAME_PREFIX = 'edgewatch_';
/** Every per-device series carries the device id under this label. */
export const DEVICE_LABEL = 'device';

export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
}

export interface CatalogFamily extends Family {
  readonly pattern: string;
  /** The pattern's placeholders (`n`, `iface`…) and, at the same index, the label each becomes. */
  readonly placeholders: readonly string[];
  readonly labels: readonly string[];
  readonly convert: (value: number) => number;
}

interface UnitRule {
  readonly suffix: string;
  readonly convert: (value: number) => number;
}

const same = (v: number): number => v;

// Scaling a decimal by a power of ten in binary floating point leaves noise in the last digit
// (0.07 % / 100 = 0.0007000000000000001, 1.001 MHz × 1e6 = 1000999.9999999999). Rounding to an
// integer count of a fine step first, then dividing by an exact power of ten, gives the double
// that prints as the plain decimal. Steps: 1e-8 of a ratio, 1 Hz, 1 ns.
const percentToRatio = (v: number): number => Math.round(v * 1e6) / 1e8;
const megahertzToHertz = (v: number): number => Math.round(v * 1e6);
const msToSeconds = (v: number): number => Math.round(v * 1e6) / 1e9;

// A Record over Unit: a unit added to the catalog fails the type check here until it has a rule.
const UNIT_RULES: Record<Unit, UnitRule> = {
  '%': { suffix: '_ratio', convert: percentToRatio },
  bytes: { suffix: '_bytes', convert: same },
  'B/s': { suffix: '_bytes_per_second', convert: same },
  '°C': { suffix: '_celsius', convert: same },
  W: { suffix: '_watts', convert: same },
  MHz: { suffix: '_hertz', convert: megahertzToHertz },
  V: { suffix: '_volts', convert: same },
  A: { suffix: '_amperes', convert: same },
  ms: { suffix: '_seconds', convert: msToSeconds },
  '/s': { suffix: '_per_second', convert: same },
  // Fan speed stays in rpm, as node_exporter's hwmon collector exports it.
  rpm: { suffix: '_rpm', convert: same },
  // Dimensionless: a load average, a count, a 0/1 flag.
  load: { suffix: '', convert: same },
  count: { suffix: '', convert: same },
  flag: { suffix: '', convert: same },
};

/** Segments spelled out where the short form would read badly next to a unit (`volt_volts`). */
const SEGMENT_RENAMES: Readonly<Record<string, string>> = { infer: 'inference', volt: 'voltage', freq: 'frequency', procs: 'processes' };

/** Family base names (before the unit suffix) that the derivation would get wrong. */
const BASE_OVERRIDES: Readonly<Record<string, string>> = {
  // `rate` is "calls per second"; deriving would leave a bare `inference_per_second`.
  'infer.<model>.rate': 'inference_calls',
  // A `_count` suffix is reserved for histograms and summaries.
  'procs.count': 'processes',
  // promtool reads a `bits` token as a unit (and wants bytes); this is the firmware's raw word.
  'pi.throttle.bits': 'pi_get_throttled',
};

/** Placeholders too generic to be a label name: they take the segment before them (`core`, `gpu`, `battery`). */
const CONTEXT_PLACEHOLDERS = new Set(['n', 'i', 'name']);

const PLACEHOLDER = /^<([a-z]+)>$/;

/** The Prometheus family for one catalog entry. Exported for the tests. */
export function familyFor(spec: MetricSpec): CatalogFamily {
  const segments = spec.pattern.split('.');
  const fixed: string[] = [];
  const placeholders: string[] = [];
  const labels: string[] = [];
  segments.forEach((segment, idx) => {
    const placeholder = PLACEHOLDER.exec(segment)?.[1];
    if (placeholder === undefined) {
      fixed.push(SEGMENT_RENAMES[segment] ?? segment);
      return;
    }
    placeholders.push(placeholder);
    const before = segments[idx - 1];
    labels.push(CONTEXT_PLACEHOLDERS.has(placeholder) && before !== undefined && !PLACEHOLDER.test(before) ? before : placeholder);
  });
  const rule = UNIT_RULES[spec.unit];
  let base = BASE_OVERRIDES[spec.pattern] ?? fixed.join('_');
  // The unit suffix says it already: `read_bps` → `read_bytes_per_second`, `items_rate` → `items_per_second`.
  if (spec.unit === 'B/s') base = base.replace(/_bps$/, '');
  if (spec.unit === '/s') base = base.replace(/_rate$/, '');
  return {
    name: `${NAME_PREFIX}${base}${rule.suffix}`,
    help: spec.description,
    type: 'gauge',
    pattern: spec.pattern,
    placeholders,
    labels,
    convert: rule.convert,
  };
}

/** One family per catalog entry, in catalog order (which is the order they are exported in). */
export const CATALOG_FAMILIES: readonly CatalogFamily[] = METRIC_CATALOG.map(familyFor);

export const UNCATALOGUED_FAMILY: Family = {
  name: `${NAME_PREFIX}uncatalogued_value`,
  help: "Latest value of a metric this hub's catalog does not know (an agent newer than the hub), in the unit the agent sent; its edgewatch name is in the metric label",
  type: 'gauge',
};
/** Index of the generic family, after the catalog's. */
export const UNCATALOGUED_INDEX = CATALOG_FAMILIES.length;

export interface SeriesName {
  /** Index into CATALOG_FAMILIES, or UNCATALOGUED_INDEX. */
  readonly family: number;
  /** The family name followed by `{device="`: the renderer adds the device id. */
  readonly head: string;
  /** The labels after the device's, already escaped, each starting with a comma. */
  readonly labels: string;
  readonly convert: (value: number) => number;
}

const familyIndex = new Map<MetricSpec, number>(METRIC_CATALOG.map((spec, idx) => [spec, idx]));
const seriesCache = new Map<string, SeriesName>();
/** Bounded like the catalog's own cache: names come from agents, so cap what they can make us keep. */
const MAX_CACHED_NAMES = 100_000;

/** The family, labels and conversion for one edgewatch metric name; cached per name. */
export function seriesNameOf(metric: string): SeriesName {
  const cached = seriesCache.get(metric);
  if (cached !== undefined) return cached;
  const found = describeMetric(metric);
  let series: SeriesName;
  if (found) {
    const idx = familyIndex.get(found.spec)!;
    const family = CATALOG_FAMILIES[idx]!;
    const labels = family.labels.map((label, i) => `,${label}="${escapeLabelValue(found.params[family.placeholders[i]!] ?? '')}"`).join('');
    series = { family: idx, head: `${family.name}{${DEVICE_LABEL}="`, labels, convert: family.convert };
  } else {
    series = { family: UNCATALOGUED_INDEX, head: `${UNCATALOGUED_FAMILY.name}{${DEVICE_LABEL}="`, labels: `,metric="${escapeLabelValue(metric)}"`, convert: same };
  }
  if (seriesCache.size < MAX_CACHED_NAMES) seriesCache.set(metric, series);
  return series;
}
