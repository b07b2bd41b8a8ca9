// Temperatures of the kernel's thermal zones: /sys/class/thermal/thermal_zone*/{type,temp}.
// Zones are listed once at start (they are fixed by the device tree or ACPI); each tick reads
// one small `temp` file per zone.
import { join } from 'node:path';
import { metricSegment, uniqueSegment } from '../../shared/catalog.js';
import type { Logger } from '../../shared/log.js';
import type { Collector, CollectorContext, CollectorFactory, MetricValues } from './collector.js';
import { listNumbered, readText } from './sysfs.js';

/**
 * Zones whose `temp` is not a measurement. Tegra boards' PMIC-Die zone is backed by the
 * MAX77620's junction-temperature alarm, which only says which threshold was crossed: it
 * reads a constant 100000 (100 °C) until the 120 °C alarm trips.
 */
const NOT_A_MEASUREMENT = /^pmic[-_]die$/i;

// Bounds of a plausible reading. Below: −273.15 °C placeholders, and the −256 °C that Jetson
// Orin reports for powered-down sensors (tegrastats shows `CV0@-256C`); nothing on an edge
// device runs colder than −100 °C. Above: 65261.85 °C (0xFFFF in NVMe kelvin) and other
// garbage; silicon shuts down long before 200 °C.
const MIN_CELSIUS = -100;
const MAX_CELSIUS = 200;

/**
 * A sysfs temperature file (millidegrees Celsius) as °C, or undefined when it is not a
 * temperature: unreadable, not an integer, or outside what any sensor can really read.
 */
export function parseMilliCelsius(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const s = text.trim();
  if (!/^-?\d+$/.test(s)) return undefined;
  const celsius = Number(s) / 1000;
  return isPlausibleCelsius(celsius) ? celsius : undefined;
}

/** Whether a temperature in °C can be a real reading; shared with the `sensors` parser. */
export function isPlausibleCelsius(celsius: number): boolean {
  return celsius > MIN_CELSIUS && celsius <= MAX_CELSIUS;
}

export interface ThermalZone {
  /** e.g. `thermal_zone0` */
  readonly dir: string;
  /** As the kernel writes it, e.g. `CPU-therm`; `thermal_zoneN` when unreadable. */
  readonly type: string;
}

/** Thermal zones in numeric order (zone10 after zone9), or [] when there are none. */
export function listThermalZones(sysRoot: string): ThermalZone[] {
  const dir = join(sysRoot, 'class/thermal');
  return listNumbered(dir, /^thermal_zone(\d+)$/).map(({ name }) => ({
    dir: join(dir, name),
    type: readText(join(dir, name, 'type'))?.trim() || name,
  }));
}

export interface TempSensor {
  readonly metric: string;
  readonly path: string;
  failing: boolean;
}

export const thermalCollector: CollectorFactory = {
  name: 'thermal',
  async detect(ctx) {
    const sensors = thermalSensors(ctx);
    if (sensors.length === 0) return null;
    ctx.log.debug({ sensors: sensors.map((s) => s.metric) }, 'thermal zones');
    return new TempCollector('thermal', sensors, ctx.log);
  },
};

function thermalSensors(ctx: CollectorContext): TempSensor[] {
  const taken = new Set<string>();
  const sensors: TempSensor[] = [];
  for (const zone of listThermalZones(ctx.sysRoot)) {
    if (NOT_A_MEASUREMENT.test(zone.type)) {
      ctx.log.debug({ zone: zone.dir, type: zone.type }, 'thermal zone reports an alarm level, not a temperature; skipped');
      continue;
    }
    sensors.push({ metric: `temp.${uniqueSegment(metricSegment(zone.type), taken)}`, path: join(zone.dir, 'temp'), failing: false });
  }
  return sensors;
}

/** Reads a fixed list of millidegree files each tick; shared with the hwmon collector. */
export class TempCollector implements Collector {
  constructor(
    readonly name: string,
    private readonly sensors: readonly TempSensor[],
    private readonly log: Logger,
  ) {}

  sample(_now: number, out: MetricValues): void {
    for (const s of this.sensors) {
      const raw = readText(s.path);
      const celsius = parseMilliCelsius(raw);
      if (celsius === undefined) {
        // Logged when a sensor stops giving readings, not every second while it stays so.
        if (!s.failing) this.log.debug({ path: s.path, raw: raw?.trim().slice(0, 40) ?? null }, 'no temperature reading; left out');
        s.failing = true;
        continue;
      }
      s.failing = false;
      out[s.metric] = celsius;
    }
  }
}
