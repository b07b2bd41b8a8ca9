// Batteries from /sys/class/power_supply/<name>/ (type `Battery`): charge as
// battery.<name>.capacity (%) and charge/discharge power as battery.<name>.power (W, negative
// while discharging). Batteries and the files each one has are chosen once at start; each tick
// reads capacity, status and the power file(s).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { metricSegment, uniqueSegment } from '../../shared/catalog.js';
import type { Logger } from '../../shared/log.js';
import type { Collector, CollectorContext, CollectorFactory, MetricValues } from './collector.js';
import { readText } from './sysfs.js';

/** How a battery's charge is read: `capacity` (%), or a now/full pair of energy or charge. */
type CapacitySource = { readonly percent: string } | { readonly now: string; readonly full: string };

/** How its power is read: power_now (µW), or current_now (µA) × voltage_now (µV). */
type PowerSource = { readonly microwatts: string } | { readonly microamps: string; readonly microvolts: string };

interface Battery {
  readonly dir: string;
  readonly capacityMetric: string;
  readonly powerMetric: string;
  readonly capacity: CapacitySource | undefined;
  readonly power: PowerSource | undefined;
}

export const batteryCollector: CollectorFactory = {
  name: 'battery',
  async detect(ctx) {
    const batteries = listBatteries(ctx);
    if (batteries.length === 0) return null;
    ctx.log.debug({ batteries: batteries.map((b) => b.dir) }, 'batteries');
    return new BatteryCollector(batteries, ctx.log);
  },
};

function listBatteries(ctx: CollectorContext): Battery[] {
  const classDir = join(ctx.sysRoot, 'class/power_supply');
  let names: string[];
  try {
    names = readdirSync(classDir).sort();
  } catch {
    return [];
  }
  const taken = new Set<string>();
  const batteries: Battery[] = [];
  for (const name of names) {
    const dir = join(classDir, name);
    const attr = (file: string) => readText(join(dir, file))?.trim();
    if (attr('type') !== 'Battery') continue;
    // scope=Device marks a peripheral's battery (a wireless mouse or a gamepad via hid): it
    // comes and goes with the peripheral and says nothing about the device's own power.
    if (attr('scope') === 'Device') {
      ctx.log.debug({ dir }, 'battery of a peripheral; skipped');
      continue;
    }
    const capacity = capacitySource(attr);
    const power = powerSource(attr);
    if (!capacity && !power) {
      ctx.log.debug({ dir }, 'battery reports neither capacity nor power; skipped');
      continue;
    }
    const segment = uniqueSegment(metricSegment(name), taken);
    batteries.push({ dir, capacityMetric: `battery.${segment}.capacity`, powerMetric: `battery.${segment}.power`, capacity, power });
  }
  return batteries;
}

function capacitySource(attr: (file: string) => string | undefined): CapacitySource | undefined {
  if (attr('capacity') !== undefined) return { percent: 'capacity' };
  // Drivers that omit `capacity` report energy (µWh, smart batteries) or charge (µAh, fuel gauges).
  for (const unit of ['energy', 'charge']) {
    if (attr(`${unit}_now`) !== undefined && attr(`${unit}_full`) !== undefined) return { now: `${unit}_now`, full: `${unit}_full` };
  }
  return undefined;
}

function powerSource(attr: (file: string) => string | undefined): PowerSource | undefined {
  if (attr('power_now') !== undefined) return { microwatts: 'power_now' };
  if (attr('current_now') !== undefined && attr('voltage_now') !== undefined) return { microamps: 'current_now', microvolts: 'voltage_now' };
  return undefined;
}

function integer(text: string | undefined): number | undefined {
  const s = text?.trim();
  return s !== undefined && /^-?\d+$/.test(s) ? Number(s) : undefined;
}

class BatteryCollector implements Collector {
  readonly name = 'battery';
  private readonly failing = new Set<string>();

  constructor(
    private readonly batteries: readonly Battery[],
    private readonly log: Logger,
  ) {}

  sample(_now: number, out: MetricValues): void {
    for (const b of this.batteries) {
      this.put(out, b.capacityMetric, b.capacity && this.capacity(b.dir, b.capacity), b.dir);
      this.put(out, b.powerMetric, b.power && this.power(b.dir, b.power), b.dir);
    }
  }

  private put(out: MetricValues, metric: string, value: number | undefined, dir: string): void {
    if (value !== undefined) {
      this.failing.delete(metric);
      out[metric] = value;
      return;
    }
    // Logged when a value stops being readable, not every tick while it stays so.
    if (!this.failing.has(metric)) this.log.debug({ dir, metric }, 'no battery reading; left out');
    this.failing.add(metric);
  }

  private read(dir: string, file: string): number | undefined {
    return integer(readText(join(dir, file)));
  }

  private capacity(dir: string, source: CapacitySource): number | undefined {
    let percent: number | undefined;
    if ('percent' in source) percent = this.read(dir, source.percent);
    else {
      const now = this.read(dir, source.now);
      const full = this.read(dir, source.full);
      percent = now !== undefined && full !== undefined && full > 0 ? (now * 100) / full : undefined;
    }
    // Gauges recalibrating can briefly report past 100 %; that is no charge level.
    return percent !== undefined && percent >= 0 && percent <= 100 ? percent : undefined;
  }

  private power(dir: string, source: PowerSource): number | undefined {
    let watts: number | undefined;
    if ('microwatts' in source) {
      const uw = this.read(dir, source.microwatts);
      watts = uw === undefined ? undefined : uw / 1e6;
    } else {
      const ua = this.read(dir, source.microamps);
      const uv = this.read(dir, source.microvolts);
      watts = ua === undefined || uv === undefined ? undefined : (ua * uv) / 1e12;
    }
    if (watts === undefined || watts === 0) return watts;
    // Most ACPI batteries report power unsigned in both directions; some fuel gauges sign
    // current_now themselves. The status decides where it says; otherwise the driver's sign stands.
    const status = readText(join(dir, 'status'))?.trim();
    if (status === 'Discharging') return -Math.abs(watts);
    if (status === 'Charging') return Math.abs(watts);
    return watts;
  }
}
