// lm-sensors' readings straight from hwmon: /sys/class/hwmon/hwmon*/{name,<input files>} as
// temp.<chip>_<label> (°C), fan.<chip>_<label> (rpm) and .pwm (%), volt.<chip>_<label> (V),
// current.<chip>_<label> (A) and power.hwmon.<chip>_<label> (W), e.g. temp.coretemp_package_id_0,
// volt.k10temp_vcore. Chips and their inputs are listed once at start; each tick reads one file
// per input.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { metricSegment } from '../../shared/catalog.js';
import type { Logger } from '../../shared/log.js';
import type { Collector, CollectorContext, CollectorFactory, MetricValues } from './collector.js';
import { chipInputs, type HwmonInput } from './hwmon-inputs.js';
import { HwmonNamer } from './hwmon-names.js';
import { listNumbered, readText } from './sysfs.js';
import { listThermalZones } from './thermal.js';

/**
 * Chips another collector owns. The INA3221 is the Jetson's power monitor: the Jetson
 * collector reports its channels as named rails (power.rail.vdd_in…), which hwmon's
 * in/curr/power files would only repeat under chip-generic names.
 */
const OWNED_ELSEWHERE = new Set(['ina3221']);

export const hwmonCollector: CollectorFactory = {
  name: 'hwmon',
  async detect(ctx) {
    const inputs = hwmonInputs(ctx);
    if (inputs.length === 0) return null;
    ctx.log.debug({ inputs: inputs.map((s) => s.metric) }, 'hwmon inputs');
    return new HwmonCollector(inputs, ctx.log);
  },
};

function hwmonInputs(ctx: CollectorContext): HwmonInput[] {
  const classDir = join(ctx.sysRoot, 'class/hwmon');
  // The kernel's thermal core registers every thermal zone as an hwmon chip too, named after
  // the zone type with `-` made `_` (a Pi's `cpu-thermal` zone is the `cpu_thermal` chip,
  // x86's `acpitz` both). Those repeat what the thermal collector already reports.
  const zoneNames = new Set(listThermalZones(ctx.sysRoot).map((z) => metricSegment(z.type)));
  const namer = new HwmonNamer();
  const inputs: HwmonInput[] = [];
  for (const { name } of listNumbered(classDir, /^hwmon(\d+)$/)) {
    const chipDir = attributeDir(join(classDir, name));
    const chip = readText(join(chipDir, 'name'))?.trim();
    if (!chip) {
      ctx.log.debug({ chip: chipDir }, 'hwmon chip has no name; skipped (its metric names would not be stable)');
      continue;
    }
    if (zoneNames.has(metricSegment(chip))) {
      ctx.log.debug({ chip, dir: chipDir }, 'hwmon chip mirrors a thermal zone; skipped');
      continue;
    }
    if (OWNED_ELSEWHERE.has(chip)) {
      ctx.log.debug({ chip, dir: chipDir }, 'hwmon chip is reported by another collector; skipped');
      continue;
    }
    inputs.push(...chipInputs(chipDir, chip, namer));
  }
  return inputs;
}

/** Kernels before 3.x put a chip's attributes in hwmonN/device/ rather than hwmonN/. */
function attributeDir(hwmonDir: string): string {
  return !existsSync(join(hwmonDir, 'name')) && existsSync(join(hwmonDir, 'device/name')) ? join(hwmonDir, 'device') : hwmonDir;
}

class HwmonCollector implements Collector {
  readonly name = 'hwmon';

  constructor(
    private readonly inputs: readonly HwmonInput[],
    private readonly log: Logger,
  ) {}

  sample(_now: number, out: MetricValues): void {
    for (const input of this.inputs) {
      const raw = readText(input.path);
      const value = raw === undefined ? undefined : input.convert(raw);
      if (value === undefined) {
        // Logged when an input stops giving readings, not every second while it stays so.
        if (!input.failing) this.log.debug({ path: input.path, raw: raw?.trim().slice(0, 40) ?? null }, 'no hwmon reading; left out');
        input.failing = true;
        continue;
      }
      input.failing = false;
      out[input.metric] = value;
    }
  }
}
