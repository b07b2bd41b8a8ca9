// Metric names and value checks for hwmon readings, shared by the hwmon collector and the
// `sensors` parser: lm-sensors reads the same chips through libsensors, so a reading must get
// the same name whichever way it arrived (temp.k10temp_tctl, volt.k10temp_vcore, …).
import { metricSegment, uniqueSegment } from '../../shared/catalog.js';
import { isPlausibleCelsius } from './thermal.js';

export type HwmonKind = 'temp' | 'fan' | 'volt' | 'current' | 'power';

const METRIC_PREFIX: Readonly<Record<HwmonKind, string>> = {
  temp: 'temp',
  fan: 'fan',
  volt: 'volt',
  current: 'current',
  power: 'power.hwmon',
};

// Bounds of a plausible reading per kind. Fans: 65535 is the all-ones 16-bit count several
// Super-I/O chips return for a stalled or absent tachometer when the driver does not filter
// it; the fastest server fans turn about 30 000 rpm. Voltages, currents and power: generous
// enough for server PSUs (pmbus reports mains input and 100+ A rails), tight enough to drop
// counters read as garbage.
const MAX_RPM = 65535;
const MAX_VOLTS = 1000;
const MAX_AMPS = 1000;
const MAX_WATTS = 100_000;

/**
 * Placeholders drivers and lm-sensors print where there is no value: 0xFFFF in NVMe kelvin
 * (65261.85 °C) and absolute zero. lm-sensors passes them through for any kind of feature.
 */
const SENTINELS = [65261.85, -273.15];

/** Whether `value` (in the catalog's unit for `kind`) can be a real reading. */
export function isPlausible(kind: HwmonKind, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  if (SENTINELS.some((s) => Math.abs(value - s) < 0.01)) return false;
  switch (kind) {
    case 'temp':
      return isPlausibleCelsius(value);
    case 'fan':
      return value >= 0 && value < MAX_RPM;
    case 'volt':
      return Math.abs(value) <= MAX_VOLTS;
    case 'current':
      return Math.abs(value) <= MAX_AMPS;
    case 'power':
      return Math.abs(value) <= MAX_WATTS;
  }
}

/**
 * Hands out metric names `<prefix>.<chip>_<label>`, unique per kind: a second chip of the
 * same name gets `_1` (nvme_composite_1). Kinds do not share a namespace, so adding fans or
 * voltages never renames a temperature.
 */
export class HwmonNamer {
  private readonly taken = new Map<HwmonKind, Set<string>>();

  /** The unique `<chip>_<label>` segment for a new input of `kind`. */
  segment(kind: HwmonKind, chip: string, label: string): string {
    let set = this.taken.get(kind);
    if (!set) this.taken.set(kind, (set = new Set()));
    return uniqueSegment(metricSegment(`${chip}_${label}`), set);
  }

  metric(kind: HwmonKind, chip: string, label: string): string {
    return metricName(kind, this.segment(kind, chip, label));
  }
}

export function metricName(kind: HwmonKind, segment: string): string {
  return `${METRIC_PREFIX[kind]}.${segment}`;
}
